"""A payout's Stripe Transfer, and its return when it fails or is reversed.

- ``payout.requested`` (emitted with the payout's ledger movement) -> ``send_transfer``: the
  Transfer to the reader's connected account, with the payout id as idempotency key (a
  redelivered event or a retry is the same transfer; a payout older than Stripe's 24-hour
  key window is first looked up by its transfer group). The payout becomes ``paid`` and the
  reader's lock is released, with ``payout.sent`` (the reader is told), in one transaction.
  A refusal Stripe would repeat fails the payout and returns its credits.
- ``return_payout``: the ledger's ``payout-return:<payoutId>`` (external:payouts -> payable,
  a receivable paid down first) with the payout's new status (``failed`` or ``reversed``)
  and ``payout.failed`` (the reader is told), once: whichever of a refused transfer,
  ``transfer.reversed`` or the connected account's ``payout.failed`` comes first applies it;
  the others find the payout returned (and the ledger entry written) and change nothing.
- ``payout.failed`` reports the reader's bank refusing Stripe's payout of the connected
  account's balance: the money is back on the connected account, so the transfer is
  reversed (to the platform) before the credits are returned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.integrations.payments import TransferRefused, gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.payout_records import FAILED, PAID, PENDING, REVERSED, Payout, PayoutReader
from chalicelib.models.payouts import PayoutAccountItem
from chalicelib.services import events, ledger, outbox
from chalicelib.services.payouts.requesting import PAYOUT, READER_STATE, REQUESTED, get_payout
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SENT = "payout.sent"
RETURNED = "payout.failed"
# Stripe keeps an idempotency key 24 hours; an older pending payout looks its transfer up first.
KEY_WINDOW = timedelta(hours=23)
MEMO_RETURNED = "Payout returned to your earnings"


@events.consumer(REQUESTED)
def _on_payout_requested(message: dict[str, Any]) -> None:
    send_transfer(str(message["data"]["payoutId"]))


def send_transfer(payout_id: str, *, now: datetime | None = None) -> Payout | None:
    """Create the payout's transfer (idempotent): the payout as it is afterwards."""
    payout = get_payout(payout_id)
    if payout is None or payout.status != PENDING:
        return payout
    moment = now or utcnow()
    created = datetime.fromisoformat(payout.created_at.replace("Z", "+00:00"))
    transfer = gateway().find_transfer(payout_id) if moment - created > KEY_WINDOW else None
    if transfer is None:
        try:
            transfer = gateway().create_transfer(
                amount_minor=int(payout.amount_minor),
                currency=payout.currency,
                destination=payout.destination,
                payout_id=payout_id,
                idempotency_key=payout_id,
            )
        except TransferRefused as refused:
            logger.warning("transfer refused", extra={"payoutId": payout_id, "code": refused.code})
            return_payout(payout_id, status=FAILED, reason=refused.message, now=moment)
            return get_payout(payout_id)
    _mark_paid(payout, str(transfer["id"]), moment)
    return get_payout(payout_id)


def _mark_paid(payout: Payout, transfer_id: str, moment: datetime) -> None:
    at = iso(moment)
    tx = Transaction()
    tx.update(
        payout,
        actions=[
            Payout.status.set(PAID),
            Payout.transfer_id.set(transfer_id),
            Payout.sent_at.set(at),
            Payout.updated_at.set(at),
        ],
        condition=Payout.status == PENDING,
        label=PAYOUT,
    )
    tx.update(
        PayoutReader(reader_id=payout.reader_id),
        actions=[PayoutReader.lock.remove()],
        condition=PayoutReader.lock == payout.payout_id,
        label=READER_STATE,
    )
    outbox.emit(
        tx,
        SENT,
        payoutId=payout.payout_id,
        readerId=payout.reader_id,
        credits=int(payout.credits),
        amountMinor=int(payout.amount_minor),
        currency=payout.currency,
    )
    try:
        tx.commit()
    except ConditionsFailed as failed:
        if PAYOUT not in failed:
            raise
        # Returned meanwhile (a reversal can arrive before we record the transfer): keep its id.
        current = get_payout(payout.payout_id)
        if current is not None and current.transfer_id is None:
            current.update(actions=[Payout.transfer_id.set(transfer_id)])


