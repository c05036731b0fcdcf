"""The lifecycle: ``check`` and ``execute`` carry out the steps of ``table.TRANSITIONS``,
and the use cases that are nothing but a step plus their own rule (accept, decline,
cancel, start, complete, report a no-show).

Every step is one unit of work (services/tx.py): the reading's update, conditional on the
state and version it was read in (two concurrent steps: one wins, the other is a 409
reading_changed), the ledger movement of the step (deterministic entry ids per reading, so
none applies twice), the slots it frees and its outbox event, committed together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.readings import (
    DISPUTE_WINDOW,
    EARLY_START,
    FREE_CANCEL_BEFORE,
    LIVE_TYPES,
    MESSAGE_DELIVERY,
    NO_SHOW_AFTER,
    REMIND_BEFORE,
    REVIEW_WINDOW,
    SLOTS_FREED,
)
from chalicelib.errors import BusinessRuleViolation, Conflict, DomainError, Forbidden, InsufficientCredits
from chalicelib.models.base import iso
from chalicelib.models.readings import Reading
from chalicelib.services import ledger, outbox
from chalicelib.services.payouts import maturity
from chalicelib.services.readings import common, joining
from chalicelib.services.readings.table import TRANSITIONS, Step
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

CLOSED = ("declined", "cancelled", "expired", "refunded")  # states that record who closed the reading


def check(reading: Reading, action: str, actor: str, outcome: str | None = None) -> Step:
    """The step the table allows, or the refusal in the table's words: 403 for an actor the
    action is not for, 409 for a state it does not start from, 422 for a reading type it
    does not apply to."""
    rule = TRANSITIONS[action]
    if actor not in rule.actors:
        raise Forbidden(rule.forbidden(), code="forbidden_transition", details={"action": action})
    if reading.status not in rule.sources:
        raise Conflict(rule.wrong_state(reading.status), code="invalid_transition",
                       details={"status": reading.status, "action": action})
    kind = common.reading_type(reading)
    if kind not in rule.types:
        raise BusinessRuleViolation(rule.wrong_type(kind), code="not_live" if kind not in LIVE_TYPES
                                    else "not_a_video_message", details={"type": kind, "action": action})
    return rule.step(reading.status, actor, outcome)


def refuse_if_expired(reading: Reading, action: str, now: datetime) -> None:
    """A request past its respond-by time is expired, whether or not the job ran yet."""
    respond_by = common.parse(reading.respond_by)
    if reading.status == "requested" and respond_by is not None and now >= respond_by:
        raise Conflict(TRANSITIONS[action].expired(reading.respond_by or ""), code="request_expired",
                       details={"respondBy": reading.respond_by, "action": action})


def execute(reading: Reading, action: str, actor: str, *, now: datetime, outcome: str | None = None,
            reason: str | None = None, actions: tuple[Any, ...] = (), event: dict[str, Any] | None = None,
            condition: Any = None, timer: tuple[str, datetime] | None = None, refund: int | None = None,
            taken_back: tuple[int, int] | None = None, also: Callable[[Transaction], None] | None = None) -> Reading:
    """Carry out the step of ``action`` the table allows for this reading and actor.

    The step decides the target state, the money and the event; the caller adds its own
    attribute updates (``actions``), an extra ``condition``, the next ``timer`` (none by
    default), a partial ``refund`` (default: the price) and, for a refund after the reader
    was paid, ``taken_back`` = (reader's share, fee's share); ``also`` adds more writes (an
    audit record). Returns the reading as stored after the commit."""
    step = check(reading, action, actor, outcome)
    at = iso(now)
    cost = int(reading.credits_cost)
    writes: list[Any] = [*common.state_actions(reading, step.target, at), *common.timer_actions(timer), *actions]
    data: dict[str, Any] = {"by": actor, **({"reason": reason} if reason else {}), **(event or {})}
    amount = fee = 0
    if step.money == "pay_reader":
        amount, fee = cost, ledger.platform_fee(cost)
        writes += [Reading.completed_at.set(at), Reading.paid_out.set(cost - fee), Reading.fee.set(fee)]
        data["paid"], data["fee"] = cost - fee, fee
    elif step.money == "refund":
        amount = cost if refund is None else refund
        writes.append(Reading.refunded.set(amount))
        data["refunded"] = amount
    elif step.money in ("capture", "release"):
        amount = cost
    if step.target in CLOSED:
        writes += [Reading.closed_at.set(at), Reading.closed_by.set(actor)]
        if reason:
            writes.append(Reading.close_reason.set(reason))
    guard = Reading.status == reading.status
    if condition is not None:
        guard &= condition

    def work(tx: Transaction) -> None:
        tx.update(reading, actions=writes, condition=guard, label="reading")
        _move_money(tx, step, reading, amount, fee, taken_back, at)
        if step.target in SLOTS_FREED:
            common.free_slots(tx, reading)
        if also is not None:
            also(tx)
        outbox.emit(tx, step.event, **common.event_data(reading, **data))

    try:
        atomically(work, retry_on=maturity.retry_on(reading.reader_id),
                   busy="This reading is busy right now; try again in a moment.")
    except ConditionsFailed as failed:
        raise refusal(failed, reading) from failed
    telemetry.reading_transition(action, step.target)
    return common.get(reading.reading_id)


def _move_money(tx: Transaction, step: Step, reading: Reading, amount: int, fee: int,
                taken_back: tuple[int, int] | None, at: str) -> None:
    """The step's movement, dated at the step (``at``), like its event and state change."""
    rid, memo = reading.reading_id, step.memo
    if step.money == "capture":
        ledger.capture(tx, reading.client_id, amount, entry_id=f"capture:{rid}", ref=rid, memo=memo, now=at)
    elif step.money == "release":
        ledger.release(tx, reading.client_id, amount, entry_id=f"release:{rid}", ref=rid, memo=memo, now=at)
    elif step.money == "pay_reader":
        ledger.pay_reader(tx, reading.reader_id, amount, fee=fee, entry_id=f"payout:{rid}", ref=rid, memo=memo,
                          now=at)
        # The reader's share is pending until the dispute window closes (services/payouts/maturity.py).
        maturity.schedule(tx, rid, reading.reader_id, amount - fee, completed_at=at)
    elif step.money == "refund" and taken_back is not None:
        # From earnings before the reader's share matured; after, from payable, then owed.
        maturity.refund_reader_share(tx, reading, amount, reader_share=taken_back[0], fee_share=taken_back[1],
                                     entry_id=f"refund:{rid}", memo=memo, at=at)
    elif step.money == "refund":
        ledger.refund(tx, reading.client_id, amount, entry_id=f"refund:{rid}", ref=rid, memo=memo, now=at)


