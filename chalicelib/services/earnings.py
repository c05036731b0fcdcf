"""A reader's earnings: totals this week, this month and all time, pending vs paid, the
platform fee, and the ledger lines behind them (``GET /reader/earnings``).

Where the figures come from (services/ledger.py is the source of truth for money):

- **Paid** is what the ledger credited to the reader's ``earnings`` account: the payout
  line of each completed reading (the price minus the platform fee), less what a refund
  after payout took back (a resolved dispute). Payouts from the earnings account to a bank
  are issue 18; until then the account's balance is the all-time net.
- **The fee** is what the platform kept from the reader's completed readings: the
  ``platform:fees`` postings of the pay step (``ledger.pay_reader``, services/readings/
  table.py), net of the fee share a later refund gave back. The reader's ledger line shows
  only the change to their own accounts, so the fee is read from the journal entries of the
  lines concerned.
- **Pending** is what clients paid for readings the reader accepted but has not completed
  yet (the reader's ``accepted`` tab: accepted and in progress; the credits were captured
  from the client and are paid to the reader, minus the fee, at completion).

Why the period totals are read from the ledger rather than the metrics buckets: the
reader's ``earned`` counters (services/metrics) carry no fee and no refund taken back, and
they arrive through the event pipeline seconds after the payout, while this page must
agree to the credit with the lines it lists and with ``GET /credits``. The periods are a
bounded Query over the reader's ledger lines by sort key (``<createdAt>#<entryId>``) from
the earlier of this week's and this month's start, in the reader's timezone, to now: the
cost grows with the reader's activity this month, never with their history. The fees of
those lines come from their journal entries, one BatchGetItem per 100 payouts. All time
needs no history at all: the net is the earnings balance on the user item (already read to
authenticate), and the all-time fee is not summed (it would cost the whole history; a
``fees`` counter beside ``earned`` in the metrics ``total`` bucket would give it in one read).

DynamoDB calls per request: the profile's timezone (1 GetItem), the period's lines (1 Query
per 1 MB), their entries (1 BatchGetItem per 100), the accepted tab (1 Query per 1 MB), the
page of lines (1 Query, plus 1 BatchGetItem for the fees shown on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config import get_settings
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.ledger import LedgerEntry, LedgerLine
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.services import ledger

EARNINGS = "earnings"
FEES_ACCOUNT = "platform:fees"
ACCEPTED_TAB = "accepted"  # domain.readings.TABS: accepted and in progress
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class PeriodTotals:
    """Ledger movements on the reader's earnings from ``start`` (UTC) to now."""

    start: datetime
    paid: int = 0  # credited by completed readings (net of the fee)
    fees: int = 0  # kept by the platform from those readings, less fee shares refunded
    taken_back: int = 0  # taken back from earnings by refunds after payout
    readings: int = 0  # payouts

    @property
    def net(self) -> int:
        return self.paid - self.taken_back


@dataclass(frozen=True)
class Pending:
    """Readings accepted, not completed yet: what they will pay at the current fee."""

    credits: int = 0  # what the clients paid
    readings: int = 0
    expected_fee: int = 0

    @property
    def expected_net(self) -> int:
        return self.credits - self.expected_fee


@dataclass(frozen=True)
class Summary:
    timezone: str
    week: PeriodTotals
    month: PeriodTotals
    all_time_net: int
    pending: Pending
    fee_percent: int


@dataclass(frozen=True)
class EarningsLine:
    """One ledger line that moved the reader's earnings."""

    entry_id: str
    kind: str
    created_at: str
    earnings: int  # the signed change to the earnings account
    fee: int  # what the platform kept (or, negative, gave back) in the same entry
    reading_id: str | None
    description: str | None


# --- periods ----------------------------------------------------------------------------------

