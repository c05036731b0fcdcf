"""Reader payouts on the wire: ``/reader/payouts``, ``/admin/payouts``, an admin's hold on a
reader's payouts, and the local transfers stand-in (``/local/transfers``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, JsonValue

from chalicelib.schemas.common import ApiModel, InputModel, Page, PageQuery, SendsNulls
from chalicelib.schemas.credits import DeliveredEvent

_DATE_TIME: dict[str, JsonValue] = {"format": "date-time"}

PayoutStatus = Literal["pending", "paid", "failed", "reversed"]

_PAYOUT_EXAMPLE: dict[str, JsonValue] = {
    "id": "po_01JE5Q8Z2V3W4X5Y6Z7A8B9C0D",
    "readerId": "user_2reader",
    "credits": 120,
    "amount": 2400,
    "currency": "usd",
    "status": "paid",
    "source": "request",
    "createdAt": "2026-12-07T06:00:00.000Z",
    "sentAt": "2026-12-07T06:00:02.000Z",
    "returnedAt": None,
    "transferId": "tr_1Q2w3E4r5T6y7U8i",
    "failureReason": None,
}


class PayoutOut(SendsNulls):
    """A payout of a reader's available earnings to their bank: pending (the credits left
    the reader's earnings, the transfer is being created), paid (Stripe transferred it to the
    reader's payout account), failed (it could not be completed: the credits came back) or
    reversed (the transfer was reversed: the credits came back)."""

    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ("sent_at", "returned_at", "transfer_id", "failure_reason")
    model_config = ConfigDict(json_schema_extra={"examples": [_PAYOUT_EXAMPLE]})
    id: str
    reader_id: str
    credits: int = Field(description="credits paid out")
    amount: int = Field(
        description="what the credits are worth, in the smallest currency unit of `currency` (2400 = "
        "$24.00): credits x the payout value of a credit when requested"
    )
    currency: str = Field(description="ISO 4217 code, lowercase")
    status: PayoutStatus
    source: Literal["request", "schedule"] = Field(
        description="request: the reader asked (POST /reader/payouts); schedule: the weekly payout run"
    )
    created_at: str = Field(json_schema_extra=_DATE_TIME)
    sent_at: str | None = Field(
        default=None,
        json_schema_extra=_DATE_TIME,
        description="when the transfer was sent (kept when the payout later failed or was reversed); null before",
    )
    returned_at: str | None = Field(
        default=None,
        json_schema_extra=_DATE_TIME,
        description="when a failed or reversed payout's credits came back; null otherwise",
    )
    transfer_id: str | None = Field(default=None, description="Stripe's transfer id; null before it is made")
    failure_reason: str | None = Field(default=None, description="why it failed or was reversed; null otherwise")


class PayoutPage(Page[PayoutOut]):
    """A page of payouts, newest first."""


class AdminPayoutOut(PayoutOut):
    """A payout as an admin lists it: with the reader's display name."""

    SENT_AS_NULL = (*PayoutOut.SENT_AS_NULL, "reader_name")
    model_config = ConfigDict(json_schema_extra={"examples": [{**_PAYOUT_EXAMPLE, "readerName": "Luna Marquez"}]})
    reader_name: str | None = Field(default=None, description="the reader's display name; null without one")


class AdminPayoutPage(Page[AdminPayoutOut]):
    """A page of payouts of every reader, newest first."""


class PayoutRequestIn(InputModel):
    """How much to pay out: by default everything available for payout."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credits": 120}]})
    credits: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description=(
            "credits to pay out (at least the payout minimum, at most what is available); default everything available"
        ),
    )


class AdminPayoutsQuery(PageQuery):
    status: Literal["all", "pending", "paid", "failed", "reversed"] = Field(
        default="all",
        description=(
            "which payouts: all (default: every status), pending (the transfers being created), paid, failed or "
            "reversed"
        ),
    )


REASON_MIN_LENGTH = 10


class PayoutHoldIn(InputModel):
    """Why the reader's payouts are held (the audit log keeps it; the reader is told their
    payouts are on hold, not the reason)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Chargebacks under review."}]})
    reason: str = Field(
        min_length=REASON_MIN_LENGTH, max_length=500, description="a sentence: why the payouts are held"
    )


