"""A reader's earnings on the wire (``GET /reader/earnings``).

One vocabulary throughout: ``credits`` is always the reader's share (a reading's price minus
the platform fee), ``platformFee`` the platform's share; ``paidOut`` is what completed
readings credited to the reader's earnings account, ``pending`` what accepted readings not
completed yet will credit. Every field is always present (a null is sent as null)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, JsonValue

from chalicelib.schemas.common import ApiModel, PageInfo, PageMeta, PageQuery, SendsNulls

_DATE_TIME: dict[str, JsonValue] = {"format": "date-time"}


class EarningsQuery(PageQuery):
    pass


class EarningsTotalsOut(ApiModel):
    """The reader's earnings over a period (this week, this month or all time): credits =
    paidOut + pending; credits + platformFee = what the clients paid for those readings."""
    since: str | None = Field(json_schema_extra=_DATE_TIME, description=(
        "the period's start (UTC): Monday 00:00 or the 1st at 00:00 in the reader's timezone; null for all time"))
    credits: int = Field(description="credits earned: paidOut + pending (the reader's share, after the platform fee)")
    amount: int = Field(description="what credits are worth to the reader, in the smallest unit of currency (cents), "
                                    "at today's payout value per credit")
    currency: str = Field(description="the payout currency (ISO 4217, lower case)")
    platform_fee: int = Field(description=(
        "the platform's share of the same readings: kept from the paid-out ones (less fee shares refunded) plus "
        "what the pending ones will pay at today's rate"))
    paid_out: int = Field(description=(
        "credits credited to the earnings account by readings completed in the period, less what refunds took "
        "back (negative when a refund outweighs the period's payouts)"))
    pending: int = Field(description="credits that readings accepted in the period and not completed yet will "
                                     "credit at completion (after the fee at today's rate)")
    refunded: int = Field(description="credits refunds after payout (resolved disputes) took back from earnings in "
                                      "the period; already subtracted from paidOut")
    readings: int = Field(description="readings completed and paid out in the period")
    pending_readings: int = Field(description="readings accepted in the period and not completed yet")


class PendingOut(ApiModel):
    """Every reading accepted and not completed yet, whenever accepted: what completing them
    will credit to earnings."""
    credits: int = Field(description="the reader's share, after the platform fee at today's rate")
    platform_fee: int = Field(description="the platform's share at today's rate")
    readings: int


class EarningsLineOut(ApiModel):
    """A ledger line that moved the reader's earnings."""
    entry_id: str
    kind: str = Field(description="payout (a completed reading) or refund (taken back after a dispute)")
    created_at: str = Field(json_schema_extra=_DATE_TIME)
    credits: int = Field(description="the signed change to the earnings account")
    amount: int = Field(description="what credits are worth to the reader, in the smallest unit of currency, at "
                                    "today's payout value per credit")
    currency: str = Field(description="the payout currency (ISO 4217, lower case)")
    platform_fee: int = Field(description="what the platform kept in the same entry (negative: a fee share "
                                          "refunded)")
    reading_id: str | None = Field(description="the reading paid or refunded; null when the entry names none")
    description: str | None = Field(description="the entry's memo; null without one")


class EarningsPayoutsOut(SendsNulls):
    """Where the reader's earned credits stand for payouts to their bank: in their readings'
    dispute window, available for payout once it closed, sent to their bank, and owed after a
    refund of earnings already sent (the next earnings settle it). Read in one snapshot, so
    they always add up. Each with its money value (credits x minorPerCredit, in the payout
    currency). Not the period totals' paidOut/pending, which count completed and accepted
    readings."""
    SENT_AS_NULL = ("payout_in_progress",)
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "inDisputeWindow": 156, "inDisputeWindowAmount": 3120, "available": 160, "availableAmount": 3200,
        "sentToBank": 600, "sentToBankAmount": 12000, "owed": 0, "owedAmount": 0, "minimum": 50,
        "minimumAmount": 1000, "onHold": False, "payoutInProgress": "po_01JDQ8V6M4Z2X7N3K5R9T1W0AD"}]})
    in_dispute_window: int = Field(description="credits earned by readings still inside their dispute window (14 "
                                               "days after completion): not available for payout yet")
    in_dispute_window_amount: int = Field(description="what inDisputeWindow is worth, in the smallest currency "
                                                      "unit of `currency`")
    available: int = Field(description="credits available for payout (POST /reader/payouts, or the weekly payout)")
    available_amount: int = Field(description="what available is worth, in the smallest currency unit of "
                                              "`currency`")
    sent_to_bank: int = Field(description="credits sent to the reader's bank so far (a payout on its way included; "
                                          "a failed or reversed one returned)")
    sent_to_bank_amount: int = Field(description="what sentToBank is worth, in the smallest currency unit of "
                                                 "`currency`")
    owed: int = Field(description="credits a refund took back after they were sent to the bank: the next earnings "
                                  "pay this down before anything becomes available")
    owed_amount: int = Field(description="what owed is worth, in the smallest currency unit of `currency`")
    minimum: int = Field(description="the least a payout may be, in credits")
    minimum_amount: int = Field(description="what minimum is worth, in the smallest currency unit of `currency`")
    on_hold: bool = Field(description="an admin holds the reader's payouts: none is made until released")
    payout_in_progress: str | None = Field(default=None, description="the payout on its way (pending), if any")


