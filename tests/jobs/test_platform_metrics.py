"""Platform metrics from the event stream: each event counts once, distinct users are
distinct per day, week and month, and the periods have the boundaries an admin expects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest


@contextmanager
def store_calls() -> Iterator[list[str]]:
    """The DynamoDB operations made through the app's low-level client (the metrics store's)."""
    from chalicelib.integrations import aws

    seen: list[str] = []

    def record(model=None, **_):
        seen.append(model.name)

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-call.dynamodb", record)


def _message(event_id: str, event_type: str, day: str, **data):
    return {"eventId": event_id, "type": event_type, "occurredAt": f"{day}T12:00:00.000Z", "data": data}


# (period, date, its first and last day, the previous period's first and last day): by hand.
PERIODS = [
    ("day", "2026-12-02", "2026-12-02", "2026-12-02", "2026-12-01", "2026-12-01"),
    ("day", "2024-03-01", "2024-03-01", "2024-03-01", "2024-02-29", "2024-02-29"),  # leap day before
    ("day", "2027-01-01", "2027-01-01", "2027-01-01", "2026-12-31", "2026-12-31"),
    ("week", "2026-11-30", "2026-11-30", "2026-12-06", "2026-11-23", "2026-11-29"),  # a Monday starts it
    ("week", "2026-12-02", "2026-11-30", "2026-12-06", "2026-11-23", "2026-11-29"),  # Wednesday
    ("week", "2026-12-06", "2026-11-30", "2026-12-06", "2026-11-23", "2026-11-29"),  # Sunday ends it
    ("week", "2027-01-01", "2026-12-28", "2027-01-03", "2026-12-21", "2026-12-27"),  # across the new year
    ("week", "2024-03-01", "2024-02-26", "2024-03-03", "2024-02-19", "2024-02-25"),
    ("month", "2026-12-31", "2026-12-01", "2026-12-31", "2026-11-01", "2026-11-30"),
    ("month", "2026-12-01", "2026-12-01", "2026-12-31", "2026-11-01", "2026-11-30"),
    ("month", "2024-03-15", "2024-03-01", "2024-03-31", "2024-02-01", "2024-02-29"),  # leap February
    ("month", "2023-03-15", "2023-03-01", "2023-03-31", "2023-02-01", "2023-02-28"),
    ("month", "2026-01-31", "2026-01-01", "2026-01-31", "2025-12-01", "2025-12-31"),  # back into last year
]


@pytest.mark.parametrize(("period", "day", "first", "last", "before_first", "before_last"), PERIODS)
def test_period_boundaries_match_the_hand_computed_table(period, day, first, last, before_first, before_last):
    from chalicelib.services.metrics import platform

    on = date.fromisoformat(day)
    assert platform.period_of(period, on) == (date.fromisoformat(first), date.fromisoformat(last))
    assert platform.previous_of(period, on) == (date.fromisoformat(before_first), date.fromisoformat(before_last))


def test_every_counter_moves_once_per_event_even_when_redelivered(aws):
    from chalicelib.jobs import events as _jobs  # noqa: F401 - registers the consumers
    from chalicelib.services import events
    from chalicelib.services.metrics import platform

    day = "2025-03-05"
    stream = [
        _message("e01", "user.signed_up", day, userId="new", source="token"),
        _message("e02", "reading.requested", day, readingId="r1", clientId="cli", readerId="rdr", credits=57),
        _message("e03", "reading.accepted", day, readingId="r1", clientId="cli", readerId="rdr", by="reader"),
        _message("e04", "reading.completed", day, readingId="r1", clientId="cli", readerId="rdr", by="reader",
                 paid=46, fee=11),
        _message("e05", "reading.delivered", day, readingId="r2", clientId="cli", readerId="rdr", by="reader",
                 paid=40, fee=10),
        _message("e06", "reading.no_show", day, readingId="r3", clientId="cli", readerId="rdr", by="client",
                 refunded=30),
        _message("e07", "reading.cancelled", day, readingId="r4", clientId="cli", readerId="rdr", by="client",
                 refunded=20),
        _message("e08", "reading.cancelled", day, readingId="r5", clientId="cli", readerId="rdr", by="client"),
        _message("e09", "dispute.filed", day, readingId="r1", clientId="cli", readerId="rdr", by="client"),
        _message("e10", "dispute.resolved", day, readingId="r1", clientId="cli", readerId="rdr", by="admin",
                 refunded=57),
        _message("e11", "credits.purchased", day, userId="cli", credits=60, packageId="seeker", sessionId="cs1",
                 amount=2999, currency="usd"),
        _message("e12", "subscription.credits_granted", day, userId="sub", credits=120, expired=0, planId="p",
                 invoiceId="in1", amount=1999, currency="eur"),
        _message("e13", "credits.reversed", day, userId="cli", credits=15, reason="refund"),
        _message("e14", "reading.expired", day, readingId="r6", clientId="cli", readerId="rdr", by="system"),
    ]
    assert all(platform.consume in events.CONSUMERS[m["type"]] for m in stream[:-1])
    for message in stream + stream:  # every event delivered twice
        events.dispatch(message) if message["type"] == "reading.expired" else platform.record(message)

    figures = platform.report("day", date(2025, 3, 5)).current
    assert (figures.sign_ups, figures.readings_requested, figures.readings_completed) == (1, 1, 2)
    assert (figures.platform_fees, figures.disputes, figures.refunds, figures.refunded_credits) == (21, 1, 3, 107)
    assert (figures.purchases, figures.credits_purchased, figures.money_in) == (2, 180, {"eur": 1999, "usd": 2999})
    assert figures.reversed_credits == 15
    assert (figures.active_users, figures.buyers) == (4, 2)  # new, cli, rdr, sub; cli and sub paid
    assert (figures.conversion_rate, figures.dispute_rate) == (0.5, 0.5)
    assert platform.record(stream[1]) is False  # a third delivery: nothing more


def _act(platform, event_id, user, day, event_type="reading.requested"):
    data = {"userId": user, "credits": 60, "amount": 2999, "currency": "usd"} if event_type == "credits.purchased" \
        else {"readingId": event_id, "clientId": user, "readerId": "rdr"}
    return platform.record(_message(event_id, event_type, day, **data))


def test_active_users_and_buyers_are_distinct_per_day_week_and_month(aws):
    from chalicelib.services.metrics import platform

    _act(platform, "a1", "u1", "2025-03-03")  # Monday
    _act(platform, "a2", "u1", "2025-03-03")  # the same user again that day
    _act(platform, "a3", "u1", "2025-03-04")
    _act(platform, "a4", "u2", "2025-03-04")
    _act(platform, "a5", "u1", "2025-03-04", "credits.purchased")
    _act(platform, "a6", "u1", "2025-03-10")  # next Monday: a new week, the same month
    _act(platform, "a7", "u1", "2025-03-10", "credits.purchased")
    _act(platform, "a8", "u2", "2025-02-28")  # the Friday before: last week, last month

    day = platform.report("day", date(2025, 3, 4))
    assert (day.current.active_users, day.previous.active_users, day.current.buyers) == (2, 1, 1)
    week = platform.report("week", date(2025, 3, 5))
    assert [d.active_users for d in week.current.daily] == [1, 2, 0, 0, 0, 0, 0]
    assert (week.current.active_users, week.current.buyers, week.current.conversion_rate) == (2, 1, 0.5)
    assert (week.previous.active_users, week.previous.buyers, week.previous.conversion_rate) == (1, 0, 0.0)
    later = platform.report("week", date(2025, 3, 16))
    assert (later.current.active_users, later.previous.active_users, later.current.buyers) == (1, 2, 1)
    month = platform.report("month", date(2025, 3, 31))
    assert (month.current.active_users, month.current.buyers, month.current.purchases) == (2, 1, 2)
    assert (month.previous.active_users, month.previous.first, month.previous.last) == (
        1, date(2025, 2, 1), date(2025, 2, 28))
    assert month.current.readings_requested == 5 and month.current.dispute_rate is None


def test_a_marker_put_meanwhile_cancels_the_count_not_the_event(aws, monkeypatch):
    """The markers read as absent (another delivery put them after the read): the first
    transaction is cancelled by the marker's condition, the retry counts the event alone."""
    from chalicelib.services.metrics import platform, store

    assert _act(platform, "b1", "u1", "2025-03-05")
    monkeypatch.setattr(store, "_absent", lambda once: list(once))
    assert _act(platform, "b2", "u1", "2025-03-05")

    figures = platform.report("week", date(2025, 3, 5)).current
    assert (figures.readings_requested, figures.active_users) == (2, 1)
    assert sum(d.active_users for d in figures.daily) == 1