def zone_of(timezone: str | None) -> tuple[str, ZoneInfo]:
    """The reader's zone; UTC when the profile has none or an unknown name."""
    if timezone:
        try:
            return timezone, ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return DEFAULT_TIMEZONE, ZoneInfo(DEFAULT_TIMEZONE)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # A zone whose clocks skip midnight (a DST change at 00:00) gets the first instant of
    # the day: fold=0 reads the skipped wall time with the offset before the change.
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def period_starts(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(this week's start, this month's start) in UTC: Monday 00:00 and the 1st at 00:00 in
    ``zone``, on the local date of ``now``."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    return _local_midnight(monday, zone), _local_midnight(today.replace(day=1), zone)


# --- reads ------------------------------------------------------------------------------------

def reader_timezone(reader_id: str) -> str | None:
    try:
        profile = ReaderProfile.get(reader_id, attributes_to_get=["readerId", "availability"])
    except ReaderProfile.DoesNotExist:
        return None
    availability = plain(profile.availability) if profile.availability is not None else {}
    value = availability.get("timezone") if isinstance(availability, dict) else None
    return value if isinstance(value, str) else None


def _earnings_change(line: LedgerLine) -> int:
    changes = plain(line.changes) or {}
    return int(changes.get(EARNINGS, 0))


def _touches_earnings() -> Any:
    return LedgerLine.changes[EARNINGS].exists()  # type: ignore[index]


def fees_of(entry_ids: Iterable[str]) -> dict[str, int]:
    """{entry id: what the platform's fee account moved in that entry}: one BatchGetItem per 100."""
    wanted = sorted(set(entry_ids))
    fees = dict.fromkeys(wanted, 0)
    if not wanted:
        return fees
    for entry in LedgerEntry.batch_get(wanted, attributes_to_get=["entryId", "postings"]):
        fees[entry.entry_id] = sum(int(p.amount) for p in entry.postings or [] if p.account == FEES_ACCOUNT)
    return fees


def _totals(start: datetime, lines: list[LedgerLine], fees: dict[str, int]) -> PeriodTotals:
    paid = taken_back = fee = readings = 0
    for line in lines:
        if line.created_at < iso(start):
            continue
        change = _earnings_change(line)
        if change > 0:
            paid += change
        else:
            taken_back -= change
        if line.kind == "payout":
            readings += 1
        fee += fees.get(line.entry_id, 0)
    return PeriodTotals(start=start, paid=paid, fees=fee, taken_back=taken_back, readings=readings)


def _pending(reader_id: str) -> Pending:
    credits = readings = fee = 0
    for reading in Reading.by_reader_tab.query(f"{reader_id}#{ACCEPTED_TAB}",
                                                attributes_to_get=["readingId", "creditsCost"]):
        cost = int(reading.credits_cost or 0)
        credits += cost
        readings += 1
        fee += ledger.platform_fee(cost)
    return Pending(credits=credits, readings=readings, expected_fee=fee)


def summary(reader_id: str, *, earnings_balance: int, now: datetime | None = None) -> Summary:
    """The totals of the earnings page (see the module's docstring for what each costs)."""
    moment = now or utcnow()
    name, zone = zone_of(reader_timezone(reader_id))
    week_start, month_start = period_starts(moment, zone)
    first = min(week_start, month_start)
    lines = list(LedgerLine.query(reader_id, LedgerLine.sk.between(iso(first), iso(moment) + "~"),
                                  filter_condition=_touches_earnings()))
    fees = fees_of(line.entry_id for line in lines)
    return Summary(timezone=name, week=_totals(week_start, lines, fees), month=_totals(month_start, lines, fees),
                   all_time_net=earnings_balance, pending=_pending(reader_id),
                   fee_percent=get_settings().platform_fee_percent)


def lines_query(reader_id: str) -> Callable[[int, dict[str, Any] | None], Any]:
    """The reader's ledger lines that moved their earnings, newest first (for ``query_page``).
    Lines of the reader's own bookings as a client are filtered out by DynamoDB."""
    def run(limit: int, start_key: dict[str, Any] | None) -> Any:
        return LedgerLine.query(reader_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key,
                                filter_condition=_touches_earnings())
    return run


def lines(items: list[LedgerLine]) -> list[EarningsLine]:
    """A page of lines with the fee of each (one BatchGetItem for the page)."""
    fees = fees_of(line.entry_id for line in items)
    return [EarningsLine(entry_id=line.entry_id, kind=line.kind, created_at=line.created_at,
                         earnings=_earnings_change(line), fee=fees.get(line.entry_id, 0), reading_id=line.ref,
                         description=line.memo) for line in items]