def return_payout(payout_id: str, *, status: str, reason: str, now: datetime | None = None) -> bool:
    """The payout's credits back to the reader's payable earnings, once: True when returned
    now, False when it was returned before (or is not a payout we know)."""
    if status not in (FAILED, REVERSED):
        raise ValueError(f"a returned payout is failed or reversed, not {status!r}")
    at = iso(now or utcnow())
    found: dict[str, Payout] = {}

    def work(tx: Transaction) -> None:
        found.clear()
        payout = get_payout(payout_id)
        if payout is None or payout.status in (FAILED, REVERSED):
            return
        found["payout"] = payout
        reader_id, credits = payout.reader_id, int(payout.credits)
        tx.update(
            payout,
            actions=[
                Payout.status.set(status),
                Payout.returned_at.set(at),
                Payout.updated_at.set(at),
                Payout.failure_reason.set(reason),
            ],
            condition=Payout.status == payout.status,
            label=PAYOUT,
        )
        actions: list[Any] = [PayoutReader.paid_out_credits.add(-credits), PayoutReader.updated_at.set(at)]
        condition = None
        if payout.status == PENDING:  # its lock is still taken: released with it
            actions.append(PayoutReader.lock.remove())
            condition = PayoutReader.lock == payout_id
        tx.update(PayoutReader(reader_id=reader_id), actions=actions, condition=condition, label=READER_STATE)
        ledger.payout_return(tx, ledger.read_user(reader_id), credits, payout_id=payout_id, memo=MEMO_RETURNED, now=at)
        outbox.emit(
            tx,
            RETURNED,
            payoutId=payout_id,
            readerId=reader_id,
            credits=credits,
            amountMinor=int(payout.amount_minor),
            currency=payout.currency,
            status=status,
            reason=reason,
        )

    try:
        atomically(
            work,
            retry_on=lambda failed: (
                PAYOUT in failed or (failed.any_startswith("ledger:user:") and not ledger.already_applied(failed))
            ),
            busy="The payout is busy right now. Try again in a moment.",
            busy_code="payouts_busy",
        )
    except ConditionsFailed as failed:
        if ledger.already_applied(failed):
            return False
        raise
    return "payout" in found


# --- Stripe's events ---------------------------------------------------------------------------


def transfer_reversed(transfer: dict[str, Any]) -> None:
    """``transfer.reversed``: a transfer reversed in full returns its payout (once)."""
    payout_id = (transfer.get("metadata") or {}).get("payoutId") or transfer.get("transfer_group")
    if not isinstance(payout_id, str) or not payout_id:
        logger.info("reversed transfer of no payout", extra={"transferId": transfer.get("id")})
        return
    amount, reversed_amount = int(transfer.get("amount") or 0), int(transfer.get("amount_reversed") or 0)
    if not transfer.get("reversed") and reversed_amount < amount:
        # A partial reversal is an operator's correction in Stripe's dashboard: not a payout's return.
        logger.warning(
            "partial transfer reversal left as it is",
            extra={"payoutId": payout_id, "amount": amount, "reversed": reversed_amount},
        )
        return
    return_payout(payout_id, status=REVERSED, reason="The transfer to your payout account was reversed.")


def bank_payout_failed(bank_payout: dict[str, Any], account_id: str | None) -> None:
    """``payout.failed`` on a reader's connected account: their bank refused the money. The
    paid payout it carried (the newest of that amount) is reversed to the platform and its
    credits returned, once."""
    reader_id = _reader_of(account_id)
    if reader_id is None:
        logger.warning("failed bank payout of an unknown account", extra={"account": account_id})
        return
    amount = int(bank_payout.get("amount") or 0)
    payout = next(
        (
            p
            for p in Payout.by_reader.query(reader_id, scan_index_forward=False, limit=50)
            if p.status == PAID and int(p.amount_minor) == amount and p.transfer_id
        ),
        None,
    )
    if payout is None:
        logger.warning("failed bank payout matches no paid payout", extra={"readerId": reader_id, "amount": amount})
        return
    assert payout.transfer_id is not None
    gateway().reverse_transfer(payout.transfer_id, idempotency_key=f"payout-failed:{payout.payout_id}")
    message = str(bank_payout.get("failure_message") or "").strip() or "Your bank refused the payout."
    return_payout(payout.payout_id, status=FAILED, reason=message if message.endswith(".") else f"{message}.")


def _reader_of(account_id: str | None) -> str | None:
    if not account_id:
        return None
    for item in PayoutAccountItem.by_account.query(account_id, limit=1):
        return str(item.reader_id)
    return None
