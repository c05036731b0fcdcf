"""Legal documents: versions of the terms of service, the privacy policy, the cookie policy
and the community guidelines (models/legal.py), as everyone reads them (``published``, the
versions in force) and as admins look them up. Writing them is services/legal_admin.py.

* A version is a draft until published, then immutable; publishing makes it the one in force
  (``isActive``) and the previous one stays readable by its version.
* Drafts are nobody's business but the admins': the public reads see published versions only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.legal import ACCEPTED_TYPES, NAMES, TYPES, canonical_type, document_id, split_document_id
from chalicelib.errors import DomainError, NotFound
from chalicelib.models.legal import (
    LEGAL_PARTITION,
    LegalActiveItem,
    LegalDocumentItem,
    active_sk,
    document_sk,
)
from chalicelib.pagination import PageResult, query_page
from chalicelib.ttl_cache import TtlCache


class Missing(NotFound):
    """A 404 with its own sentence."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        DomainError.__init__(self, message, details=details)


@dataclass(frozen=True)
class Document:
    id: str
    type: str
    version: str
    title: str
    content: str
    effective_date: str | None
    status: str  # draft | published
    is_active: bool
    requires_reacceptance: bool
    change_summary: str | None
    sequence: int | None
    previous_version_id: str | None
    created_at: str
    created_by: str
    updated_at: str
    published_at: str | None
    published_by: str | None
    revision: int

    def view(self) -> dict[str, Any]:
        """camelCase, as the admin routes show it and the audit log records it (the content
        itself is left out of the audit record: its length stands for it)."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "title": self.title,
            "effectiveDate": self.effective_date,
            "status": self.status,
            "isActive": self.is_active,
            "requiresReacceptance": self.requires_reacceptance,
            "changeSummary": self.change_summary,
            "sequence": self.sequence,
            "previousVersionId": self.previous_version_id,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "publishedAt": self.published_at,
            "publishedBy": self.published_by,
            "revision": self.revision,
        }

    def audit_view(self) -> dict[str, Any]:
        return {**self.view(), "contentLength": len(self.content)}


@dataclass(frozen=True)
class Active:
    """The version of one type in force, and the last one users had to accept."""

    type: str
    version: str
    title: str
    effective_date: str
    sequence: int
    acceptance_version: str | None
    acceptance_sequence: int | None
    published_at: str


def document_of(item: LegalDocumentItem) -> Document:
    return Document(
        id=document_id(item.document_type, item.version),
        type=item.document_type,
        version=item.version,
        title=item.title,
        content=item.content,
        effective_date=item.effective_date,
        status=item.status,
        is_active=bool(item.is_active),
        requires_reacceptance=bool(item.requires_reacceptance),
        change_summary=item.change_summary,
        sequence=int(item.sequence) if item.sequence is not None else None,
        previous_version_id=item.previous_version_id,
        created_at=item.created_at,
        created_by=item.created_by,
        updated_at=item.updated_at,
        published_at=item.published_at,
        published_by=item.published_by,
        revision=int(item.revision or 0),
    )


def active_of_item(item: LegalActiveItem) -> Active:
    return Active(
        type=item.document_type,
        version=item.version,
        title=item.title,
        effective_date=item.effective_date,
        sequence=int(item.sequence),
        acceptance_version=item.acceptance_version,
        acceptance_sequence=int(item.acceptance_sequence) if item.acceptance_sequence is not None else None,
        published_at=item.published_at,
    )


def resolve_type(name: str) -> str:
    """The full type of a type or short name; else a 404 naming the types there are."""
    document_type = canonical_type(name)
    if document_type is None:
        raise Missing(
            f"There is no legal document of type {name!r}; the types are {', '.join(TYPES)}.",
            details={"type": name, "types": list(TYPES)},
        )
    return document_type


def read_item(document_type: str, version: str) -> LegalDocumentItem | None:
    try:
        return LegalDocumentItem.get(LEGAL_PARTITION, document_sk(document_type, version), consistent_read=True)
    except LegalDocumentItem.DoesNotExist:
        return None


def read_active_item(document_type: str) -> LegalActiveItem | None:
    try:
        return LegalActiveItem.get(LEGAL_PARTITION, active_sk(document_type), consistent_read=True)
    except LegalActiveItem.DoesNotExist:
        return None


# --------------------------------------------------------------------------- reads


def active(document_type: str) -> Active | None:
    """The version in force of one type (None before the first publication)."""
    item = read_active_item(document_type)
    return active_of_item(item) if item is not None else None


def active_of(types: tuple[str, ...] = ACCEPTED_TYPES) -> dict[str, Active]:
    """The versions in force of ``types``: one BatchGetItem."""
    keys = [(LEGAL_PARTITION, active_sk(t)) for t in types]
    return {item.document_type: active_of_item(item) for item in LegalActiveItem.batch_get(keys, consistent_read=True)}


# The terms and privacy policy in force as the booking check sees them, kept per container for
# ACCEPTED_TTL_S, so a booking reads no legal item (README's figures: POST /readings). A
# publication in this container forgets it (``forget_cached``); other containers follow within
# the TTL. Stale only ever means the previous version, which the client had accepted: the check
# is never stricter than the truth. What a user is shown as pending is always read fresh.
ACCEPTED_TTL_S = 30.0
_accepted = TtlCache(active_of, ACCEPTED_TTL_S)


def accepted_in_force(*, clock: Callable[[], float] | None = None) -> dict[str, Active]:
    """``active_of(ACCEPTED_TYPES)``, at most ACCEPTED_TTL_S old."""
    return _accepted.get(clock=clock)


def forget_cached() -> None:
    """Drop this container's cached versions in force (after a publication, and between tests)."""
    _accepted.forget()


def published(name: str, version: str | None = None) -> Document:
    """The version in force of a type (or short name), or one published ``version`` of it.
    Drafts are nobody's business but the admins'."""
    document_type = resolve_type(name)
    label = NAMES[document_type]
    if version is None:
        pointer = read_active_item(document_type)
        if pointer is None:
            raise Missing(f"No {label} has been published yet.", details={"type": document_type})
        version = pointer.version
    item = read_item(document_type, version)
    if item is None or item.status != "published":
        raise Missing(
            f"There is no published version {version!r} of the {label}.",
            details={"type": document_type, "version": version},
        )
    return document_of(item)


def find(document_id_: str) -> Document:
    """One version, draft or published (admins)."""
    parts = split_document_id(document_id_)
    item = read_item(*parts) if parts else None
    if item is None:
        raise Missing(
            f"There is no legal document {document_id_!r}; a document id is <type>-<version>, "
            "such as terms_of_service-2026-12-01.",
            details={"id": document_id_},
        )
    return document_of(item)


def list_documents(document_type: str | None, *, limit: int, cursor: str | None) -> PageResult[Document]:
    """One page of versions (drafts included), by type and then version label (text order)."""
    prefix = f"doc#{document_type}#" if document_type else "doc#"

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return LegalDocumentItem.query(
            LEGAL_PARTITION, LegalDocumentItem.sk.startswith(prefix), limit=size, last_evaluated_key=start
        )

    page = query_page(run, limit=limit, cursor=cursor, scope=f"GET /admin/legal-documents?type={document_type}")
    return replace(page, items=[document_of(item) for item in page.items])