class EarningsOut(ApiModel):
    """The reader's earnings: this week, this month (in the reader's timezone, weeks start
    on Monday) and all time, each with the same fields; the earnings balance; and a page of
    the ledger lines behind them, newest first; and where the earned credits stand for
    payouts (``payouts``: in the dispute window, available, sent to the bank, owed)."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "timezone": "Europe/Lisbon", "feePercent": 20, "balance": 316, "balanceAmount": 6320, "currency": "usd",
        "minorPerCredit": 20,
        "thisWeek": {"since": "2026-11-30T00:00:00.000Z", "credits": 108, "amount": 2160, "currency": "usd",
                     "platformFee": 27, "paidOut": 48, "pending": 60, "refunded": 0, "readings": 1,
                     "pendingReadings": 1},
        "thisMonth": {"since": "2026-11-01T00:00:00.000Z", "credits": 156, "amount": 3120, "currency": "usd",
                      "platformFee": 39, "paidOut": 96, "pending": 60, "refunded": 0, "readings": 2,
                      "pendingReadings": 1},
        "allTime": {"since": None, "credits": 376, "amount": 7520, "currency": "usd", "platformFee": 94,
                    "paidOut": 316, "pending": 60, "refunded": 0, "readings": 7, "pendingReadings": 1},
        "payouts": {"inDisputeWindow": 316, "inDisputeWindowAmount": 6320, "available": 160,
                    "availableAmount": 3200, "sentToBank": 600, "sentToBankAmount": 12000, "owed": 0, "owedAmount": 0,
                    "minimum": 50, "minimumAmount": 1000, "onHold": False, "payoutInProgress": None},
        "data": [{"entryId": "payout:rdg_1", "kind": "payout", "createdAt": "2026-11-30T10:31:00.000Z",
                  "credits": 48, "amount": 960, "currency": "usd", "platformFee": 12, "readingId": "rdg_1",
                  "description": "Reading completed"}],
        "pagination": {"page": 1, "limit": 20, "nextCursor": None, "hasNext": False, "hasPrev": False,
                       "totalPages": 1},
        "meta": {"cached": False, "generatedAt": "2026-11-30T12:00:00.000Z"}}]})
    timezone: str = Field(description="the IANA timezone the periods are computed in (the reader's profile; UTC "
                                      "when it has none)")
    fee_percent: int = Field(description="the platform's share of a completed reading's price today")
    balance: int = Field(description="the earnings account's balance now: credits earned and still inside their "
                                     "readings' dispute window (payouts.inDisputeWindow; exact, as GET /credits "
                                     "shows it)")
    balance_amount: int = Field(description="what balance is worth to the reader, in the smallest unit of currency")
    currency: str = Field(description="the payout currency (ISO 4217, lower case, e.g. usd) of every amount here")
    minor_per_credit: int = Field(description=(
        "what one credit pays the reader, in the smallest unit of currency (20 = $0.20 in usd): the stage's payout "
        "value; every amount here is credits x minorPerCredit"))
    this_week: EarningsTotalsOut
    this_month: EarningsTotalsOut
    all_time: EarningsTotalsOut = Field(description=(
        "since the reader started. Its paid-out part (paidOut, refunded, readings, the fee kept) is counted from "
        "the readings' events and follows a payout within seconds; pending is read now"))
    payouts: EarningsPayoutsOut
    data: list[EarningsLineOut] = Field(description="ledger lines that moved earnings, newest first")
    pagination: PageInfo
    meta: PageMeta
