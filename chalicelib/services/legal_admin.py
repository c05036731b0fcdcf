"""Legal documents, as admins write them: create a version (a draft, or published at once),
edit a draft, publish it, delete it (services/legal.py reads them).

Decisions:

* **A version is a draft until published, then immutable.** A published version never changes
  (409 ``document_published``): a correction is a new version. Publishing makes the version the
  one in force (``isActive``) and the previous one stays readable by its version
  (``GET /legal/{type}?version=``).
* **Re-acceptance follows the change, not the count.** A version of the terms or the privacy
  policy marked ``requiresReacceptance`` (the default: a material change) asks every user to
  accept it before their next booking; one marked false (a typo fix) does not, and a user who
  accepted an earlier version since the last material change stays in good standing. The
  first published version of either always counts (services/compliance.py checks it).
* ``effectiveDate`` is the date the text states (default: the day of publication). A version
  is in force, and enforced, from its publication.
* Every write commits with its audit record (``legal_document.created``, ``.updated``,
  ``.published``, ``.deleted``), and a publication also with the pointer to the version in
  force (written on the publication count it read: two publications of one type cannot both win).
* Drafts take ``If-Match`` (their revision): with it, only that revision changes (else 409);
  without it, a lost race is read again and re-applied.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from chalicelib.domain.legal import ACCEPTED_TYPES, NAMES, document_id, requires_acceptance_by_default
from chalicelib.errors import Conflict
from chalicelib.models.base import iso, utcnow
from chalicelib.models.legal import LegalActiveItem, LegalDocumentItem, active_sk, document_sk
from chalicelib.services import audit, legal
from chalicelib.services.legal import (
    Document,
    active_of_item,
    document_of,
    find,
    read_active_item,
    read_item,
)
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

ENTITY = "legal_document"
_ATTEMPTS = 3


def _publication(tx: Transaction, document: Document, actor_id: str, at: str) -> Document:
    """Add to ``tx`` what makes ``document`` the version in force: the pointer (on the
    publication count read), the previous version's ``isActive`` false. Returns the
    document as published (not written: the caller writes it, as a put or an update)."""
    pointer = read_active_item(document.type)
    sequence = int(pointer.sequence) + 1 if pointer is not None else 1
    accepted = document.type in ACCEPTED_TYPES
    first_acceptance = pointer is None or pointer.acceptance_sequence is None
    if accepted and (document.requires_reacceptance or first_acceptance):
        acceptance: tuple[str | None, int | None] = (document.version, sequence)
    else:
        before = active_of_item(pointer) if pointer is not None else None
        acceptance = (before.acceptance_version, before.acceptance_sequence) if before else (None, None)
    effective = document.effective_date or at[:10]
    tx.save(
        LegalActiveItem(
            sk=active_sk(document.type),
            document_type=document.type,
            version=document.version,
            title=document.title,
            effective_date=effective,
            sequence=sequence,
            acceptance_version=acceptance[0],
            acceptance_sequence=acceptance[1],
            published_at=at,
        ),
        condition=LegalActiveItem.sk.does_not_exist()
        if pointer is None
        else LegalActiveItem.sequence == pointer.sequence,
        label="active",
    )
    previous_id = None
    if pointer is not None:
        previous = read_item(document.type, pointer.version)
        if previous is not None:
            previous_id = document_id(document.type, pointer.version)
            tx.update(
                previous,
                actions=[LegalDocumentItem.is_active.set(False)],
                condition=LegalDocumentItem.is_active == True,  # noqa: E712
                label="previous",
            )
    return replace(
        document,
        status="published",
        is_active=True,
        sequence=sequence,
        effective_date=effective,
        previous_version_id=previous_id,
        published_at=at,
        published_by=actor_id,
        updated_at=at,
    )


def _publish_conflict(document_type: str, failed: ConditionsFailed) -> Conflict:
    return Conflict(
        f"Another version of the {NAMES[document_type]} was published at the same moment; reload "
        "the list and try again.",
        code="concurrent_publication",
        details={"failed": sorted(failed.labels)},
    )


def create(
    document_type: str,
    version: str,
    *,
    title: str,
    content: str,
    effective_date: date | None,
    requires_reacceptance: bool | None,
    change_summary: str | None,
    publish: bool,
    actor_id: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Document:
    """A new version, as a draft or (``publish``) in force at once; 409 if the version exists."""
    at = iso(now or utcnow())
    requires = (
        requires_acceptance_by_default(document_type)
        if requires_reacceptance is None
        else requires_reacceptance and document_type in ACCEPTED_TYPES
    )
    draft = Document(
        id=document_id(document_type, version),
        type=document_type,
        version=version,
        title=title,
        content=content,
        effective_date=effective_date.isoformat() if effective_date else None,
        status="draft",
        is_active=False,
        requires_reacceptance=requires,
        change_summary=change_summary,
        sequence=None,
        previous_version_id=None,
        created_at=at,
        created_by=actor_id,
        updated_at=at,
        published_at=None,
        published_by=None,
        revision=1,
    )

    def work(tx: Transaction) -> Document:
        document = _publication(tx, draft, actor_id, at) if publish else draft
        tx.save(_item(document), condition=LegalDocumentItem.sk.does_not_exist(), label="document")
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.{'published' if publish else 'created'}",
            entity_type=ENTITY,
            entity_id=document.id,
            before=None,
            after=document.audit_view(),
            request_id=request_id,
        )
        return document

    try:
        created = atomically(
            work, retry_on=lambda failed: "document" not in failed and "active" in failed, attempts=_ATTEMPTS
        )
    except ConditionsFailed as failed:
        if "document" in failed:
            raise Conflict(
                f"Version {version!r} of the {NAMES[document_type]} already exists; choose another version label.",
                code="duplicate_version",
                details={"id": draft.id, "type": document_type, "version": version},
            ) from failed
        raise _publish_conflict(document_type, failed) from failed
    if publish:
        legal.forget_cached()
    return created


def _item(document: Document) -> LegalDocumentItem:
    return LegalDocumentItem(
        sk=document_sk(document.type, document.version),
        document_type=document.type,
        version=document.version,
        title=document.title,
        content=document.content,
        effective_date=document.effective_date,
        status=document.status,
        is_active=document.is_active,
        requires_reacceptance=document.requires_reacceptance,
        change_summary=document.change_summary,
        sequence=document.sequence,
        previous_version_id=document.previous_version_id,
        created_at=document.created_at,
        created_by=document.created_by,
        updated_at=document.updated_at,
        published_at=document.published_at,
        published_by=document.published_by,
    )


def _draft(document_id_: str, expected_revision: int | None, doing: str) -> tuple[LegalDocumentItem, Document]:
    """The draft to change, read now: 404, 409 once published, 409 on another revision."""
    current = find(document_id_)
    if current.status != "draft":
        raise Conflict(
            f"Version {current.version!r} of the {NAMES[current.type]} is published and can no longer "
            f"be {doing}; publish a new version instead.",
            code="document_published",
            details={"id": current.id},
        )
    if expected_revision is not None and current.revision != expected_revision:
        raise Conflict(
            f"This draft is at revision {current.revision}, not {expected_revision}; reload it.",
            code="version_mismatch",
            details={"currentRevision": current.revision},
        )
    item = read_item(current.type, current.version)
    assert item is not None
    return item, document_of(item)


def update_draft(
    document_id_: str,
    changes: dict[str, Any],
    *,
    expected_revision: int | None,
    actor_id: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Change a draft's title, content, effective date, re-acceptance flag or summary."""

    def work(tx: Transaction) -> Document:
        item, current = _draft(document_id_, expected_revision, "changed")
        fields = dict(changes)
        if "effective_date" in fields and isinstance(fields["effective_date"], date):
            fields["effective_date"] = fields["effective_date"].isoformat()
        if "requires_reacceptance" in fields:
            fields["requires_reacceptance"] = bool(fields["requires_reacceptance"]) and current.type in ACCEPTED_TYPES
        updated = replace(current, **fields)
        if updated == current:
            return current
        at = iso(now or utcnow())
        updated = replace(updated, updated_at=at, revision=current.revision + 1)
        attributes = {name: getattr(LegalDocumentItem, name) for name in fields}
        actions = [
            attributes[name].set(value) if value is not None else attributes[name].remove()
            for name, value in fields.items()
        ]
        tx.update(
            item,
            actions=[*actions, LegalDocumentItem.updated_at.set(at)],
            condition=LegalDocumentItem.status == "draft",
            label="document",
        )
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.updated",
            entity_type=ENTITY,
            entity_id=current.id,
            before=current.audit_view(),
            after=updated.audit_view(),
            request_id=request_id,
        )
        return updated

    return _changing(work, expected_revision)


