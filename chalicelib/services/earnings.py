"""A reader's earnings: totals this week, this month and all time, and the ledger lines
behind them (``GET /reader/earnings``).

Every total has the same parts (``Totals``), in one vocabulary: **credits** are always the
reader's share (a reading's price minus the platform fee), **the platform fee** the
platform's share, so a reading's price is credits + fee.

- **Paid out**: what the ledger's payouts credited to the reader's ``earnings`` account in
  the period (a completed reading pays its price minus the fee, ``ledger.pay_reader``), less
  what a refund after payout took back (a resolved dispute), with the fee the platform kept
  on them (net of the fee share a refund gave back). The reader's ledger line shows only the
  change to their own accounts, so the fee is read from the journal entries of the lines.
- **Pending**: readings accepted in the period and not completed yet (the reader's
  ``accepted`` tab: accepted and in progress); their clients paid at acceptance and the
  reader is paid, minus the fee at today's rate, at completion.
- **Credits** = paid out + pending; **platform fee** = the fee kept on the paid-out readings
  + the fee the pending ones will pay.

Transfers to a bank (issue 18, services/payouts/) move a reading's credits on from
earnings: to payable when its dispute window closes, then out with a payout; those
movements are not listed here (``GET /reader/payouts`` lists payouts), and a refund after
maturation counts from whichever account it took the credits from.

**Money** (``money``): what credits are worth to a reader, ``PAYOUT_MINOR_PER_CREDIT`` per
credit in the smallest unit of ``PAYOUT_CURRENCY`` (per stage; 20 = $0.20), shown beside
every count of credits at today's value (the value a payout made now would transfer).

Where the figures come from:

- **This week and this month** are read from the ledger (services/ledger.py is the source of
  truth for money), so they agree to the credit with the lines listed beside them and with
  ``GET /credits``: one Query of the sparse ``byEarner`` index (only the lines that moved the
  reader's earnings; never the lines of their own bookings as a client) from the earlier of
  the two period starts, in the reader's timezone, to now: the cost grows with the reader's
  activity this month, never with their history. The fees of those lines come from their
  journal entries, one BatchGetItem per 100 payouts.
- **All time** cannot sum the history on each request. Its paid-out part comes from the
  reader's ``total`` metrics bucket (services/metrics/reader.py: ``earned``, ``fees``,
  ``takenBack``, ``completed``, kept from the reading events once each): one GetItem. Those
  counters follow the ledger through the event pipeline, seconds after a payout; the
  earnings ``balance`` (from the user item, exact) is beside them.
- **Pending** (every period) is one Query of the accepted tab, split by acceptance time.

DynamoDB calls per request: the profile's timezone (1 GetItem), the periods' lines (1 Query
per 1 MB), their entries (1 BatchGetItem per 100), the accepted tab (1 Query per 1 MB), the
all-time counters (1 GetItem, only when asked), the page of lines (1 Query of the index,
plus 1 BatchGetItem for the fees shown on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config import get_settings
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.ledger import LedgerEntry, LedgerLine
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.services import ledger
from chalicelib.services.metrics import reader as reader_metrics
from chalicelib.services.metrics import store

EARNINGS = "earnings"
# A reading's credits to the reader live in earnings, then payable (matured); a refund after
# maturation takes them from payable and, past it, records them owed (the receivable).
EARNED_ACCOUNTS = (EARNINGS, "payable", "receivable")
FEES_ACCOUNT = "platform:fees"
ACCEPTED_TAB = "accepted"  # domain.readings.TABS: accepted and in progress
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Money:
    """An amount of money in the smallest unit of ``currency`` (cents for "usd")."""

    amount: int
    currency: str  # ISO 4217, lower case, as Stripe spells it


def money(credits: int) -> Money:
    """What ``credits`` are worth to a reader: the stage's payout value per credit."""
    settings = get_settings()
    return Money(amount=credits * settings.payout_minor_per_credit, currency=settings.payout_currency)


@dataclass(frozen=True)
class Pending:
    """Readings accepted and not completed yet: what they will pay at today's fee."""

    credits: int = 0  # the reader's share: the prices minus the fee
    platform_fee: int = 0
    readings: int = 0


@dataclass(frozen=True)
class Totals:
    """A period's earnings (``since`` None: all time)."""

    since: datetime | None
    paid_out: int = 0  # credited to earnings by payouts, less refunds taken back
    paid_fee: int = 0  # the fee kept on those payouts, less fee shares refunded
    refunded: int = 0  # taken back from earnings by refunds after payout (already out of paid_out)
    readings: int = 0  # payouts
    pending: Pending = field(default_factory=Pending)

    @property
    def credits(self) -> int:
        return self.paid_out + self.pending.credits

    @property
    def platform_fee(self) -> int:
        return self.paid_fee + self.pending.platform_fee


@dataclass(frozen=True)
class Summary:
    timezone: str
    week: Totals
    month: Totals
    all_time: Totals | None  # None unless asked for (one more read)
    pending: Pending  # every reading accepted and not completed, whenever accepted
    fee_percent: int


