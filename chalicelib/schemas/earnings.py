"""A reader's earnings on the wire (``GET /reader/earnings``)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, JsonValue

from chalicelib.schemas.common import ApiModel, PageInfo, PageMeta, PageQuery

_DATE_TIME: dict[str, JsonValue] = {"format": "date-time"}


class EarningsQuery(PageQuery):
    pass


class PeriodOut(ApiModel):
    """Movements on the reader's earnings account from ``since`` to now."""
    since: str = Field(json_schema_extra=_DATE_TIME,
                       description="the period's start (UTC): Monday 00:00 or the 1st at 00:00 in the reader's "
                                   "timezone")
    paid: int = Field(description="credits credited to earnings by readings completed in the period (net of the "
                                  "platform fee)")
    fees: int = Field(description="credits the platform kept from those readings (less fee shares refunded)")
    taken_back: int = Field(description="credits taken back from earnings by refunds after payout (resolved "
                                        "disputes)")
    net: int = Field(description="paid minus takenBack")
    readings: int = Field(description="readings paid in the period")


class AllTimeOut(ApiModel):
    """The reader's earnings since they started."""
    net: int = Field(description="everything credited to earnings, less refunds taken back: the earnings account's "
                                 "balance (transfers to a bank account are not built yet, issue 18)")


class PendingOut(ApiModel):
    """Readings accepted and not completed yet: paid to the reader, minus the fee, when they complete."""
    credits: int = Field(description="what the clients paid for them (captured at acceptance)")
    readings: int
    expected_fee: int = Field(description="the platform fee at today's rate")
    expected_net: int = Field(description="what completing them all would credit to earnings")


class EarningsLineOut(ApiModel):
    """A ledger line that moved the reader's earnings."""
    entry_id: str
    kind: str = Field(description="payout (a completed reading) or refund (taken back after a dispute)")
    created_at: str = Field(json_schema_extra=_DATE_TIME)
    earnings: int = Field(description="signed change to the earnings account")
    fee: int = Field(description="what the platform kept in the same entry (negative: a fee share refunded)")
    reading_id: str | None = None
    description: str | None = None


class EarningsOut(ApiModel):
    """The reader's earnings: totals in their timezone (weeks start on Monday), pending vs
    paid, the platform fee, and a page of the ledger lines behind them, newest first.
    "Paid" means credited to the reader's earnings account; transfers from it to a bank
    account (payouts) are issue 18 and not part of this page yet."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "timezone": "Europe/Lisbon", "feePercent": 20,
        "thisWeek": {"since": "2026-11-30T00:00:00.000Z", "paid": 48, "fees": 12, "takenBack": 0, "net": 48,
                     "readings": 1},
        "thisMonth": {"since": "2026-11-01T00:00:00.000Z", "paid": 96, "fees": 24, "takenBack": 0, "net": 96,
                      "readings": 2},
        "allTime": {"net": 316},
        "pending": {"credits": 75, "readings": 1, "expectedFee": 15, "expectedNet": 60},
        "data": [{"entryId": "payout:rdg_1", "kind": "payout", "createdAt": "2026-11-30T10:31:00.000Z",
                  "earnings": 48, "fee": 12, "readingId": "rdg_1", "description": "Reading completed"}],
        "pagination": {"page": 1, "limit": 20, "hasNext": False, "hasPrev": False, "totalPages": 1},
        "meta": {"cached": False, "generatedAt": "2026-11-30T12:00:00.000Z"}}]})
    timezone: str = Field(description="the IANA timezone the periods are computed in (the reader's profile; UTC "
                                      "when it has none)")
    fee_percent: int = Field(description="the platform's share of a completed reading's price today")
    this_week: PeriodOut
    this_month: PeriodOut
    all_time: AllTimeOut
    pending: PendingOut
    data: list[EarningsLineOut] = Field(description="ledger lines that moved earnings, newest first")
    pagination: PageInfo
    meta: PageMeta