def publish(
    document_id_: str,
    *,
    expected_revision: int | None,
    actor_id: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Make a draft the version in force."""

    def work(tx: Transaction) -> Document:
        item, current = _draft(document_id_, expected_revision, "published again")
        at = iso(now or utcnow())
        document = _publication(tx, current, actor_id, at)
        assert document.sequence is not None and document.effective_date is not None
        tx.update(
            item,
            actions=[
                LegalDocumentItem.status.set("published"),
                LegalDocumentItem.is_active.set(True),
                LegalDocumentItem.sequence.set(document.sequence),
                LegalDocumentItem.effective_date.set(document.effective_date),
                LegalDocumentItem.previous_version_id.set(document.previous_version_id)
                if document.previous_version_id
                else LegalDocumentItem.previous_version_id.remove(),
                LegalDocumentItem.published_at.set(at),
                LegalDocumentItem.published_by.set(actor_id),
                LegalDocumentItem.updated_at.set(at),
            ],
            condition=LegalDocumentItem.status == "draft",
            label="document",
        )
        document = replace(document, revision=current.revision + 1)
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.published",
            entity_type=ENTITY,
            entity_id=current.id,
            before=current.audit_view(),
            after=document.audit_view(),
            request_id=request_id,
        )
        return document

    published = _changing(work, expected_revision)
    legal.forget_cached()
    return published


def delete_draft(
    document_id_: str,
    *,
    expected_revision: int | None,
    actor_id: str,
    request_id: str | None = None,
) -> None:
    """Remove a draft (a published version stays forever: 409)."""

    def work(tx: Transaction) -> None:
        item, current = _draft(document_id_, expected_revision, "deleted")
        tx.delete(item, condition=LegalDocumentItem.status == "draft", label="document")
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.deleted",
            entity_type=ENTITY,
            entity_id=current.id,
            before=current.audit_view(),
            after=None,
            request_id=request_id,
        )

    _changing(work, expected_revision)


def _changing(work: Any, expected_revision: int | None) -> Any:
    """Run a draft's change: a lost race is re-read and re-applied (without If-Match) or a 409."""
    try:
        return atomically(work, retry_on=lambda failed: expected_revision is None, attempts=_ATTEMPTS)
    except ConditionsFailed as failed:
        if expected_revision is not None and "document" in failed:
            raise Conflict(
                f"This draft changed since revision {expected_revision}; reload it.", code="version_mismatch"
            ) from failed
        raise Conflict(
            "This legal document kept changing (or another version was published at the same "
            "moment); reload it and try again.",
            code="concurrent_change",
            details={"failed": sorted(failed.labels)},
        ) from failed
