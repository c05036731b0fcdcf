"""``PATCH /admin/users/{userId}``: an admin changes a user's role, suspends or reinstates them.

* **Never one's own account** (403 ``own_account``), and every change checks, in its own
  transaction, that its actor is still an active admin. Together they keep an admin on the
  platform without counting admins: whoever demotes or suspends an admin is another admin
  who stays one, and two admins demoting each other at once cannot both commit (each
  transaction checks the item the other one writes; DynamoDB serialises them, so the later
  one fails its check: 409 ``admin_access_changed``).
* **Roles**: client <-> admin. A user becomes a reader only through an approved reader
  application, and a reader's role is not changed here: their profile, readings and
  earnings hang on it. Suspend a reader instead (both 422).
* **Suspend**: a reason (the user sees it on ``GET /me``) and an optional end in the future;
  suspending a suspended user updates the suspension (the new reason and end replace the old
  ones, audited before/after; "since" stays), or starts a new one when the old one has ended.
  From the user's next request every route but ``GET /me`` answers 403 ``account_suspended``
  (the caller's item is read consistently). A reader's approved profile becomes ``suspended``
  in the same transaction: offline, not bookable (booking needs an approved profile), and out
  of explore: ``GET /readers/{id}`` at once, ``GET /readers`` at the next snapshot build
  (``reader.card_changed``, within the minute).
* **Reinstate**: the user is active again, a suspended reader profile approved again.
* **An end needs nobody**: past ``suspendedUntil`` the suspension no longer counts
  (``domain.accounts.effective_status``, per request); ``end_due`` (the
  ``suspension_expiry`` job) then writes it back as a reinstatement by ``system``, which
  also brings a reader's card back.
* Every change is conditioned on the user's role, status and suspension as read (409
  ``user_changed``) and commits with its audit record (before/after, the request id) and its
  event (``user.role_changed``, ``user.suspended``, ``user.reinstated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.accounts import ACTIVE, DELETED, SUSPENDED, effective_status
from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.services import audit, outbox
from chalicelib.services.readers import APPROVED, blind
from chalicelib.services.tx import ConditionsFailed, Transaction, TransactionConflict, atomically

SYSTEM_ACTOR = "system"  # the actor of the audit records the expiry job writes
CHANGEABLE_ROLES = ("client", "admin")


@dataclass(frozen=True)
class Suspension:
    reason: str
    until: datetime | None = None


def get(user_id: str) -> User:
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist as exc:
        raise NotFound("user", code="user_not_found") from exc


def change(
    user_id: str,
    *,
    actor_id: str,
    role: str | None = None,
    suspend: Suspension | None = None,
    reinstate: bool = False,
    note: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> User:
    """Apply what the admin asked (a role, a suspension or a reinstatement; role with either)
    in one transaction; returns the user as stored after it. Asking for what already holds
    (the current role) changes and records nothing."""
    moment = now or utcnow()
    if user_id == actor_id:
        raise Forbidden(
            "You cannot change your own role or suspend yourself; another admin must do it, so the "
            "platform always keeps an admin.",
            code="own_account",
        )
    target = get(user_id)
    if target.status == DELETED:
        raise Conflict("This account was deleted; it can no longer be changed.", code="user_deleted")
    new_role = _new_role(target, role)
    if suspend is not None and suspend.until is not None and suspend.until <= moment:
        raise ValidationFailed(
            "The request is not valid.",
            details={
                "fields": [
                    {
                        "path": "suspend.until",
                        "type": "value_error",
                        "message": "Must be in the future; leave it out for a suspension until reinstated.",
                    }
                ]
            },
        )
    if reinstate and target.status != SUSPENDED:
        raise Conflict("This account is not suspended, so there is nothing to reinstate.", code="user_not_suspended")
    if new_role is None and suspend is None and not reinstate:
        return target
    profile = _reader_profile(target) if suspend is not None or reinstate else None
    stamp = iso(moment)

    def work(tx: Transaction) -> None:
        actions: list[Action] = [User.updated_at.set(stamp)]
        if new_role is not None:
            actions.append(User.role.set(new_role))
            audit.record(
                tx,
                actor_id=actor_id,
                action="user.role_change",
                entity_type="user",
                entity_id=user_id,
                before={"role": target.role},
                after={"role": new_role},
                request_id=request_id,
            )
            outbox.emit(tx, "user.role_changed", userId=user_id, before=target.role, after=new_role, changedBy=actor_id)
        if suspend is not None:
            actions += _suspend(tx, target, profile, suspend, actor_id=actor_id, now=moment, request_id=request_id)
        if reinstate:
            actions += _reinstate(tx, target, profile, actor_id=actor_id, stamp=stamp, note=note, request_id=request_id)
        tx.update(User(user_id=user_id), actions=actions, condition=_as_read(target), label="user")
        tx.condition_check(User, actor_id, condition=_active_admin(stamp), label="actor")

    try:
        atomically(work)
    except ConditionsFailed as failed:
        conflict = _conflict(failed)
        if conflict is None:
            raise
        raise conflict from failed
    return get(user_id)


def _new_role(target: User, role: str | None) -> str | None:
    """The role to write (None: unchanged); 422 for the changes only other flows make."""
    if role is None or role == target.role:
        return None
    if role not in CHANGEABLE_ROLES:
        raise BusinessRuleViolation(
            "A user becomes a reader only when an admin approves their reader application "
            "(POST /admin/reader-applications/{applicationId}/approve).",
            code="reader_by_application",
        )
    if target.role not in CHANGEABLE_ROLES:
        raise BusinessRuleViolation(
            "A reader's role cannot be changed: their profile, readings and earnings depend "
            "on it. Suspend the account to stop them working.",
            code="reader_role_fixed",
        )
    return role


def _reader_profile(target: User) -> ReaderProfile | None:
    if target.role != "reader":
        return None
    try:
        return ReaderProfile.get(target.user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return None


def _suspension_document(user: User) -> dict[str, Any]:
    return {
        key: value
        for key, value in (
            ("status", user.status),
            ("suspensionReason", user.suspension_reason),
            ("suspendedUntil", user.suspended_until),
        )
        if value is not None
    }


def _suspend(
    tx: Transaction,
    target: User,
    profile: ReaderProfile | None,
    suspension: Suspension,
    *,
    actor_id: str,
    now: datetime,
    request_id: str | None,
) -> list[Action]:
    stamp = iso(now)
    until = iso(suspension.until) if suspension.until is not None else None
    # Suspending again updates the suspension: the new reason and end replace the old ones (the
    # audit record shows both), "since" stays the first moment. A suspension past its end no
    # longer counts (the expiry job may not have written it back yet): a new one starts now.
    ongoing = effective_status(target.status, target.suspended_until, now) == SUSPENDED
    since = target.suspended_at if ongoing and target.suspended_at else stamp
    after: dict[str, Any] = {"status": SUSPENDED, "suspensionReason": suspension.reason, "suspendedUntil": until}
    before = _suspension_document(target) if ongoing else {"status": ACTIVE}
    if profile is not None and profile.status == APPROVED:
        _set_profile(tx, profile, SUSPENDED, stamp)
        before["readerProfileStatus"], after["readerProfileStatus"] = APPROVED, SUSPENDED
    audit.record(
        tx,
        actor_id=actor_id,
        action="user.suspend",
        entity_type="user",
        entity_id=target.user_id,
        before=before,
        after={k: v for k, v in after.items() if v is not None},
        request_id=request_id,
    )
    outbox.emit(
        tx,
        "user.suspended",
        userId=target.user_id,
        role=target.role,
        reason=suspension.reason,
        until=until,
        suspendedBy=actor_id,
        suspendedAt=since,
    )
    return [
        User.status.set(SUSPENDED),
        User.suspension_reason.set(suspension.reason),
        User.suspended_at.set(since),
        User.suspended_by.set(actor_id),
        User.suspended_until.set(until) if until is not None else User.suspended_until.remove(),
    ]


def _reinstate(
    tx: Transaction,
    target: User,
    profile: ReaderProfile | None,
    *,
    actor_id: str,
    stamp: str,
    note: str | None,
    request_id: str | None,
) -> list[Action]:
    before = _suspension_document(target)
    after: dict[str, Any] = {"status": ACTIVE, **({"note": note} if note else {})}
    if profile is not None and profile.status == SUSPENDED:
        _set_profile(tx, profile, APPROVED, stamp)
        before["readerProfileStatus"], after["readerProfileStatus"] = SUSPENDED, APPROVED
    audit.record(
        tx,
        actor_id=actor_id,
        action="user.reinstate",
        entity_type="user",
        entity_id=target.user_id,
        before=before,
        after=after,
        request_id=request_id,
    )
    outbox.emit(
        tx,
        "user.reinstated",
        userId=target.user_id,
        role=target.role,
        reinstatedBy=actor_id,
        reason="suspension_ended" if actor_id == SYSTEM_ACTOR else "admin",
    )
    return [
        User.status.set(ACTIVE),
        User.suspension_reason.remove(),
        User.suspended_at.remove(),
        User.suspended_by.remove(),
        User.suspended_until.remove(),
    ]


def _set_profile(tx: Transaction, profile: ReaderProfile, status: str, stamp: str) -> None:
    """A reader's profile follows the account: suspended (and offline), or approved again."""
    actions: list[Action] = [ReaderProfile.status.set(status), ReaderProfile.updated_at.set(stamp)]
    if status == SUSPENDED:
        actions += [ReaderProfile.is_online.set(False), ReaderProfile.online_flag.remove()]
    tx.update(
        blind(profile.reader_id),
        actions=actions,
        condition=ReaderProfile.status == profile.status,
        add_version_condition=False,
        label="profile",
    )
    outbox.emit(
        tx,
        "reader.card_changed",
        readerId=profile.reader_id,
        reason="suspended" if status == SUSPENDED else "reinstated",
    )
    if status == SUSPENDED and profile.is_online:
        outbox.emit(
            tx,
            "reader.online_changed",
            reader_id=profile.reader_id,
            is_online=False,
            last_seen_at=profile.last_seen_at or stamp,
            reason="suspended",
        )


