"""An admin's hold on a reader's payouts, and its release (both audited).

A hold stops every new payout of the reader, on request or by the weekly job: the payout's
transaction is conditional on the reader's payout state not being held, so a hold that
commits first wins over a payout being requested at the same moment. A payout already on
its way is not recalled (its transfer may exist already). The reader is told of both
(``payouts.held`` / ``payouts.released``, emitted in the same transaction; the reason stays
in the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.errors import Conflict, NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.payout_records import PayoutReader
from chalicelib.models.users import User
from chalicelib.services import audit, outbox
from chalicelib.services.payouts.queries import EarningsStates, earnings_states
from chalicelib.services.payouts.requesting import READER_STATE, reader_state
from chalicelib.services.tx import ConditionsFailed, Transaction

HELD = "payouts.held"
RELEASED = "payouts.released"


@dataclass(frozen=True)
class HoldState:
    reader_id: str
    held: bool
    reason: str | None
    held_by: str | None
    held_at: str | None
    payout_in_progress: str | None  # the payout on its way, if any


def hold_state(reader_id: str) -> HoldState:
    state = reader_state(reader_id)
    if state is None:
        return HoldState(reader_id, False, None, None, None, None)
    held = bool(state.held)
    return HoldState(
        reader_id,
        held,
        state.hold_reason if held else None,
        state.held_by if held else None,
        state.held_at if held else None,
        state.lock,
    )


def reader_payouts(reader_id: str) -> EarningsStates:
    """The reader's hold and payout figures, in one snapshot (404 unless a reader)."""
    states = earnings_states(reader_id)
    if states.role != "reader":
        raise NotFound("reader")
    return states


def _reader(reader_id: str) -> None:
    try:
        user = User.get(reader_id, attributes_to_get=["userId", "role"])
    except User.DoesNotExist:
        raise NotFound("reader") from None
    if user.role != "reader":
        raise NotFound("reader")


def hold(
    reader_id: str, *, admin_id: str, reason: str, request_id: str | None = None, now: datetime | None = None
) -> HoldState:
    """Hold the reader's payouts with a reason (409 when already held)."""
    _reader(reader_id)
    at = iso(now or utcnow())
    tx = Transaction()
    tx.update(
        PayoutReader(reader_id=reader_id),
        actions=[
            PayoutReader.held.set(True),
            PayoutReader.hold_reason.set(reason),
            PayoutReader.held_by.set(admin_id),
            PayoutReader.held_at.set(at),
            PayoutReader.updated_at.set(at),
        ],
        condition=PayoutReader.held.does_not_exist(),
        label=READER_STATE,
    )
    audit.record(
        tx,
        actor_id=admin_id,
        action="payouts.hold",
        entity_type="user",
        entity_id=reader_id,
        before={"payoutsHeld": False},
        after={"payoutsHeld": True, "reason": reason},
        request_id=request_id,
    )
    outbox.emit(tx, HELD, readerId=reader_id, heldAt=at)
    try:
        tx.commit()
    except ConditionsFailed as failed:
        raise Conflict("This reader's payouts are on hold already.", code="payouts_already_held") from failed
    return hold_state(reader_id)


def release(
    reader_id: str,
    *,
    admin_id: str,
    reason: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> HoldState:
    """Release the hold with a reason (409 when not held); the next payout run pays the reader again."""
    _reader(reader_id)
    current = hold_state(reader_id)
    at = iso(now or utcnow())
    tx = Transaction()
    tx.update(
        PayoutReader(reader_id=reader_id),
        actions=[
            PayoutReader.held.remove(),
            PayoutReader.hold_reason.remove(),
            PayoutReader.held_by.remove(),
            PayoutReader.held_at.remove(),
            PayoutReader.updated_at.set(at),
        ],
        condition=PayoutReader.held.exists(),
        label=READER_STATE,
    )
    audit.record(
        tx,
        actor_id=admin_id,
        action="payouts.release",
        entity_type="user",
        entity_id=reader_id,
        before={"payoutsHeld": True, "reason": current.reason},
        after={"payoutsHeld": False, "reason": reason},
        request_id=request_id,
    )
    outbox.emit(tx, RELEASED, readerId=reader_id, releasedAt=at)
    try:
        tx.commit()
    except ConditionsFailed as failed:
        raise Conflict("This reader's payouts are not on hold.", code="payouts_not_held") from failed
    return hold_state(reader_id)
