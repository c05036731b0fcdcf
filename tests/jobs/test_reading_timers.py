"""The reading timers job: unanswered requests expire and give the client's credits back,
accepted readings get one reminder an hour before they start, and a reader accepting at
the moment a request expires either wins or loses cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.support.readings import MONDAY, balance, book, make_client, make_reader, outbox_events, race, status_of

pytestmark = pytest.mark.usefixtures("default_catalog")

T0 = MONDAY  # Monday 08:00 UTC = 08:00 in Lisbon (the reader's schedule: weekdays 09:00-18:00)


@pytest.fixture()
def people(aws):
    make_client("cli", 500)
    make_reader("rdr")


def _timers(at: datetime) -> dict[str, int]:
    from chalicelib.services import readings

    return readings.run_timers(now=at)


def test_an_immediate_request_expires_after_ten_minutes_and_releases_the_hold(people):
    reading = book("cli", now=T0)
    assert balance("cli")[:2] == (500 - 57, 57)

    assert _timers(T0 + timedelta(minutes=10) - timedelta(seconds=1))["expired"] == 0
    assert status_of(reading.reading_id) == "requested"

    assert _timers(T0 + timedelta(minutes=10))["expired"] == 1
    assert status_of(reading.reading_id) == "expired"
    assert balance("cli")[:2] == (500, 0)
    assert [e["readingId"] for e in outbox_events("reading.expired")] == [reading.reading_id]

    assert _timers(T0 + timedelta(hours=1)) == {"expired": 0, "reminded": 0, "overdue": 0}  # idempotent
    assert balance("cli")[:2] == (500, 0)


def test_a_video_message_request_waits_a_day(people):
    reading = book("cli", option_type="video_message", now=T0)
    assert _timers(T0 + timedelta(hours=23, minutes=59))["expired"] == 0
    assert _timers(T0 + timedelta(hours=24))["expired"] == 1
    assert status_of(reading.reading_id) == "expired" and balance("cli")[:2] == (500, 0)


def test_a_scheduled_request_expires_at_its_start_or_after_a_day_whichever_is_sooner(people):
    soon = book("cli", at=T0 + timedelta(hours=2), now=T0)    # Monday 10:00: expires at the start
    later = book("cli", at=T0 + timedelta(hours=50), now=T0)  # Wednesday 10:00: expires a day after the request
    assert balance("cli")[:2] == (500 - 2 * 57, 2 * 57)

    assert _timers(T0 + timedelta(hours=2) - timedelta(seconds=1))["expired"] == 0
    assert _timers(T0 + timedelta(hours=2))["expired"] == 1
    assert (status_of(soon.reading_id), status_of(later.reading_id)) == ("expired", "requested")
    assert balance("cli")[:2] == (500 - 57, 57)

    assert _timers(T0 + timedelta(hours=24) - timedelta(seconds=1))["expired"] == 0
    assert _timers(T0 + timedelta(hours=24))["expired"] == 1
    assert status_of(later.reading_id) == "expired"
    assert balance("cli")[:2] == (500, 0)

    # The expired request's time is free again for anyone.
    make_client("ben", 100)
    again = book("ben", at=T0 + timedelta(hours=50), now=T0 + timedelta(hours=25))
    assert again.status == "requested"


def test_an_answered_request_does_not_expire(people):
    from chalicelib.services import readings

    accepted = book("cli", now=T0)
    declined = book("cli", now=T0)
    readings.accept(accepted.reading_id, "rdr", "reader", now=T0 + timedelta(minutes=5))
    readings.decline(declined.reading_id, "rdr", "reader", reason="Not today", now=T0 + timedelta(minutes=5))
    assert _timers(T0 + timedelta(hours=1))["expired"] == 0
    assert (status_of(accepted.reading_id), status_of(declined.reading_id)) == ("accepted", "declined")
    assert balance("cli")[:2] == (500 - 57, 0)


def test_accept_or_decline_after_the_deadline_is_refused_before_the_job_runs(people):
    from chalicelib.errors import Conflict
    from chalicelib.services import readings

    reading = book("cli", now=T0)
    deadline = T0 + timedelta(minutes=10)
    for attempt in (lambda: readings.accept(reading.reading_id, "rdr", "reader", now=deadline),
                    lambda: readings.decline(reading.reading_id, "rdr", "reader", reason="Too late", now=deadline),
                    lambda: readings.cancel(reading.reading_id, "rdr", "reader", reason="Too late", now=deadline)):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "request_expired"
    assert str(refused.value) == ("This request expired at 2026-11-30T08:10:00.000Z; "
                                  "it can no longer be declined.")
    with pytest.raises(Conflict, match="it can no longer be accepted"):
        readings.accept(reading.reading_id, "rdr", "reader", now=deadline)
    assert status_of(reading.reading_id) == "requested" and balance("cli")[:2] == (500 - 57, 57)  # nothing moved
    assert readings.allowed_actions(readings.get(reading.reading_id), "rdr", "reader", now=deadline) == []

    assert _timers(deadline)["expired"] == 1  # the job then expires it and releases the hold
    assert status_of(reading.reading_id) == "expired" and balance("cli")[:2] == (500, 0)


# The reader's accept reads the request a moment before its deadline (its clock); the job
# runs at the deadline. Whichever commits first wins; the other changes nothing.
JUST_IN_TIME = T0 + timedelta(minutes=9)
LATE = T0 + timedelta(minutes=11)


def test_accept_landing_between_the_job_s_read_and_its_write_wins(people, monkeypatch):
    from chalicelib.services.readings import common, timers

    reading = book("cli", now=T0)
    real_existing = common.existing
    accepted: list[str] = []

    def read_then_reader_accepts(reading_id):
        from chalicelib.services import readings

        seen = real_existing(reading_id)  # the job sees it requested and past its deadline
        if not accepted:
            accepted.append(readings.accept(reading_id, "rdr", "reader", now=JUST_IN_TIME).status)
        return seen

    monkeypatch.setattr(common, "existing", read_then_reader_accepts)
    assert timers.run_timers(now=LATE)["expired"] == 0
    assert accepted == ["accepted"] and status_of(reading.reading_id) == "accepted"
    assert balance("cli")[:2] == (500 - 57, 0)  # captured once, not released
    assert outbox_events("reading.expired") == []


def test_expiry_landing_between_accept_s_read_and_its_write_wins(people, monkeypatch):
    from chalicelib.errors import Conflict
    from chalicelib.services import readings
    from chalicelib.services.readings import common

    reading = book("cli", now=T0)
    real_get = common.get
    expired: list[str] = []

    def read_then_job_runs(reading_id):
        seen = real_get(reading_id)  # the reader's accept sees it requested
        if not expired:
            expired.append("running")
            expired[0] = readings.expire(reading_id, now=LATE).status
        return seen

    monkeypatch.setattr(common, "get", read_then_job_runs)
    with pytest.raises(Conflict) as lost:
        readings.accept(reading.reading_id, "rdr", "reader", now=JUST_IN_TIME)
    monkeypatch.undo()
    assert lost.value.code == "reading_changed"
    assert expired == ["expired"] and status_of(reading.reading_id) == "expired"
    assert balance("cli")[:2] == (500, 0)  # released, nothing captured
    assert outbox_events("reading.accepted") == []


def test_accept_racing_the_job_in_threads_one_wins(people, atomic_dynamodb):  # noqa: F811
    from chalicelib.errors import Conflict
    from chalicelib.services import readings

    ids = [book("cli", now=T0 + timedelta(seconds=n)).reading_id for n in range(6)]
    for reading_id in ids:
        accept, expire = race([lambda rid=reading_id: readings.accept(rid, "rdr", "reader", now=JUST_IN_TIME),
                               lambda rid=reading_id: readings.expire(rid, now=LATE)])
        accepted = getattr(accept, "status", None) == "accepted"
        if accepted:  # the job found it answered: nothing to do
            assert expire is None
        else:  # the job expired it first: the accept was refused (it read the reading before
            # the expiry committed: "changed"; after: an expired reading cannot be accepted)
            assert isinstance(accept, Conflict) and accept.code in {"reading_changed", "invalid_transition"}, accept
            assert expire is not None and expire.status == "expired", expire
        assert status_of(reading_id) == ("accepted" if accepted else "expired")
    won = sum(status_of(reading_id) == "accepted" for reading_id in ids)
    assert balance("cli")[:2] == (500 - 57 * won, 0)
    assert len(outbox_events("reading.accepted")) == won
    assert len(outbox_events("reading.expired")) == len(ids) - won


def test_one_reminder_an_hour_before_an_accepted_scheduled_reading(people, drain):
    from chalicelib.services import readings

    start = T0 + timedelta(hours=3)  # Monday 11:00
    reading = book("cli", at=start, now=T0)
    readings.accept(reading.reading_id, "rdr", "reader", now=T0 + timedelta(minutes=5))

    assert _timers(start - timedelta(hours=1, seconds=1))["reminded"] == 0
    assert _timers(start - timedelta(hours=1))["reminded"] == 1
    assert _timers(start - timedelta(minutes=30))["reminded"] == 0
    assert _timers(start)["reminded"] == 0
    reminders = outbox_events("reading.reminder")
    assert [(e["readingId"], e["scheduledStart"]) for e in reminders] == [(reading.reading_id, reading.scheduled_start)]
    delivered = [m for m in drain() if m["type"] == "reading.reminder"]
    assert [m["data"]["readingId"] for m in delivered] == [reading.reading_id]
    assert status_of(reading.reading_id) == "accepted"  # a reminder changes nothing else


def test_accepted_less_than_an_hour_ahead_is_reminded_at_once(people):
    from chalicelib.services import readings

    start = T0 + timedelta(hours=2)  # Monday 10:00
    reading = book("cli", at=start, now=T0 + timedelta(minutes=80))
    readings.accept(reading.reading_id, "rdr", "reader", now=T0 + timedelta(minutes=85))
    assert _timers(T0 + timedelta(minutes=85))["reminded"] == 1
    assert [e["readingId"] for e in outbox_events("reading.reminder")] == [reading.reading_id]


def test_no_reminder_for_a_reading_cancelled_or_started_before(people):
    from chalicelib.services import readings

    start = T0 + timedelta(hours=3)
    cancelled = book("cli", at=start, now=T0)
    started = book("cli", at=start + timedelta(hours=1), now=T0)
    for reading in (cancelled, started):
        readings.accept(reading.reading_id, "rdr", "reader", now=T0)
    readings.cancel(cancelled.reading_id, "rdr", "reader", reason="Sorry, unwell", now=T0 + timedelta(minutes=1))
    readings.start(started.reading_id, "rdr", "reader", now=start + timedelta(minutes=50))
    assert _timers(start + timedelta(hours=2))["reminded"] == 0
    assert outbox_events("reading.reminder") == []


def test_a_video_message_past_its_delivery_deadline_is_flagged_once(people):
    from chalicelib.services import readings

    reading = book("cli", option_type="video_message", now=T0)
    readings.accept(reading.reading_id, "rdr", "reader", now=T0)
    assert _timers(T0 + timedelta(hours=72) - timedelta(seconds=1))["overdue"] == 0
    assert _timers(T0 + timedelta(hours=72))["overdue"] == 1
    assert _timers(T0 + timedelta(hours=80))["overdue"] == 0
    assert [e["readingId"] for e in outbox_events("reading.delivery_overdue")] == [reading.reading_id]
    assert status_of(reading.reading_id) == "accepted"


def test_the_scheduled_function_runs_the_timers_on_the_real_clock(people, chalice_app):
    stale = book("cli", now=datetime.now(UTC) - timedelta(minutes=11))
    fresh = book("cli")
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("reading_timers", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert response.payload == {"expired": 1, "reminded": 0, "overdue": 0}
    assert (status_of(stale.reading_id), status_of(fresh.reading_id)) == ("expired", "requested")
    assert balance("cli")[:2] == (500 - 57, 57)