def _as_read(target: User) -> Any:
    """The user is still as this request read them: role, status and suspension."""
    since = (User.suspended_at == target.suspended_at) if target.suspended_at else User.suspended_at.does_not_exist()
    return (User.role == target.role) & (User.status == target.status) & since


def _active_admin(stamp: str) -> Any:
    """The actor is an admin whose account counts as active at ``stamp`` (a suspension past its end counts)."""
    ended = (User.status == SUSPENDED) & User.suspended_until.exists() & (User.suspended_until <= stamp)
    return (User.role == "admin") & ((User.status == ACTIVE) | ended)


def _conflict(failed: ConditionsFailed) -> Conflict | None:
    if "actor" in failed:
        return Conflict(
            "Your own admin access changed while this request ran (another admin changed your "
            "account); nothing was changed.",
            code="admin_access_changed",
        )
    if "user" in failed or "profile" in failed:
        return Conflict(
            "This account changed while you were changing it; reload it and try again.", code="user_changed"
        )
    return None


# --- suspensions that end by themselves ------------------------------------------------------------


def end_due(*, now: datetime | None = None) -> list[str]:
    """Reinstate (as ``system``) every suspension whose end has passed; their ids. One Query of
    the suspended partition (few users), then one transaction each, conditioned on the
    suspension read: an admin's change meanwhile wins. Safe to run concurrently and again."""
    moment = now or utcnow()
    stamp = iso(moment)
    ended = []
    due = User.by_status.query(SUSPENDED, filter_condition=User.suspended_until <= stamp)
    for target in due:
        profile = _reader_profile(target)
        tx = Transaction()
        actions = [
            User.updated_at.set(stamp),
            *_reinstate(
                tx, target, profile, actor_id=SYSTEM_ACTOR, stamp=stamp, note="suspension ended", request_id=None
            ),
        ]
        tx.update(User(user_id=target.user_id), actions=actions, condition=_as_read(target), label="user")
        try:
            tx.commit()
        except (ConditionsFailed, TransactionConflict):
            continue  # an admin changed the account meanwhile: their change stands
        ended.append(target.user_id)
    if ended:
        logger.info("suspensions ended", extra={"count": len(ended)})
    return ended
