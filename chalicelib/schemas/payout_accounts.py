"""A reader's payout account on the wire (``/reader/payout-account``) and the local
onboarding stand-in (``/local/connect/{accountId}``)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, JsonValue

from chalicelib.schemas.common import ApiModel, InputModel, SendsNulls
from chalicelib.schemas.credits import DeliveredEvent

_DATE_TIME: dict[str, JsonValue] = {"format": "date-time"}

PayoutAccountStatus = Literal["not_started", "pending", "restricted", "enabled"]


class PayoutAccountOut(SendsNulls):
    """The reader's Stripe Connect (Express) payout account as Stripe last reported it
    (``account.updated``): whether they finished onboarding, whether Stripe lets us pay them
    out, and what Stripe still needs from them."""

    SENT_AS_NULL = ("account_id", "updated_at", "disabled_reason")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accountId": "acct_1Q2w3E4r5T6y7U8i",
                    "status": "restricted",
                    "detailsSubmitted": True,
                    "payoutsEnabled": False,
                    "requirementsDue": ["individual.verification.document"],
                    "disabledReason": "requirements.past_due",
                    "updatedAt": "2026-12-01T10:00:00.000Z",
                }
            ]
        }
    )
    account_id: str | None = Field(
        default=None, description="the Stripe Connect account id; null before onboarding started"
    )
    status: PayoutAccountStatus = Field(
        description=(
            "not_started: no account yet (POST /reader/payout-account starts onboarding); pending: onboarding not "
            "finished; restricted: details submitted but Stripe holds payouts until requirementsDue are provided; "
            "enabled: payouts can be sent"
        )
    )
    details_submitted: bool = Field(description="the reader finished Stripe's onboarding form")
    payouts_enabled: bool = Field(description="Stripe lets us send payouts to this account")
    requirements_due: list[str] = Field(
        description=(
            "what Stripe needs now (its requirements.currently_due and past_due, e.g. "
            "individual.verification.document); resume onboarding to provide them"
        )
    )
    disabled_reason: str | None = Field(
        default=None,
        description=(
            "why Stripe holds payouts (its requirements.disabled_reason, e.g. requirements.past_due or "
            "rejected.fraud); null when it does not"
        ),
    )
    updated_at: str | None = Field(
        default=None,
        json_schema_extra=_DATE_TIME,
        description="when the state last changed; null before onboarding started",
    )


class PayoutOnboardingOut(ApiModel):
    """Where to send the reader to (continue) onboarding: Stripe's hosted onboarding for their
    account. The link is single use and expires within minutes: ask again for a new one. Stripe
    sends the reader back to the frontend's /reader/payouts?onboarding=return when they leave
    the flow (finished or not: GET /reader/payout-account shows the state once Stripe reports
    it) or ?onboarding=refresh when the link expired (ask for a new one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://connect.stripe.com/setup/e/acct_1Q2w3E4r5T6y7U8i/AbCdEf",
                    "expiresAt": "2026-12-01T10:05:00.000Z",
                    "created": True,
                    "account": {
                        "accountId": "acct_1Q2w3E4r5T6y7U8i",
                        "status": "pending",
                        "detailsSubmitted": False,
                        "payoutsEnabled": False,
                        "requirementsDue": ["external_account", "tos_acceptance.date"],
                        "disabledReason": "requirements.past_due",
                        "updatedAt": "2026-12-01T10:00:00.000Z",
                    },
                }
            ]
        }
    )
    url: str = Field(description="send the browser here (Stripe's onboarding; locally, the local onboarding page)")
    expires_at: str = Field(json_schema_extra=_DATE_TIME, description="when the link stops working")
    created: bool = Field(
        description=(
            "true when this request created the account (the first onboarding; the response is 201), false when it "
            "resumed onboarding of the existing one (200)"
        )
    )
    account: PayoutAccountOut


class LocalConnectIn(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "complete"}]})
    outcome: Literal["complete", "requirements_due"] = Field(
        default="complete",
        description=(
            "complete: details submitted and payouts enabled; requirements_due: submitted, but Stripe asks for an "
            "identity document first (payouts stay disabled)"
        ),
    )


class LocalConnectOut(ApiModel):
    """The outcome of a local (simulated) Connect onboarding and the events it delivered."""

    account_id: str
    outcome: str
    events: list[DeliveredEvent] = Field(
        description="Stripe-format events signed and delivered to POST /webhooks/stripe"
    )
