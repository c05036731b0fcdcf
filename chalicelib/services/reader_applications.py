"""Reader applications: the applicant's multi-step draft, submission, and the admin's decision.

An application is the applicant's ``ReaderProfile`` item (key: the user id) while its
status is draft, pending or declined:

    (none) --PUT--> draft --submit--> pending --approve--> approved (user becomes a reader)
                      ^                   |
                      |                   +--decline--> declined --PUT (edit)/submit--> pending
                      +-------------------------------------(edit)

* Only a client may apply; a reader (an approved application) gets 409 ``already_reader``.
* A draft and a declined application are editable; a pending one is not (409
  ``application_pending``): the admin decides on what was submitted.
* A declined applicant may edit and resubmit; the application stays ``declined`` (with its
  ``declineReason`` visible) until resubmitted, when the reason is cleared (the audit log
  keeps it) and ``submissionCount`` goes up.
* Approval is one transaction: profile pending -> approved (on status and version), user
  role client -> reader (on the current role), two audit records, one outbox event.
  Either everything commits or nothing does. A decision on one's own application is 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain import option_moderation
from chalicelib.domain.moderation import HELD, marked
from chalicelib.domain.readers import Attributes, CompleteApplication
from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import MODERATED_FIELDS, ReaderProfile
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import audit, moderation, outbox
from chalicelib.services.readers import (
    TEXT_FIELDS,
    active_catalog,
    attribute_errors,
    attributes_document,
    availability_document,
    check_attributes,
    check_images,
    check_reading_types,
    moderation_marks,
    options_document,
    own_reading_options,
    plain,
    profile_document,
    reading_type_errors,
    validation_fields,
)
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

EDITABLE = ("draft", "declined")
PENDING = "pending"
_SIMPLE_FIELDS = ("display_name", "tagline", "bio", "location", "profile_image", "background_image", "experience")


def _get(user_id: str) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return None


def get_own(user_id: str) -> ReaderProfile:
    profile = _get(user_id)
    if profile is None:
        raise NotFound("reader application", code="application_not_found")
    return profile


def _refuse_if_not_editable(profile: ReaderProfile | None, role: str) -> None:
    if role != "client" or (profile is not None and profile.status in ("approved", "suspended")):
        raise Conflict("You are already a reader; edit your profile at /reader/profile instead.",
                       code="already_reader")
    if profile is not None and profile.status == PENDING:
        raise Conflict("Your application is under review and cannot change until it is decided.",
                       code="application_pending")


def _draft_actions(user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """{model attribute: new value (None: remove)} for the fields present in the draft."""
    check_images(user_id, {name: changes[attr] for attr, name in
                           (("profile_image", "profileImage"), ("background_image", "backgroundImage"))
                           if attr in changes})
    values: dict[str, Any] = {attr: changes[attr] for attr in _SIMPLE_FIELDS if attr in changes}
    if "step" in changes:
        values["application_step"] = changes["step"]
    attributes = changes.get("attributes")
    options = changes.get("reading_options")
    active = active_catalog() if attributes is not None or options else None
    if "attributes" in changes:
        if attributes is None:
            values["attributes"] = values["attribute_names"] = None
        else:
            assert active is not None
            values["attribute_names"] = check_attributes(attributes, active)
            values["attributes"] = attributes_document(attributes)
    if "reading_options" in changes:
        if options:
            assert active is not None
            check_reading_types(options, active)
        values["reading_options"] = None if options is None else options_document(options)
    if "availability" in changes:
        availability = changes["availability"]
        values["availability"] = None if availability is None else availability_document(availability)
    return values


def save_draft(user_id: str, role: str, changes: dict[str, Any], *, now: datetime | None = None) -> ReaderProfile:
    """Create or update the caller's draft with the fields present in ``changes`` ({field:
    value, None clears it}; attributes, reading options and availability as domain values).
    Optimistic: the write is conditioned on what was read, so a concurrent edit or submit
    is a 409."""
    existing = _get(user_id)
    _refuse_if_not_editable(existing, role)
    values = _draft_actions(user_id, changes)
    # The profile text becomes the public card on approval: screened like the card's edits, and
    # so are the options' names and descriptions that changed.
    texts: dict[str, str | None] = {name: values[attr] for attr, name in TEXT_FIELDS.items() if attr in values}
    options: list[dict[str, Any]] | None = values.get("reading_options")
    before = {str(o.get("id")): o for o in plain(existing.reading_options) or []} if existing is not None else {}
    if options:
        texts.update(option_moderation.changed_texts(options, before))
    verdict = (moderation.screen("profile", texts, author_id=user_id, role=role,
                                 paths=option_moderation.request_paths(options or []))
               if texts else None)

    def stored_options(item_id: str | None) -> list[dict[str, Any]]:
        return option_moderation.merged(options or [], before, screened=verdict.fields if verdict else (),
                                        held=verdict.held_fields if verdict else (), item_id=item_id,
                                        keep_approved=False)

    stamp = iso(now or utcnow())
    if existing is None:
        def create(tx: Transaction) -> ReaderProfile:
            profile = ReaderProfile(reader_id=user_id, status="draft", created_at=stamp, updated_at=stamp,
                                    **{k: v for k, v in values.items() if v is not None})
            item_id = verdict.record(tx, user_id) if verdict is not None else None
            for name in verdict.held_fields if verdict is not None else ():
                if name in MODERATED_FIELDS:
                    setattr(profile, MODERATED_FIELDS[name], marked(HELD, str(item_id)))
            if options:
                profile.reading_options = stored_options(item_id)
            tx.save(profile, condition=ReaderProfile.reader_id.does_not_exist(), label="profile")
            return profile

        try:
            return atomically(create, retry_on=moderation.conflicted)
        except ConditionsFailed as failed:
            raise Conflict("Another request created your application; reload it and try again.",
                           code="concurrent_change") from failed
    actions: list[Any] = [ReaderProfile.updated_at.set(stamp)]
    for attr, value in values.items():
        if attr == "reading_options" and options:
            continue  # with their moderation, once the queue item is known
        column = getattr(ReaderProfile, attr)
        actions.append(column.remove() if value is None else column.set(value))

    def edit(tx: Transaction) -> None:
        item_id, marks = moderation_marks(tx, verdict, user_id)
        if options:
            marks.append(ReaderProfile.reading_options.set(stored_options(item_id)))
        tx.update(existing, actions=[*actions, *marks], condition=ReaderProfile.status.is_in(*EDITABLE),
                  label="profile")  # and on the version read (PynamoDB)

    try:
        atomically(edit, retry_on=moderation.conflicted)
    except ConditionsFailed as failed:
        raise Conflict("Your application changed while you were editing it; reload it and try again.",
                       code="concurrent_change") from failed
    return ReaderProfile.get(user_id, consistent_read=True)


def missing_for_submit(profile: ReaderProfile) -> list[str]:
    """The paths a submission would reject (empty: ready to submit)."""
    try:
        CompleteApplication.model_validate(_stored_document(profile))
    except ValidationError as exc:
        return sorted({error["path"] for error in validation_fields(exc)})
    return []


def _stored_document(profile: ReaderProfile) -> dict[str, Any]:
    return {
        "displayName": profile.display_name,
        "tagline": profile.tagline,
        "bio": profile.bio,
        "attributes": plain(profile.attributes),
        "readingOptions": plain(profile.reading_options),
        "availability": plain(profile.availability),
    }


def _check_complete(profile: ReaderProfile) -> None:
    """A complete profile whose catalog values are still active (the catalog may have
    changed since the draft was saved)."""
    document = _stored_document(profile)
    try:
        complete = CompleteApplication.model_validate(document)
    except ValidationError as exc:
        raise BusinessRuleViolation("The application is incomplete.", code="application_incomplete",
                                    details={"fields": validation_fields(exc)}) from exc
    active = active_catalog()
    stored = complete.attributes
    _, problems = attribute_errors(Attributes(tools=tuple(stored.tools), abilities=tuple(stored.abilities),
                                              style=stored.style), active)
    problems += reading_type_errors([str(option.get("type")) for option in complete.reading_options], active)
    if problems:
        raise BusinessRuleViolation("The application uses catalog values that are no longer offered.",
                                    code="application_incomplete", details={"fields": problems})


def submit(user_id: str, role: str, *, now: datetime | None = None) -> ReaderProfile:
    profile = _get(user_id)
    if profile is None:
        raise NotFound("reader application", code="application_not_found")
    _refuse_if_not_editable(profile, role)
    _check_complete(profile)
    stamp = iso(now or utcnow())

    def submit_it(tx: Transaction) -> None:
        tx.update(profile, actions=[
            ReaderProfile.status.set(PENDING),
            ReaderProfile.submitted_at.set(stamp),
            ReaderProfile.updated_at.set(stamp),
            ReaderProfile.submission_count.add(1),
            ReaderProfile.decline_reason.remove(),
            ReaderProfile.decided_at.remove(),
            ReaderProfile.decided_by.remove(),
        ], condition=ReaderProfile.status.is_in(*EDITABLE), label="application")
        outbox.emit(tx, "reader_application.submitted", application_id=user_id, user_id=user_id,
                    submitted_at=stamp, submission=int(profile.submission_count or 0) + 1)

    try:
        atomically(submit_it)
    except ConditionsFailed as failed:
        if "application" not in failed:
            raise
        current = _get(user_id)
        if current is not None and current.status == PENDING:
            raise Conflict("This application has already been submitted.", code="application_pending") from failed
        raise Conflict("Your application changed while it was being submitted; reload it and try again.",
                       code="concurrent_change") from failed
    profile.status, profile.submitted_at, profile.updated_at = PENDING, stamp, stamp
    profile.submission_count = int(profile.submission_count or 0) + 1
    profile.decline_reason = profile.decided_at = profile.decided_by = None
    return profile


def application_document(profile: ReaderProfile) -> dict[str, Any]:
    return {
        **profile_document(profile),
        "readingOptions": own_reading_options(profile),  # the applicant's text, held or not
        "experience": profile.experience,
        "step": int(profile.application_step) if profile.application_step is not None else None,
        "submittedAt": profile.submitted_at,
        "decidedAt": profile.decided_at,
        "declineReason": profile.decline_reason,
        "submissionCount": int(profile.submission_count or 0),
        "missingForSubmit": missing_for_submit(profile) if profile.status in EDITABLE else [],
    }


# --- the admin's side -----------------------------------------------------------------------------


def list_by_status(status: str, *, limit: int, cursor: str | None) -> PageResult[ReaderProfile]:
    """One Query on byStatus, oldest submission first (drafts have no submittedAt and never
    appear)."""
    return query_page(lambda size, start: ReaderProfile.by_status.query(
        status, limit=size, last_evaluated_key=start, scan_index_forward=True),
        limit=limit, cursor=cursor, scope=f"GET /admin/reader-applications:{status}")


def _pending_application(application_id: str, admin_id: str) -> ReaderProfile:
    if application_id == admin_id:
        raise Forbidden("You may not decide on your own reader application.", code="self_approval")
    profile = _get(application_id)
    if profile is None:
        raise NotFound("reader application", code="application_not_found")
    if profile.status != PENDING:
        raise Conflict(f"The application is {profile.status}, not pending.", code="application_not_pending",
                       details={"status": profile.status})
    return profile


def approve(application_id: str, *, admin_id: str, request_id: str | None = None,
            now: datetime | None = None) -> ReaderProfile:
    profile = _pending_application(application_id, admin_id)
    stamp = iso(now or utcnow())

    def approve_it(tx: Transaction) -> None:
        tx.update(profile, actions=[
            ReaderProfile.status.set("approved"),
            ReaderProfile.decided_at.set(stamp),
            ReaderProfile.decided_by.set(admin_id),
            ReaderProfile.updated_at.set(stamp),
        ], condition=ReaderProfile.status == PENDING, label="application")
        # A suspended applicant is not made a reader (their card and bookings would bypass the suspension).
        tx.update(User(user_id=application_id), actions=[User.role.set("reader"), User.updated_at.set(stamp)],
                  condition=(User.role == "client") & (User.status == "active"), label="user")
        audit.record(tx, actor_id=admin_id, action="reader_application.approve", entity_type="reader_application",
                     entity_id=application_id, before={"status": PENDING}, after={"status": "approved"},
                     request_id=request_id)
        audit.record(tx, actor_id=admin_id, action="user.role_change", entity_type="user",
                     entity_id=application_id, before={"role": "client"}, after={"role": "reader"},
                     request_id=request_id)
        outbox.emit(tx, "reader_application.approved", application_id=application_id, user_id=application_id,
                    decided_by=admin_id, decided_at=stamp)

    try:
        atomically(approve_it)
    except ConditionsFailed as failed:
        raise _decision_conflict(application_id, failed) from failed
    profile.status, profile.decided_at, profile.decided_by, profile.updated_at = "approved", stamp, admin_id, stamp
    return profile


def decline(application_id: str, reason: str, *, admin_id: str, request_id: str | None = None,
            now: datetime | None = None) -> ReaderProfile:
    profile = _pending_application(application_id, admin_id)
    stamp = iso(now or utcnow())

    def decline_it(tx: Transaction) -> None:
        tx.update(profile, actions=[
            ReaderProfile.status.set("declined"),
            ReaderProfile.decline_reason.set(reason),
            ReaderProfile.decided_at.set(stamp),
            ReaderProfile.decided_by.set(admin_id),
            ReaderProfile.updated_at.set(stamp),
        ], condition=ReaderProfile.status == PENDING, label="application")
        audit.record(tx, actor_id=admin_id, action="reader_application.decline", entity_type="reader_application",
                     entity_id=application_id, before={"status": PENDING},
                     after={"status": "declined", "declineReason": reason}, request_id=request_id)
        outbox.emit(tx, "reader_application.declined", application_id=application_id, user_id=application_id,
                    reason=reason, decided_by=admin_id, decided_at=stamp)

    try:
        atomically(decline_it)
    except ConditionsFailed as failed:
        raise _decision_conflict(application_id, failed) from failed
    profile.status, profile.decline_reason, profile.decided_at = "declined", reason, stamp
    profile.decided_by, profile.updated_at = admin_id, stamp
    return profile


def _decision_conflict(application_id: str, failed: ConditionsFailed) -> Conflict:
    """The 409 for the condition that stopped a decision (by its label), with the current state."""
    if "user" in failed:
        try:
            user: User | None = User.get(application_id, consistent_read=True)
        except User.DoesNotExist:
            user = None
        if user is not None and user.role == "client" and user.status != "active":
            return Conflict(f"The applicant's account is {user.status}; reinstate it before approving the "
                            "application.", code="applicant_not_active", details={"status": user.status})
        role = user.role if user is not None else None
        return Conflict(f"The applicant's role is {role or 'missing'}, not client; nothing was changed.",
                        code="applicant_not_client", details={"role": role})
    current = _get(application_id)
    status = current.status if current is not None else "gone"
    if status != PENDING:
        return Conflict(f"The application is {status}, not pending (another request decided it).",
                        code="application_not_pending", details={"status": status})
    return Conflict("The application changed during the decision; reload it and try again.",
                    code="concurrent_change")