def test_the_report_reads_one_query_per_shard_whatever_the_period(aws):
    from chalicelib.services.metrics import platform

    for n in range(12):
        _act(platform, f"c{n}", f"u{n}", f"2025-03-{n + 1:02d}")
    with store_calls() as calls:
        found = platform.report("month", now=datetime(2025, 3, 20, 23, 59, tzinfo=UTC))
    assert calls == ["Query"] * platform.SHARDS
    assert (found.day, found.current.active_users, found.current.readings_requested) == (date(2025, 3, 20), 12, 12)
    assert len(found.current.daily) == 31 and len(found.previous.daily) == 28


def test_an_event_costs_one_read_and_one_transaction(aws):
    from chalicelib.services.metrics import platform

    _act(platform, "d1", "u1", "2025-03-05")
    with store_calls() as calls:
        assert _act(platform, "d2", "u1", "2025-03-05")  # already active: its markers are left out
        assert _act(platform, "d3", "u2", "2025-03-05")  # first seen: its markers commit with the counts
        assert not _act(platform, "d3", "u2", "2025-03-05")  # redelivered: the event marker refuses it
    assert calls == ["BatchGetItem", "TransactWriteItems"] * 3
    assert platform.report("day", date(2025, 3, 5)).current.active_users == 2


@pytest.mark.parametrize("first", ["clerk", "token"])
def test_a_user_signs_up_once_whichever_of_clerk_or_the_first_call_comes_first(aws, first):
    from chalicelib.integrations.clerk_events import ClerkUser
    from chalicelib.services import clerk_sync, users
    from tests.support.readings import outbox_events

    def clerk(stamp):
        clerk_sync.sync_user(ClerkUser(id="u_new", updated_at=stamp, first_name="Ada"),
                             now=datetime(2025, 3, 5, tzinfo=UTC))

    if first == "clerk":
        clerk(1)
        users.get_or_provision("u_new")
    else:
        users.get_or_provision("u_new")
        clerk(1)
    clerk(2)  # user.updated

    assert [(e["userId"], e["source"]) for e in outbox_events("user.signed_up")] == [("u_new", first)]
    assert users.get("u_new").display_name == "Ada"
