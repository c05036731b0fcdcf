"""Disputes: a client disputes a completed reading once, within the dispute window; an
admin resolves it with a full refund, a partial one, or a rejection (completed again).
A refund after the reader was paid is taken back from the reader's earnings and the
platform fee in proportion (from their payable earnings once matured, the rest owed:
services/payouts/maturity.py); a reading whose dispute window closed while the dispute was
open matures at its resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.readings import DISPUTE_WINDOW
from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden
from chalicelib.models.base import iso, plain
from chalicelib.models.readings import Reading
from chalicelib.pagination import PageResult, query_page
from chalicelib.services.readings import common, lifecycle
from chalicelib.services.readings.common import field_error
from chalicelib.services.readings.table import OUTCOMES
from chalicelib.services.tx import Transaction


def open_dispute(reading_id: str, user_id: str, role: str, *, reason: str, now: datetime | None = None) -> Reading:
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    lifecycle.check(reading, "dispute", actor)
    if reading.dispute is not None:  # a rejected dispute leaves the reading completed: once is all
        raise Conflict("This reading was disputed before; a reading can be disputed only once.",
                       code="already_disputed", details={"outcome": plain(reading.dispute).get("outcome")})
    moment = common.now_or(now)
    completed = common.parse(reading.completed_at)
    if completed is None or moment - completed > DISPUTE_WINDOW:
        raise BusinessRuleViolation(f"Disputes are open for {DISPUTE_WINDOW.days} days after the reading.",
                                    code="dispute_window_closed")
    at = iso(moment)
    dispute = {"reason": reason, "openedAt": at, "status": "open"}
    return lifecycle.execute(reading, "dispute", actor, now=moment, event={"reason": reason},
                             condition=Reading.dispute.does_not_exist(),
                             actions=(Reading.dispute.set(dispute), Reading.dispute_flag.set("open"),
                                      Reading.disputed_at.set(at)))


def list_disputes(*, limit: int, cursor: str | None) -> PageResult[Reading]:
    """Open disputes, oldest first."""
    return query_page(lambda size, start: Reading.open_disputes.query("open", scan_index_forward=True, limit=size,
                                                                      last_evaluated_key=start),
                      limit=limit, cursor=cursor, scope="GET /admin/disputes")


def resolve_dispute(reading_id: str, admin_id: str, *, outcome: str, amount: int | None, note: str,
                    now: datetime | None = None, request_id: str | None = None) -> Reading:
    """full_refund, partial_refund (1 <= amount <= price) or reject."""
    if outcome not in OUTCOMES:
        raise field_error("outcome", "Must be one of " + ", ".join(OUTCOMES) + ".")
    reading = common.get(reading_id)
    if admin_id in (reading.reader_id, reading.client_id):
        raise Forbidden("You may not resolve a dispute you are part of.", code="own_dispute")
    lifecycle.check(reading, "resolve", "admin", outcome)
    moment = common.now_or(now)
    cost = int(reading.credits_cost)
    dispute = {**plain(reading.dispute or {}), "status": "resolved", "outcome": outcome, "resolvedAt": iso(moment),
               "resolvedBy": admin_id, "note": note, "refunded": 0}
    actions: list[Any] = [Reading.dispute_flag.remove()]
    refund, taken_back = None, None
    if outcome != "reject":
        refund = cost if outcome == "full_refund" else int(amount or 0)
        if not 1 <= refund <= cost:
            raise field_error("amount", f"A partial refund is 1 to {cost} credits (the reading's price).")
        paid, fee = int(reading.paid_out or 0), int(reading.fee or 0)
        fee_share = fee * refund // cost if cost else 0
        reader_share = refund - fee_share
        if reader_share > paid:  # never take back more than the reader was paid
            reader_share, fee_share = paid, refund - paid
        taken_back = (reader_share, fee_share)
        dispute["refunded"] = refund
    actions.append(Reading.dispute.set(dispute))

    def audit(tx: Transaction) -> None:
        from chalicelib.services import audit as audit_log

        audit_log.record(tx, actor_id=admin_id, action="dispute.resolve", entity_type="reading",
                         entity_id=reading.reading_id, before={"status": "disputed"},
                         after={"status": "refunded" if refund else "completed", "outcome": outcome,
                                "refunded": dispute["refunded"], "note": note}, request_id=request_id)

    resolved = lifecycle.execute(reading, "resolve", "admin", now=moment, outcome=outcome, actions=tuple(actions),
                                 event={"outcome": outcome, "refunded": dispute["refunded"]}, refund=refund,
                                 taken_back=taken_back, also=audit)
    _mature_after_dispute(reading_id, moment)
    return resolved


def _mature_after_dispute(reading_id: str, moment: datetime) -> None:
    """The dispute held the reader's share back; past the dispute window, what is left of it
    matures now (the hourly job would take it within the hour: a failure here only waits)."""
    from chalicelib.logs import logger
    from chalicelib.services.payouts import maturity

    try:
        maturity.mature_reading(reading_id, now=moment)
    except Exception:  # noqa: BLE001 - the resolution is committed; the maturation job retries
        logger.exception("maturation after a dispute failed", extra={"readingId": reading_id})
