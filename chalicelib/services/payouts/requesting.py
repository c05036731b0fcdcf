"""Requesting a payout: a reader's payable credits leave for their bank, in one ledger movement.

``request_payout`` serves ``POST /reader/payouts`` and the weekly job alike. Its checks
(an active reader, an enabled payout account, no admin hold, nothing owed, at least the
minimum and at most what is payable) read the state first; the transaction then writes,
with a condition on each:

- the payout record (``pending``; a conditional put on its id, so a retried request with
  the same Idempotency-Key creates nothing twice);
- the reader's payout state: the lock of the one payout in flight (``lock`` absent) and no
  admin hold, so 20 concurrent requests make exactly one payout; the credits paid out;
- the ledger's ``payout:<payoutId>`` movement (payable -> external:payouts; payable never
  below zero);
- the ``payout.requested`` event: its consumer creates the Stripe Transfer after the commit,
  with the payout id as idempotency key (services/payouts/transfers.py).

DynamoDB calls: GetItem x3 (the reader's balances, which the route has from authentication,
payout state and payout account) and one TransactWriteItems (the weekly job reads the
first two a page at a time).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from chalicelib.config import get_settings
from chalicelib.domain.accounts import ACTIVE
from chalicelib.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    Forbidden,
    InsufficientCredits,
    ValidationFailed,
)
from chalicelib.ids import new_id
from chalicelib.models.base import iso, utcnow
from chalicelib.models.payout_records import PENDING, Payout, PayoutReader
from chalicelib.models.users import User
from chalicelib.services import ledger, outbox
from chalicelib.services.payouts.accounts import PayoutAccount, payout_account
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically
from chalicelib.services.users import account_status

PAYOUT, READER_STATE = "payout", "payout-reader"
REQUESTED = "payout.requested"
MEMO = "Payout to your bank account"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Requested:
    payout: Payout
    created: bool  # False: a retry with the same Idempotency-Key (the first payout, unchanged)


def payout_id_for(reader_id: str, idempotency_key: str) -> str:
    return "po_" + hashlib.sha256(f"{reader_id}:{idempotency_key}".encode()).hexdigest()[:26]


def reader_state(reader_id: str) -> PayoutReader | None:
    try:
        return PayoutReader.get(reader_id, consistent_read=True)
    except PayoutReader.DoesNotExist:
        return None


def get_payout(payout_id: str) -> Payout | None:
    try:
        return Payout.get(payout_id, consistent_read=True)
    except Payout.DoesNotExist:
        return None


def _field_error(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "The request is not valid.", details={"fields": [{"path": path, "message": message, "type": "value_error"}]}
    )


# --- the checks ----------------------------------------------------------------------------------


def check_state(state: PayoutReader | None) -> None:
    if state is not None and state.held:
        raise BusinessRuleViolation(
            "Your payouts are on hold. Contact support to find out why.", code="payouts_on_hold"
        )
    if state is not None and state.lock:
        raise Conflict(
            "A payout of yours is already on its way; request another once it is sent.",
            code="payout_in_progress",
            details={"payoutId": state.lock},
        )


def check_account(account: PayoutAccount | None) -> PayoutAccount:
    if account is None or not account.payouts_enabled:
        raise BusinessRuleViolation(
            "Set up your payout account first: payouts go to the bank account you connect there.",
            code="payout_account_not_ready",
            details={"requirementsDue": list(account.requirements_due) if account is not None else []},
        )
    return account


def payout_credits(balance: ledger.Balance, credits: int | None) -> int:
    """What this payout pays: ``credits`` or everything payable, at least the minimum."""
    minimum = get_settings().payout_minimum_credits
    if balance.owed > 0:
        raise BusinessRuleViolation(
            f"You owe {balance.owed} credits from a refund after payout; your next earnings settle it before a "
            "payout can be made.",
            code="payouts_restricted",
            details={"owed": balance.owed},
        )
    amount = balance.payable if credits is None else credits
    if amount < minimum:
        raise BusinessRuleViolation(
            f"A payout is at least {minimum} credits; you have {balance.payable} available for payout.",
            code="below_payout_minimum",
            details={"minimum": minimum, "available": balance.payable},
        )
    if amount > balance.payable:
        raise InsufficientCredits(
            f"You have {balance.payable} credits available for payout; earnings become available once their "
            "reading's dispute window closes.",
            details={"available": balance.payable, "requested": amount},
        )
    return amount


# --- requesting ----------------------------------------------------------------------------------


def request_payout(
    reader_id: str,
    *,
    credits: int | None = None,
    idempotency_key: str | None = None,
    source: str = "request",
    day: str | None = None,
    now: datetime | None = None,
    user: User | None = None,
    state: PayoutReader | None = None,
    account: PayoutAccount | None = None,
) -> Requested:
    """Pay ``credits`` (default: everything payable) to the reader's bank. The weekly job
    passes ``source="schedule"``, the ``day`` it pays for (one scheduled payout per reader
    and day) and what it read a page at a time (``user``, ``state``, ``account``)."""
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise _field_error("Idempotency-Key", "Must be 1 to 200 printable ASCII characters.")
    payout_id = payout_id_for(reader_id, idempotency_key) if idempotency_key else f"po_{new_id()}"
    if idempotency_key:
        first = get_payout(payout_id)
        if first is not None:
            return Requested(_replay(first, credits), created=False)
    moment = now or utcnow()
    user = user or ledger.read_user(reader_id)
    if user.role != "reader":
        raise Forbidden("Only readers are paid out.", code="not_a_reader")
    if account_status(user) != ACTIVE:
        raise Forbidden("A suspended reader is not paid out.", code="account_suspended")
    check_state(state if source == "schedule" else reader_state(reader_id))
    found = check_account(account if account is not None else payout_account(reader_id))
    amount = payout_credits(ledger.balance_of(user), credits)
    settings = get_settings()
    at = iso(moment)
    payout = Payout(
        payout_id=payout_id,
        reader_id=reader_id,
        credits=amount,
        amount_minor=amount * settings.payout_minor_per_credit,
        currency=settings.payout_currency,
        destination=found.account_id,
        status=PENDING,
        source=source,
        created_at=at,
        updated_at=at,
    )

    def work(tx: Transaction) -> None:
        tx.save(payout, condition=Payout.payout_id.does_not_exist(), label=PAYOUT)
        actions = [
            PayoutReader.lock.set(payout_id),
            PayoutReader.paid_out_credits.add(amount),
            PayoutReader.updated_at.set(at),
        ]
        # A hold is stored as held=True and released by removing it: never held=False.
        condition = PayoutReader.lock.does_not_exist() & PayoutReader.held.does_not_exist()
        if day is not None:
            actions.append(PayoutReader.last_scheduled_on.set(day))
            condition &= PayoutReader.last_scheduled_on.does_not_exist() | (PayoutReader.last_scheduled_on != day)
        tx.update(PayoutReader(reader_id=reader_id), actions=actions, condition=condition, label=READER_STATE)
        ledger.payout(tx, reader_id, amount, payout_id=payout_id, memo=MEMO, now=at)
        outbox.emit(tx, REQUESTED, payoutId=payout_id, readerId=reader_id, credits=amount, source=source)

    try:
        atomically(work, busy="Your payouts are busy right now. Try again in a moment.", busy_code="payouts_busy")
    except ConditionsFailed as failed:
        first = get_payout(payout_id) if idempotency_key and PAYOUT in failed else None
        if first is not None:  # the same Idempotency-Key, committed first by a concurrent retry
            return Requested(_replay(first, credits), created=False)
        raise _refusal(failed, payout_id, reader_id, credits, day) from failed
    return Requested(payout, created=True)


def _replay(first: Payout, credits: int | None) -> Payout:
    if credits is not None and int(first.credits) != credits:
        raise Conflict("This Idempotency-Key was used for a different payout.", code="idempotency_key_reused")
    return first


class AlreadyScheduled(Conflict):
    """The weekly job paid this reader for this day already (a rerun of the job)."""


def _refusal(
    failed: ConditionsFailed, payout_id: str, reader_id: str, credits: int | None, day: str | None
) -> DomainError:
    if READER_STATE in failed:
        state = reader_state(reader_id)
        try:
            check_state(state)
        except DomainError as refusal:
            return refusal
        if day is not None and state is not None and state.last_scheduled_on == day:
            return AlreadyScheduled("This reader was paid out for this day already.", code="already_scheduled")
    if ledger.short_of_credits(failed, reader_id):
        return InsufficientCredits(
            "Your earnings available for payout changed meanwhile; check them and try again.",
            details={"requested": credits},
        )
    return Conflict(
        "Your payouts changed meanwhile; try again.", code="payouts_changed", details={"failed": sorted(failed.labels)}
    )
