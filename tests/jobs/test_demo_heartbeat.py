"""On `make run` the demo readers the seed puts online keep a heartbeat, so the presence
job never empties "Online Now"; a demo reader who goes offline themselves stays offline."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.support.readings import MONDAY, make_reader


def _clock(start):
    moments = {"now": start}
    return moments, lambda: moments["now"]


def test_the_heartbeat_outlives_the_presence_timeout_and_respects_a_readers_own_toggle(aws):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import presence
    from tools.local.heartbeat import DemoHeartbeat

    for reader_id in ("kept", "toggled", "timed_out"):
        make_reader(reader_id)
    moments, clock = _clock(MONDAY)
    heartbeat = DemoHeartbeat(["kept", "toggled", "timed_out"], threading.Event(), interval_s=60, clock=clock)
    assert heartbeat.beat() == ["kept", "toggled", "timed_out"]

    presence.set_online("toggled", False, now=MONDAY + timedelta(minutes=1))  # the reader's own choice
    # "timed_out" missed its beats (a sleeping laptop): the presence job sets it offline.
    moments["now"] = MONDAY + timedelta(minutes=4)
    heartbeat.reader_ids = ["kept", "toggled"]
    heartbeat.beat()
    heartbeat.reader_ids = ["kept", "toggled", "timed_out"]
    expired = presence.expire_stale(now=MONDAY + timedelta(minutes=6), timeout_s=300)
    assert expired == ["timed_out"]

    moments["now"] = MONDAY + timedelta(minutes=7)
    assert heartbeat.beat() == ["kept", "timed_out"]
    online = {r.reader_id for r in ReaderProfile.online_readers.query("online")}
    assert online == {"kept", "timed_out"}
    assert presence.expire_stale(now=MONDAY + timedelta(minutes=10), timeout_s=300) == []


def test_the_seed_names_its_online_readers_for_the_heartbeat():
    from tools.seed import READERS, online_reader_ids, user_id

    assert online_reader_ids() == [user_id(r["handle"]) for r in READERS if r["online"]]
    assert online_reader_ids()  # "Online Now" has readers