def refusal(failed: ConditionsFailed, reading: Reading) -> DomainError:
    """A failed commit in words: the reading moved on (409), or a balance would have gone
    below zero (422)."""
    details = {"failed": sorted(failed.labels)}
    if "reading" in failed or ledger.already_applied(failed):
        return Conflict("This reading changed meanwhile; reload it and try again.", code="reading_changed",
                        details=details)
    if ledger.short_of_credits(failed, reading.client_id):
        return ledger.insufficient(reading.client_id)
    if ledger.short_of_credits(failed, reading.reader_id):
        return InsufficientCredits("The reader's earnings no longer cover this refund.",
                                   details={"userId": reading.reader_id})
    return Conflict("This reading changed meanwhile; reload it and try again.", code="reading_changed",
                    details=details)


# --- the use cases that are a step and a rule -------------------------------------------

def accept(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    check(reading, "accept", actor)
    moment = common.now_or(now)
    refuse_if_expired(reading, "accept", moment)
    timer: tuple[str, datetime] | None = None
    actions: list[Any] = [Reading.accepted_at.set(iso(moment))]
    if common.reading_type(reading) == "video_message":
        due = moment + MESSAGE_DELIVERY
        actions.append(Reading.delivery_due_at.set(iso(due)))
        timer = ("deliver_due", due)
    elif reading.scheduled_start:
        begins = common.parse(reading.scheduled_start)
        assert begins is not None
        timer = ("remind", max(begins - REMIND_BEFORE, moment))
    return execute(reading, "accept", actor, now=moment, actions=tuple(actions), timer=timer)


def decline(reading_id: str, user_id: str, role: str, *, reason: str, now: datetime | None = None) -> Reading:
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    check(reading, "decline", actor)
    moment = common.now_or(now)
    refuse_if_expired(reading, "decline", moment)
    return execute(reading, "decline", actor, now=moment, reason=reason)


def cancel(reading_id: str, user_id: str, role: str, *, reason: str | None, now: datetime | None = None) -> Reading:
    """Before acceptance: released (a reader's cancel declines it). After: refunded in
    full; a client may cancel only 24 h or more before a scheduled start, or once a video
    message is past its delivery deadline."""
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    check(reading, "cancel", actor)
    moment = common.now_or(now)
    if reading.status == "requested" and actor == "reader":
        refuse_if_expired(reading, "decline", moment)
    if reading.status == "accepted" and actor == "client":
        start = common.parse(reading.scheduled_start)
        due = common.parse(reading.delivery_due_at)
        late_message = common.reading_type(reading) == "video_message" and due is not None and moment > due
        early_enough = start is not None and start - moment >= FREE_CANCEL_BEFORE
        if not (late_message or early_enough):
            raise BusinessRuleViolation(
                "An accepted reading can be cancelled up to 24 hours before its start (or once a video message "
                "is past its delivery deadline); report a no-show or open a dispute instead.",
                code="cancellation_window_closed")
    return execute(reading, "cancel", actor, now=moment, reason=reason)


def start(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    check(reading, "start", actor)
    moment = common.now_or(now)
    scheduled = common.parse(reading.scheduled_start)
    if scheduled is not None and moment < scheduled - EARLY_START:
        raise BusinessRuleViolation("A scheduled reading can start at most 10 minutes early.", code="too_early")
    # The event carries what punctuality needs (services/metrics/reader.py counts it): the
    # scheduled time (null for an immediate reading), the start and how late it was (0 early).
    late = max(0, round((moment - scheduled).total_seconds())) if scheduled is not None else None
    return execute(reading, "start", actor, now=moment, actions=(Reading.started_at.set(iso(moment)),),
                   event={"scheduledStart": reading.scheduled_start, "startedAt": iso(moment), "lateSeconds": late})


def complete(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    """The reader is paid the price minus the platform fee, once."""
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    return execute(reading, "complete", actor, now=common.now_or(now))


def report_no_show(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    """The other party did not show up: reported by the client, the client is refunded in
    full; reported by the reader, the reader is paid. Only from 15 minutes after the start."""
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    check(reading, "report_no_show", actor)
    moment = common.now_or(now)
    begins = common.parse(reading.scheduled_start) or common.parse(reading.accepted_at)
    if begins is None or moment < begins + NO_SHOW_AFTER:
        raise BusinessRuleViolation("A no-show can be reported 15 minutes after the start.", code="too_early")
    absent = "reader" if actor == "client" else "client"
    return execute(reading, "report_no_show", actor, now=moment, actions=(Reading.no_show.set(absent),),
                   event={"absent": absent})


# --- what the caller could do next ------------------------------------------------------

def allowed_actions(reading: Reading, user_id: str, role: str, now: datetime | None = None) -> list[str]:
    """For the frontend's buttons, from the table (the rules still apply when pressed)."""
    actor = common.party_role(reading, user_id) or ("admin" if role == "admin" else None)
    if actor is None:
        return []
    moment = common.now_or(now)
    kind = common.reading_type(reading)
    actions = [name for name, rule in TRANSITIONS.items()
               if actor in rule.actors and reading.status in rule.sources and kind in rule.types]
    respond_by = common.parse(reading.respond_by)
    if reading.status == "requested" and respond_by is not None and moment >= respond_by:
        actions = [a for a in actions if a not in ("accept", "decline") and not (a == "cancel" and actor == "reader")]
    if actor == "client" and reading.status == "completed":
        completed = common.parse(reading.completed_at)
        if reading.review is None and completed and moment - completed <= REVIEW_WINDOW:
            actions.append("review")
        if "dispute" in actions and (reading.dispute is not None or not (
                completed and moment - completed <= DISPUTE_WINDOW)):
            actions.remove("dispute")
    if actor in ("client", "reader") and joining.joinable(reading, moment):
        actions.append("join")
    return actions