@dataclass(frozen=True)
class EarningsLine:
    """One ledger line that moved the reader's earnings."""

    entry_id: str
    kind: str
    created_at: str
    credits: int  # the signed change to the earnings account
    platform_fee: int  # what the platform kept (or, negative, gave back) in the same entry
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
    """What the line changed of the reader's earnings: the earnings account, or for a refund
    after the reading's earnings matured, the payable account and what became owed."""
    changes = plain(line.changes) or {}
    return sum(int(changes.get(kind, 0)) for kind in EARNED_ACCOUNTS)


def fees_of(entry_ids: Iterable[str]) -> dict[str, int]:
    """{entry id: what the platform's fee account moved in that entry}: one BatchGetItem per 100."""
    wanted = sorted(set(entry_ids))
    fees = dict.fromkeys(wanted, 0)
    if not wanted:
        return fees
    for entry in LedgerEntry.batch_get(wanted, attributes_to_get=["entryId", "postings"]):
        fees[entry.entry_id] = sum(int(p.amount) for p in entry.postings or [] if p.account == FEES_ACCOUNT)
    return fees


@dataclass(frozen=True)
class _Accepted:
    accepted_at: str
    cost: int


def _accepted(reader_id: str) -> list[_Accepted]:
    """The reader's readings accepted and not completed yet (one Query per 1 MB)."""
    fields = ["readingId", "creditsCost", "acceptedAt", "createdAt"]
    return [_Accepted(accepted_at=reading.accepted_at or reading.created_at, cost=int(reading.credits_cost or 0))
            for reading in Reading.by_reader_tab.query(f"{reader_id}#{ACCEPTED_TAB}", attributes_to_get=fields)]


def _pending(accepted: Iterable[_Accepted], since: datetime | None) -> Pending:
    credits = fee = readings = 0
    for reading in accepted:
        if since is not None and reading.accepted_at < iso(since):
            continue
        share = ledger.platform_fee(reading.cost)
        credits += reading.cost - share
        fee += share
        readings += 1
    return Pending(credits=credits, platform_fee=fee, readings=readings)


def _totals(start: datetime, lines: list[LedgerLine], fees: dict[str, int], accepted: list[_Accepted]) -> Totals:
    paid_out = refunded = fee = readings = 0
    for line in lines:
        if line.created_at < iso(start):
            continue
        change = _earnings_change(line)
        paid_out += change
        if change < 0:
            refunded -= change
        if line.kind == "payout":
            readings += 1
        fee += fees.get(line.entry_id, 0)
    return Totals(since=start, paid_out=paid_out, paid_fee=fee, refunded=refunded, readings=readings,
                  pending=_pending(accepted, start))


def _all_time(reader_id: str, accepted: list[_Accepted]) -> Totals:
    """The reader's all-time counters (one GetItem of the metrics ``total`` bucket)."""
    total = store.get(reader_metrics.pk(reader_id), "total") or {}

    def count(name: str) -> int:
        return int(total.get(name, 0))

    return Totals(since=None, paid_out=count("earned"), paid_fee=count("fees"), refunded=count("takenBack"),
                  readings=count("completed"), pending=_pending(accepted, None))


def summary(reader_id: str, *, now: datetime | None = None, all_time: bool = False) -> Summary:
    """The totals of the earnings page (see the module's docstring for what each costs);
    ``all_time``: with the all-time totals (one more GetItem)."""
    moment = now or utcnow()
    name, zone = zone_of(reader_timezone(reader_id))
    week_start, month_start = period_starts(moment, zone)
    first = min(week_start, month_start)
    lines = list(LedgerLine.by_earner.query(reader_id, LedgerLine.sk.between(iso(first), iso(moment) + "~")))
    fees = fees_of(line.entry_id for line in lines)
    accepted = _accepted(reader_id)
    return Summary(timezone=name, week=_totals(week_start, lines, fees, accepted),
                   month=_totals(month_start, lines, fees, accepted),
                   all_time=_all_time(reader_id, accepted) if all_time else None,
                   pending=_pending(accepted, None), fee_percent=get_settings().platform_fee_percent)


def lines_query(reader_id: str) -> Callable[[int, dict[str, Any] | None], Any]:
    """The reader's ledger lines that moved their earnings, newest first (for ``query_page``):
    the sparse ``byEarner`` index holds nothing else, so a page of ``limit`` lines is one
    Query (never a page emptied by a filter)."""
    def run(limit: int, start_key: dict[str, Any] | None) -> Any:
        return LedgerLine.by_earner.query(reader_id, scan_index_forward=False, limit=limit,
                                          last_evaluated_key=start_key)
    return run


def lines(items: list[LedgerLine]) -> list[EarningsLine]:
    """A page of lines with the fee of each (one BatchGetItem for the page)."""
    fees = fees_of(line.entry_id for line in items)
    return [EarningsLine(entry_id=line.entry_id, kind=line.kind, created_at=line.created_at,
                         credits=_earnings_change(line), platform_fee=fees.get(line.entry_id, 0),
                         reading_id=line.ref, description=line.memo) for line in items]
