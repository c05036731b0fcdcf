"""Reading reminders 24 h and 15 min before a scheduled reading: once each (reruns and
concurrent runs included), none for a cancelled reading, a moved one at its new time only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.models.base import iso
from tests.support.readings import MONDAY, book, make_client, make_reader, outbox_events

pytestmark = pytest.mark.usefixtures("default_catalog")

T0 = MONDAY  # Monday 08:00 UTC


@pytest.fixture()
def people(aws):
    make_client("cli", 500)
    make_reader("rdr")


def _accepted(start, *, now=T0):
    from chalicelib.services import readings
    from chalicelib.services.readings import reminders

    reading = book("cli", at=start, now=now)
    readings.accept(reading.reading_id, "rdr", "reader", now=now + timedelta(minutes=1))
    # What the reading.accepted consumer does when the event arrives.
    reminders.on_reading_scheduled({"type": "reading.accepted", "occurredAt": iso(now + timedelta(minutes=1)),
                                    "data": {"readingId": reading.reading_id}})
    return reading


def _run(at):
    from chalicelib.services.readings import reminders

    return reminders.run(at)


def _sent():
    return [(e["readingId"], e["minutesBefore"], e["scheduledStart"]) for e in outbox_events("reading.reminder_due")]


def test_reminders_24_hours_and_15_minutes_before_once_each(people):
    start = T0 + timedelta(hours=26)  # Tuesday 10:00
    reading = _accepted(start)
    assert _run(start - timedelta(hours=24, seconds=1))["reminded"] == 0
    assert _run(start - timedelta(hours=24))["reminded"] == 1
    assert _run(start - timedelta(hours=24))["reminded"] == 0  # a rerun sends nothing again
    assert _run(start - timedelta(minutes=16))["reminded"] == 0
    assert _run(start - timedelta(minutes=15))["reminded"] == 1
    assert _run(start)["reminded"] == 0
    scheduled = iso(start)
    assert _sent() == [(reading.reading_id, 1440, scheduled), (reading.reading_id, 15, scheduled)]
    event = outbox_events("reading.reminder_due")[0]
    assert (event["clientId"], event["readerId"]) == ("cli", "rdr")


def test_a_reminder_whose_time_had_passed_at_acceptance_is_not_sent(people):
    start = T0 + timedelta(hours=3)
    reading = _accepted(start)
    assert _run(start - timedelta(minutes=15))["reminded"] == 1
    assert _sent() == [(reading.reading_id, 15, iso(start))]  # no "24 hours before" 3 hours before


def test_concurrent_runs_send_each_reminder_once(people):
    from tests.support.threads import all_at_once

    start = T0 + timedelta(hours=26)
    _accepted(start)
    results = all_at_once(3, lambda _: _run(start - timedelta(hours=24)))
    assert sum(r["reminded"] for r in results) == 1
    assert len(_sent()) == 1


def test_no_reminder_for_a_cancelled_reading(people):
    from chalicelib.services import readings

    start = T0 + timedelta(hours=50)
    reading = _accepted(start)
    readings.cancel(reading.reading_id, "rdr", "reader", reason="Sorry, unwell", now=T0 + timedelta(hours=1))
    assert _run(start - timedelta(hours=24))["reminded"] == 0
    assert _run(start - timedelta(minutes=15))["reminded"] == 0
    assert _sent() == []


def test_a_moved_reading_is_reminded_at_its_new_time_only(people):
    from chalicelib.models.readings import Reading
    from chalicelib.services.readings import reminders

    start = T0 + timedelta(hours=30)
    reading = _accepted(start)
    moved_to = start + timedelta(hours=48)
    # The move (a reschedule) changes the start and emits reading.rescheduled.
    stored = Reading.get(reading.reading_id)
    stored.update(actions=[Reading.scheduled_start.set(iso(moved_to)),
                           Reading.scheduled_end.set(iso(moved_to + timedelta(hours=1)))])
    reminders.on_reading_scheduled({"type": "reading.rescheduled", "occurredAt": iso(T0 + timedelta(hours=2)),
                                    "data": {"readingId": reading.reading_id}})

    for at in (start - timedelta(hours=24), start - timedelta(minutes=15), start):
        assert _run(at)["reminded"] == 0  # the old time: nothing
    assert _run(moved_to - timedelta(hours=24))["reminded"] == 1
    assert _run(moved_to - timedelta(minutes=15))["reminded"] == 1
    assert _sent() == [(reading.reading_id, 1440, iso(moved_to)), (reading.reading_id, 15, iso(moved_to))]