class PayoutReleaseIn(InputModel):
    """Why the hold is released (the audit log keeps it; the reader is told their payouts
    are released, not the reason)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "The chargeback review is finished."}]})
    reason: str = Field(
        min_length=REASON_MIN_LENGTH, max_length=500, description="a sentence: why the hold is released"
    )


class PayoutHoldOut(SendsNulls):
    """Whether an admin holds the reader's payouts: while held, neither the reader's requests
    nor the weekly run pay them (a payout already on its way is not recalled)."""

    SENT_AS_NULL = ("reason", "held_by", "held_at", "payout_in_progress")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "readerId": "user_2reader",
                    "held": True,
                    "reason": "Chargebacks under review.",
                    "heldBy": "user_2admin",
                    "heldAt": "2026-12-07T09:00:00.000Z",
                    "payoutInProgress": None,
                }
            ]
        }
    )
    reader_id: str
    held: bool
    reason: str | None = Field(default=None, description="the admin's reason while held; null otherwise")
    held_by: str | None = Field(default=None, description="the admin who held them; null when not held")
    held_at: str | None = Field(default=None, json_schema_extra=_DATE_TIME)
    payout_in_progress: str | None = Field(default=None, description="the id of a payout on its way, if any")


class AdminReaderPayoutsOut(SendsNulls):
    """A reader's payouts as an admin sees them: the hold (who, when, why) and the credits
    available for payout and sent to the bank, read in one snapshot."""

    SENT_AS_NULL = ("reason", "held_at", "held_by", "payout_in_progress")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "readerId": "user_2reader",
                    "onHold": True,
                    "reason": "Chargebacks under review.",
                    "heldAt": "2026-12-07T09:00:00.000Z",
                    "heldBy": "user_2admin",
                    "available": 160,
                    "availableAmount": 3200,
                    "sentToBank": 600,
                    "sentToBankAmount": 12000,
                    "currency": "usd",
                    "payoutInProgress": None,
                }
            ]
        }
    )
    reader_id: str
    on_hold: bool = Field(description="an admin holds the reader's payouts")
    reason: str | None = Field(default=None, description="the admin's reason while held; null otherwise")
    held_at: str | None = Field(default=None, json_schema_extra=_DATE_TIME, description="null when not held")
    held_by: str | None = Field(default=None, description="the admin who held them; null when not held")
    available: int = Field(description="credits available for payout")
    available_amount: int = Field(description="what available is worth, in the smallest currency unit of `currency`")
    sent_to_bank: int = Field(description="credits sent to the reader's bank so far (net of returned payouts)")
    sent_to_bank_amount: int = Field(
        description="what sentToBank is worth, in the smallest currency unit of `currency`"
    )
    currency: str = Field(description="the payout currency (ISO 4217, lower case)")
    payout_in_progress: str | None = Field(default=None, description="the id of a payout on its way, if any")


class LocalTransferIn(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "reverse"}]})
    action: Literal["reverse", "fail_payout"] = Field(
        description=(
            "reverse: the transfer is reversed (transfer.reversed); fail_payout: the reader's bank refuses the payout "
            "of it (the connected account's payout.failed)"
        )
    )


class LocalTransferOut(ApiModel):
    """What the local transfers stand-in delivered to the webhook."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "transferId": "tr_local_01JDQ8V6M4Z2X7N3K5R9T1W0AD", "action": "reverse",
        "events": [{"eventId": "evt_local_01JDQ8V6M4Z2X7N3K5R9T1W0AE", "type": "transfer.reversed",
                    "duplicate": False}]}]})
    transfer_id: str
    action: str
    events: list[DeliveredEvent] = Field(
        description="Stripe-format events signed and delivered to POST /webhooks/stripe"
    )
