"""GET /reader/earnings: this week, this month (in the reader's timezone, weeks start on
Monday) and all time, each with credits, the platform fee, paid out vs pending; and the
ledger lines behind them, newest first, one Query of the earnings index per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.calls import dynamodb_calls
from tests.support.readings import book, make_client, make_reader

# Period starts by hand: (zone, now UTC) -> (this week's start UTC, this month's start UTC).
PERIODS = [
    # Lisbon in winter is UTC+0; Wednesday 2 Dec 2026 -> Monday 30 Nov, 1 Dec.
    ("Europe/Lisbon", datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
     datetime(2026, 11, 30, 0, 0, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    # Sunday 23:30 in New York (EST, UTC-5) is Monday 04:30 UTC: still the week that began Monday 23 Nov.
    ("America/New_York", datetime(2026, 11, 30, 4, 30, tzinfo=UTC),
     datetime(2026, 11, 23, 5, 0, tzinfo=UTC), datetime(2026, 11, 1, 4, 0, tzinfo=UTC)),
    # Monday 00:30 in Tokyo (UTC+9) is Sunday 15:30 UTC: a new week, and a new month (1 Mar).
    ("Asia/Tokyo", datetime(2027, 2, 28, 15, 30, tzinfo=UTC),
     datetime(2027, 2, 28, 15, 0, tzinfo=UTC), datetime(2027, 2, 28, 15, 0, tzinfo=UTC)),
    # New York's DST starts Sunday 14 Mar 2027: the week began Monday 8 Mar at EST (UTC-5), the
    # month on 1 Mar (EST); on Tuesday 16 Mar (EDT) both starts keep their winter offsets.
    ("America/New_York", datetime(2027, 3, 16, 12, 0, tzinfo=UTC),
     datetime(2027, 3, 15, 4, 0, tzinfo=UTC), datetime(2027, 3, 1, 5, 0, tzinfo=UTC)),
    # Berlin's DST ends Sunday 31 Oct 2027; Monday 1 Nov 00:00 CET is 31 Oct 23:00 UTC.
    ("Europe/Berlin", datetime(2027, 11, 1, 9, 0, tzinfo=UTC),
     datetime(2027, 10, 31, 23, 0, tzinfo=UTC), datetime(2027, 10, 31, 23, 0, tzinfo=UTC)),
]


@contextmanager
def all_dynamodb_calls() -> Iterator[list[str]]:
    """``dynamodb_calls`` and those of the boto3 client the metrics store reads the all-time
    counters with, and of the shared connection transactions (the payouts block's
    TransactGetItems) go through."""
    from chalicelib.integrations import aws
    from chalicelib.models.base import connection

    clients = [aws.client("dynamodb"), connection().client]
    with dynamodb_calls() as seen:
        def record(model: Any = None, **_: Any) -> None:
            seen.append(model.name)

        for client in clients:
            client.meta.events.register("before-call", record)
        try:
            yield seen
        finally:
            for client in clients:
                client.meta.events.unregister("before-call", record)


@pytest.mark.parametrize(("zone", "now", "week", "month"), PERIODS)
def test_periods_start_on_monday_and_the_first_at_local_midnight(zone, now, week, month):
    from chalicelib.services.earnings import period_starts

    assert period_starts(now, ZoneInfo(zone)) == (week, month)


def test_an_unknown_or_missing_timezone_means_utc():
    from chalicelib.services.earnings import zone_of

    assert zone_of(None)[0] == "UTC" and zone_of("Mars/Olympus")[0] == "UTC"
    assert zone_of("Asia/Tokyo")[0] == "Asia/Tokyo"


def _payout(reader_id: str, amount: int, fee: int, at: datetime, reading_id: str) -> None:
    """A payout as the pay step posts it, dated ``at``."""
    from chalicelib.models.base import iso
    from chalicelib.services import ledger
    from chalicelib.services.tx import atomically

    postings = (("platform:revenue", -amount), (ledger.user_account(reader_id, "earnings"), amount - fee),
                ("platform:fees", fee))
    movement = ledger.Movement(entry_id=f"payout:{reading_id}", kind="payout", postings=postings, ref=reading_id,
                               memo="Reading completed")

    # The revenue the payout draws on first (the capture), so the platform account stays >= 0.
    capture = ledger.Movement(entry_id=f"capture:{reading_id}", kind="capture", ref=reading_id,
                              postings=(("external:promotions", -amount), ("platform:revenue", amount)))
    atomically(lambda tx: ledger.post(tx, capture, now=iso(at)))
    atomically(lambda tx: ledger.post(tx, movement, now=iso(at)))


@pytest.fixture()
def reader_world(api: Any, default_catalog: None) -> Any:
    make_client("cli", 500)
    make_reader("rdr", timezone="Europe/Lisbon")
    return api


def test_week_and_month_totals_count_only_their_own_payouts_in_the_readers_timezone(reader_world):
    from chalicelib.services import earnings

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # Wednesday; week from Mon 30 Nov, month from 1 Dec
    _payout("rdr", 100, 20, datetime(2026, 11, 29, 23, 59, tzinfo=UTC), "r_last_week")  # Sunday: neither
    _payout("rdr", 50, 10, datetime(2026, 11, 30, 0, 0, tzinfo=UTC), "r_monday")  # this week, last month
    _payout("rdr", 30, 6, datetime(2026, 12, 1, 0, 0, tzinfo=UTC), "r_december")  # both
    _payout("rdr", 10, 2, datetime(2026, 12, 2, 12, 1, tzinfo=UTC), "r_later")  # after now: neither

    summary = earnings.summary("rdr", now=now)

    assert (summary.week.paid_out, summary.week.paid_fee, summary.week.readings) == (40 + 24, 10 + 6, 2)
    assert (summary.month.paid_out, summary.month.paid_fee, summary.month.readings) == (24, 6, 1)
    assert summary.timezone == "Europe/Lisbon" and summary.all_time is None


def test_a_refund_after_payout_is_taken_back_from_its_period_with_the_fee_share(reader_world):
    from chalicelib.models.base import iso
    from chalicelib.services import earnings, ledger
    from chalicelib.services.tx import atomically

    _payout("rdr", 50, 10, datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "r_disputed")  # last week
    refund = ledger.Movement(entry_id="refund:r_disputed", kind="refund", ref="r_disputed", memo="Dispute resolved",
                             postings=(("user:cli:available", 25), ("user:rdr:earnings", -20),
                                       ("platform:fees", -5)))
    atomically(lambda tx: ledger.post(tx, refund, now=iso(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))))

    week = earnings.summary("rdr", now=datetime(2026, 12, 2, 12, 0, tzinfo=UTC)).week

    assert (week.paid_out, week.refunded, week.paid_fee, week.readings) == (-20, 20, -5, 0)
    assert (week.credits, week.platform_fee) == (-20, -5)


def test_pending_counts_in_the_periods_its_readings_were_accepted_in(reader_world):
    from chalicelib.services import earnings, readings

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # Wednesday; week from Mon 30 Nov, month from 1 Dec
    last_month = book("cli", "rdr", option_type="video_message", now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    readings.accept(last_month.reading_id, "rdr", "reader", now=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    this_week = book("cli", "rdr", option_type="video_message", now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    readings.accept(this_week.reading_id, "rdr", "reader", now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    cost = int(this_week.credits_cost)
    share, fee = cost - cost * 20 // 100, cost * 20 // 100

    summary = earnings.summary("rdr", now=now, all_time=True)

    assert summary.all_time is not None
    assert (summary.week.pending, summary.month.pending) == (earnings.Pending(share, fee, 1),) * 2
    assert summary.all_time.pending == summary.pending == earnings.Pending(2 * share, 2 * fee, 2)
    assert (summary.week.credits, summary.week.platform_fee) == (share, fee)  # nothing paid out yet


def _completed_call(client: str = "cli", reader: str = "rdr") -> Any:
    from chalicelib.services import readings

    reading = book(client, reader)
    readings.accept(reading.reading_id, reader, "reader")
    readings.start(reading.reading_id, reader, "reader")
    return readings.complete(reading.reading_id, reader, "reader")


def test_every_total_shows_credits_fee_paid_out_and_pending_all_time_included(reader_world, drain, make_user):
    from chalicelib.services import readings

    done = _completed_call()
    disputed = _completed_call()
    readings.open_dispute(disputed.reading_id, "cli", "client", reason="The line kept dropping.")
    make_user("adm", role="admin")
    readings.resolve_dispute(disputed.reading_id, "adm", outcome="partial_refund", amount=10, note="Half heard.")
    pending = book("cli", "rdr", option_type="video_message")
    readings.accept(pending.reading_id, "rdr", "reader")
    # The reader's own credits (they are a client too) move their ledger but not their earnings.
    from tests.support import ledger as moves
    moves.grant("rdr", 200, source="promotion", entry_id="grant:rdr")
    drain()  # the reading events reach the all-time counters

    response = reader_world.get("/reader/earnings", as_user="rdr")

    assert response.status_code == 200, response.body
    body = response.json
    cost, fee, pending_cost = int(done.credits_cost), int(done.fee), int(pending.credits_cost)
    fee_back = fee * 10 // cost  # the refund's fee share; the reader gives back the rest
    paid_out = 2 * (cost - fee) - (10 - fee_back)
    pending_fee = pending_cost * 20 // 100
    expected = {"credits": paid_out + pending_cost - pending_fee, "platformFee": 2 * fee - fee_back + pending_fee,
                "paidOut": paid_out, "pending": pending_cost - pending_fee, "refunded": 10 - fee_back,
                "readings": 2, "pendingReadings": 1}
    assert fee > 0 and body["feePercent"] == 20
    for name in ("thisWeek", "thisMonth", "allTime"):  # everything happened this week
        assert {key: body[name][key] for key in expected} == expected, name
    assert body["allTime"]["since"] is None and body["thisWeek"]["since"].endswith("T00:00:00.000Z")
    assert body["balance"] == paid_out
    assert [(line["kind"], line["credits"], line["platformFee"]) for line in body["data"]] == [
        ("refund", -(10 - fee_back), -fee_back), ("payout", cost - fee, fee), ("payout", cost - fee, fee)]
    assert {line["readingId"] for line in body["data"]} == {done.reading_id, disputed.reading_id}
    assert body["timezone"] == "Europe/Lisbon"


def test_earnings_lines_page_newest_first_with_a_cursor_only_their_reader_can_use(reader_world):
    for n in range(3):
        _payout("rdr", 10 * (n + 1), n + 1, datetime(2026, 11, 2 + n, 10, 0, tzinfo=UTC), f"r{n}")
    make_reader("sol")

    first = reader_world.get("/reader/earnings?limit=2", as_user="rdr").json
    cursor = first["pagination"]["nextCursor"]
    second = reader_world.get(f"/reader/earnings?limit=2&cursor={cursor}", as_user="rdr").json
    stolen = reader_world.get(f"/reader/earnings?limit=2&cursor={cursor}", as_user="sol")

    assert [line["readingId"] for line in first["data"] + second["data"]] == ["r2", "r1", "r0"]
    assert [line["platformFee"] for line in first["data"] + second["data"]] == [3, 2, 1]
    assert second["pagination"]["hasNext"] is False
    assert stolen.status_code == 400 and stolen.json["error"]["code"] == "invalid_cursor"


def test_a_page_of_lines_is_full_and_one_query_however_many_client_lines_are_newer(reader_world):
    """The reader's own purchases and bookings as a client are not in the earnings index: a page
    never comes back short (or empty) because newer lines were not earnings."""
    from tests.support import ledger as moves

    for n in range(3):
        _payout("rdr", 10, 2, datetime(2026, 11, 2 + n, 10, 0, tzinfo=UTC), f"r{n}")
    for n in range(25):
        moves.grant("rdr", 1, source="promotion", entry_id=f"grant:rdr:{n}")

    with all_dynamodb_calls() as calls:
        first = reader_world.get("/reader/earnings?limit=2", as_user="rdr").json
    second = reader_world.get(f"/reader/earnings?limit=2&cursor={first['pagination']['nextCursor']}",
                              as_user="rdr").json

    assert [line["readingId"] for line in first["data"]] == ["r2", "r1"]
    assert [line["readingId"] for line in second["data"]] == ["r0"] and second["pagination"]["hasNext"] is False
    # Query: the periods' lines, the accepted tab, the page. GetItem: the caller, the profile's
    # timezone, the all-time counters. TransactGetItems: the payouts block's snapshot (the user
    # item and the payout state together, where the payout state was one GetItem beside the
    # caller's read: a payout committing in between showed its credits twice). BatchGetItem:
    # the page's fees (no line this month).
    assert sorted(calls) == ["BatchGetItem", "GetItem", "GetItem", "GetItem", "Query", "Query", "Query",
                             "TransactGetItems"]


def test_clients_cannot_see_earnings(reader_world):
    response = reader_world.get("/reader/earnings", as_user="cli")

    assert response.status_code == 403


def test_totals_cost_no_read_per_reading(reader_world):
    from chalicelib.services import earnings

    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    for n in range(12):
        _payout("rdr", 10, 2, datetime(2026, 12, 1 + n, 9, 0, tzinfo=UTC), f"r{n}")

    with all_dynamodb_calls() as calls:
        summary = earnings.summary("rdr", now=now, all_time=True)

    assert summary.month.readings == 12 and summary.month.paid_fee == 24
    assert sorted(calls) == ["BatchGetItem", "GetItem", "GetItem", "Query", "Query"]


def test_the_backfill_lists_lines_written_before_the_earnings_index_once(reader_world):
    from chalicelib.models.ledger import LedgerLine
    from tools.backfill import ledger_earner

    for n in range(2):
        _payout("rdr", 10 * (n + 1), n + 1, datetime(2026, 11, 2 + n, 10, 0, tzinfo=UTC), f"r{n}")
    for line in LedgerLine.query("rdr"):  # as a deployment before the index left them
        line.update(actions=[LedgerLine.earner.remove()])
    assert reader_world.get("/reader/earnings", as_user="rdr").json["data"] == []

    seen, given = ledger_earner()

    listed = reader_world.get("/reader/earnings", as_user="rdr").json["data"]
    assert [line["readingId"] for line in listed] == ["r1", "r0"]
    assert given == 2 and seen > given  # the platform's and the client's lines are read, not given one
    assert ledger_earner()[1] == 0


def _completed_at(moment: datetime, reader: str = "rdr") -> Any:
    """A call requested at ``moment`` and completed 40 minutes later, each step (and its event)
    dated at its own time, as the demo seed drives its history."""
    from datetime import timedelta

    from chalicelib.services import outbox, readings
    from chalicelib.services.readings import common

    with outbox.dated(moment):
        reading = book("cli", reader, now=moment)
    steps = ((readings.accept, 3), (readings.start, 5), (readings.complete, 40))
    for step, minutes in steps:
        with outbox.dated(moment + timedelta(minutes=minutes)):
            step(reading.reading_id, reader, "reader", now=moment + timedelta(minutes=minutes))
    return common.get(reading.reading_id)


def test_a_reading_driven_at_past_times_is_paid_in_its_own_period_as_the_metrics_count_it(reader_world, drain):
    from datetime import timedelta

    from chalicelib.models.base import utcnow

    now = utcnow()
    last_week = _completed_at(now - timedelta(days=9))  # before this week's Monday, whatever today is
    this_week = _completed_at(now - timedelta(hours=2))
    drain()  # the reading events reach the metrics

    earnings = reader_world.get("/reader/earnings", as_user="rdr").json
    metrics = reader_world.get("/reader/metrics", as_user="rdr").json
    rows = {row["period"]: row for row in metrics["periods"]}

    # Every movement carries the time of its step: the payout is dated at the completion.
    assert {line["readingId"]: line["createdAt"] for line in earnings["data"]} == {
        last_week.reading_id: last_week.completed_at,
        this_week.reading_id: this_week.completed_at,
    }
    assert (earnings["thisWeek"]["readings"], earnings["thisWeek"]["paidOut"]) == (1, int(this_week.paid_out))
    assert (earnings["allTime"]["readings"], earnings["allTime"]["paidOut"]) == (
        2,
        int(last_week.paid_out) + int(this_week.paid_out),
    )
    for period, row in (("thisWeek", "this_week"), ("thisMonth", "this_month"), ("allTime", "total")):
        assert (earnings[period]["readings"], earnings[period]["paidOut"]) == (
            rows[row]["completedReadings"],
            rows[row]["creditsEarned"],
        ), period
