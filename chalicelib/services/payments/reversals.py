"""Refunds and chargebacks: purchased credits taken back, and given back when a refund
fails or a dispute is won.

Each reversal has a deterministic ledger entry (``refund:<refund>``, ``chargeback:<dispute>``,
and ``refund-failed:``/``chargeback-won:`` for the undo), and the purchase counts what was
reversed in the same transaction, so replays and reordered events never take more than was
bought. What the user already spent cannot be taken: the rest is owed (``ledger.reverse``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.integrations.payments import gateway
from chalicelib.logs import logger
from chalicelib.models.billing import Purchase
from chalicelib.models.ledger import LedgerEntry
from chalicelib.services import ledger, outbox
from chalicelib.services.payments.shared import grant_bought, moved
from chalicelib.services.tx import Transaction


def _purchase_for(obj: dict[str, Any]) -> Purchase | None:
    keys = []
    if obj.get("payment_intent"):
        keys.append(f"pi:{obj['payment_intent']}")
    if obj.get("invoice"):
        keys.append(f"in:{obj['invoice']}")
    for key in keys:
        try:
            return Purchase.get(key, consistent_read=True)
        except Purchase.DoesNotExist:
            continue
    return None


def _credits_for(purchase: Purchase, amount: int) -> int:
    """Credits matching ``amount`` of the purchase's price (a full refund is all of them)."""
    paid = int(purchase.amount or 0)
    total = int(purchase.credits)
    if paid <= 0 or amount >= paid:
        return total
    return total * amount // paid


def take_back(purchase: Purchase, wanted: int, *, entry_id: str, kind: str, memo: str) -> None:
    """Reverse ``wanted`` credits of the purchase (never more than it has left)."""
    user_id = purchase.user_id

    def work(tx: Transaction) -> None:
        current = Purchase.get(purchase.payment_key, consistent_read=True)
        reversed_so_far = int(current.reversed_credits or 0)
        credits = min(wanted, int(current.credits) - reversed_so_far)
        if credits <= 0:
            return  # nothing left to take: an empty transaction
        unchanged = (Purchase.reversed_credits == reversed_so_far) if current.reversed_credits is not None \
            else Purchase.reversed_credits.does_not_exist()
        tx.update(Purchase(payment_key=current.payment_key),
                  actions=[Purchase.reversed_credits.set(reversed_so_far + credits)], condition=unchanged,
                  label="purchase")
        outbox.emit(tx, "credits.reversed", userId=user_id, credits=credits, reason=kind)
        ledger.reverse(tx, ledger.read_user(user_id), credits, entry_id=entry_id, ref=current.source_id, kind=kind,
                       memo=memo)

    ledger.apply(work, retry_on=moved(user_id, "purchase"))


def give_back(purchase: Purchase, reversal_entry_id: str, *, entry_id: str, memo: str) -> bool:
    """Undo a reversal (the refund failed, the dispute was won), paying a debt first."""
    try:
        reversal = LedgerEntry.get(reversal_entry_id, consistent_read=True)
    except LedgerEntry.DoesNotExist:
        return False  # never reversed (e.g. the failure arrived first): nothing to undo
    credits = sum(int(p.amount) for p in reversal.postings if p.account == "external:stripe")
    if credits <= 0:
        return False

    def records(tx: Transaction) -> None:
        tx.update(Purchase(payment_key=purchase.payment_key), actions=[Purchase.reversed_credits.add(-credits)],
                  condition=Purchase.reversed_credits >= credits, label="purchase")

    return grant_bought(purchase.user_id, credits, entry_id=entry_id, ref=purchase.source_id, memo=memo,
                        records=records)


# --- Stripe's refund and dispute events -------------------------------------------------

def charge_refunded(charge: dict[str, Any]) -> None:
    purchase = _purchase_for(charge)
    if purchase is None:
        logger.warning("refund of a charge we granted nothing for", extra={"chargeId": charge.get("id")})
        return
    live = [refund for refund in gateway().list_refunds(str(charge["id"]))
            if refund.get("status") in ("succeeded", "pending", "requires_action")]
    # Each refund's credits are its step in the running total, oldest first, so refunds that
    # add up to the whole price take back every credit (rounding each one down would not).
    refunded_before = 0
    for refund in sorted(live, key=lambda r: (int(r.get("created") or 0), str(r["id"]))):
        refunded_after = refunded_before + int(refund.get("amount") or 0)
        share = _credits_for(purchase, refunded_after) - _credits_for(purchase, refunded_before)
        refunded_before = refunded_after
        take_back(purchase, share, entry_id=f"refund:{refund['id']}", kind="refund", memo=f"Refund {refund['id']}")


def refund_failed(refund: dict[str, Any]) -> None:
    purchase = _purchase_for(refund)
    if purchase is None:
        return
    give_back(purchase, f"refund:{refund['id']}", entry_id=f"refund-failed:{refund['id']}",
              memo=f"Refund {refund['id']} failed")


def dispute_created(dispute: dict[str, Any]) -> None:
    purchase = _purchase_for(dispute)
    if purchase is None:
        logger.warning("dispute on a charge we granted nothing for", extra={"disputeId": dispute.get("id")})
        return
    # Where order matters, Stripe's current state decides: a dispute already won (its
    # closing processed first) takes nothing.
    if gateway().retrieve_dispute(str(dispute["id"])).get("status") == "won":
        return
    take_back(purchase, _credits_for(purchase, int(dispute.get("amount") or 0)),
              entry_id=f"chargeback:{dispute['id']}", kind="chargeback", memo=f"Chargeback {dispute['id']}")


def dispute_closed(dispute: dict[str, Any]) -> None:
    if dispute.get("status") != "won":
        return
    purchase = _purchase_for(dispute)
    if purchase is not None:
        give_back(purchase, f"chargeback:{dispute['id']}", entry_id=f"chargeback-won:{dispute['id']}",
                  memo=f"Chargeback {dispute['id']} won")
