"""The presence job sets readers offline when their heartbeats stop, and never one whose
heartbeat arrived after it looked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from tests.api.test_reader_applications import ADMIN, become_reader, events, seed_catalog, stored

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture()
def readers(api, make_user):
    seed_catalog()
    make_user(ADMIN, role="admin")
    for reader_id in ("user_r1", "user_r2", "user_r3"):
        become_reader(api, make_user, reader_id)
    return api


def _online(reader_id: str, at: datetime) -> None:
    from chalicelib.services import presence

    presence.set_online(reader_id, True, now=at)


def test_a_reader_silent_longer_than_the_timeout_goes_offline(readers):
    from chalicelib.services import presence

    _online("user_r1", T0)
    _online("user_r2", T0 + timedelta(seconds=200))

    assert presence.expire_stale(now=T0 + timedelta(seconds=300), timeout_s=300) == []  # exactly at the limit
    assert presence.expire_stale(now=T0 + timedelta(seconds=301), timeout_s=300) == ["user_r1"]

    gone, still = stored("user_r1"), stored("user_r2")
    assert (gone.is_online, gone.online_flag) == (False, None)
    assert gone.last_seen_at == "2030-05-01T12:00:00.000Z"  # the last heartbeat, not the job's time
    assert (still.is_online, still.online_flag) == (True, "online")
    timeouts = [e for e in events("reader.online_changed") if e["reason"] == "timeout"]
    assert [(e["reader_id"], e["is_online"]) for e in timeouts] == [("user_r1", False)]


def test_the_job_is_idempotent_and_ignores_offline_readers(readers):
    from chalicelib.services import presence

    _online("user_r1", T0)
    presence.set_online("user_r2", False, now=T0)  # never online: nothing to expire
    later = T0 + timedelta(hours=1)
    assert presence.expire_stale(now=later, timeout_s=300) == ["user_r1"]
    assert presence.expire_stale(now=later, timeout_s=300) == []
    assert len([e for e in events("reader.online_changed") if e["reason"] == "timeout"]) == 1


def test_a_heartbeat_that_lands_after_the_job_looked_wins(readers, monkeypatch):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import presence

    _online("user_r1", T0)
    index = ReaderProfile.online_readers
    real_query = index.query

    def query_then_heartbeat(*args, **kwargs):
        found = list(real_query(*args, **kwargs))  # the job's view: user_r1 last seen at T0
        _online("user_r1", T0 + timedelta(minutes=10))  # the reader's heartbeat arrives meanwhile
        return iter(found)

    monkeypatch.setattr(index, "query", query_then_heartbeat)
    assert presence.expire_stale(now=T0 + timedelta(minutes=10), timeout_s=300) == []
    assert stored("user_r1").is_online is True
    assert [e["reason"] for e in events("reader.online_changed")] == ["toggle"]


def test_a_reader_back_online_after_a_timeout_is_a_change_again(readers):
    from chalicelib.services import presence

    _online("user_r1", T0)
    presence.expire_stale(now=T0 + timedelta(minutes=6), timeout_s=300)
    again = presence.set_online("user_r1", True, now=T0 + timedelta(minutes=7))
    assert again.changed is True
    reasons = [(e["reason"], e["is_online"]) for e in events("reader.online_changed")]
    assert sorted(reasons) == [("timeout", False), ("toggle", True), ("toggle", True)]


def test_the_scheduled_function_uses_the_configured_timeout(readers, chalice_app):
    from chalicelib.config import get_settings

    assert get_settings().reader_presence_timeout_s == 300
    _online("user_r1", datetime.now(UTC) - timedelta(minutes=30))
    _online("user_r2", datetime.now(UTC) - timedelta(seconds=30))
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("reader_presence", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert response.payload == {"expired": 1}
    assert stored("user_r1").is_online is False and stored("user_r2").is_online is True
