"""Legal documents: ``GET /legal/{documentType}`` (public) and the admins' versions
(``/admin/legal-documents``: list, create a draft or publish, read, edit a draft, publish,
delete a draft). See services/legal.py for the rules."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import ADMIN, PUBLIC
from chalicelib.http_conditions import etag, if_match
from chalicelib.schemas.legal import (
    AdminLegalDocument,
    AdminLegalDocumentPage,
    AdminLegalListQuery,
    LegalDocumentCreate,
    LegalDocumentOut,
    LegalDocumentPatch,
    LegalDocumentQuery,
)
from chalicelib.services import legal, legal_admin
from chalicelib.services.legal import Document

legal_api = Blueprint(__name__)

_ADMIN_TAGS = ["admin", "legal"]
_COLLECTION = "/admin/legal-documents"


@route(
    legal_api,
    "/legal/{documentType}",
    "GET",
    access=PUBLIC,
    query=LegalDocumentQuery,
    response=LegalDocumentOut,
    cache_seconds=60,
    errors=(404,),
    tags=["legal"],
    summary="The terms of service, privacy policy, cookie policy or community guidelines in force "
    "(or one published version)",
)
def get_legal_document(ctx: RequestContext, documentType: str) -> LegalDocumentOut:
    """``documentType``: terms_of_service, privacy_policy, cookie_policy, community_guidelines
    (or terms, privacy, cookies, guidelines). ``?version=`` reads an earlier published version.
    An unknown type, a type with nothing published yet, or an unknown or unpublished version is
    a 404. Cacheable for a minute, with an ETag (``If-None-Match`` answers 304)."""
    query: LegalDocumentQuery = ctx.query
    document = legal.published(documentType, query.version)
    return LegalDocumentOut.model_validate({**document.view(), "content": document.content})


def _reply(document: Document, status: int | None = None) -> Reply:
    headers = {"ETag": etag(document.revision)}
    if status == 201:
        headers["Location"] = f"{_COLLECTION}/{document.id}"
    return Reply(
        AdminLegalDocument.model_validate({**document.view(), "content": document.content}),
        status=status,
        headers=headers,
    )


@route(
    legal_api,
    _COLLECTION,
    "GET",
    access=ADMIN,
    query=AdminLegalListQuery,
    response=AdminLegalDocumentPage,
    tags=_ADMIN_TAGS,
    summary="List legal document versions, drafts included (filter with ?type=)",
)
def list_admin_legal_documents(ctx: RequestContext) -> AdminLegalDocumentPage:
    """By type, then version label (text order); the content is left out (GET one for it)."""
    query: AdminLegalListQuery = ctx.query
    page = legal.list_documents(query.type, limit=query.limit, cursor=query.cursor)
    return AdminLegalDocumentPage.model_validate(page.body([document.view() for document in page.items]))


@route(
    legal_api,
    _COLLECTION,
    "POST",
    access=ADMIN,
    body=LegalDocumentCreate,
    response=AdminLegalDocument,
    status=201,
    errors=(409,),
    tags=_ADMIN_TAGS,
    summary="Create a legal document version: a draft, or published at once (publish: true)",
)
def create_admin_legal_document(ctx: RequestContext) -> Reply:
    """A version label already used for the type is a 409 (``duplicate_version``). Publishing
    makes it the version in force; unless ``requiresReacceptance`` is false, every user must
    accept a new terms of service or privacy policy before their next booking."""
    body: LegalDocumentCreate = ctx.body
    document = legal_admin.create(
        body.type,
        body.version,
        title=body.title,
        content=body.content,
        effective_date=body.effective_date,
        requires_reacceptance=body.requires_reacceptance,
        change_summary=body.change_summary,
        publish=body.publish,
        actor_id=ctx.user.user_id,
        request_id=ctx.request_id,
    )
    return _reply(document, status=201)


@route(
    legal_api,
    _COLLECTION + "/{documentId}",
    "GET",
    access=ADMIN,
    response=AdminLegalDocument,
    errors=(404,),
    tags=_ADMIN_TAGS,
    summary="One legal document version, draft or published, with its revision as ETag",
)
def get_admin_legal_document(ctx: RequestContext, documentId: str) -> Reply:
    return _reply(legal.find(documentId))


@route(
    legal_api,
    _COLLECTION + "/{documentId}",
    "PATCH",
    access=ADMIN,
    body=LegalDocumentPatch,
    response=AdminLegalDocument,
    errors=(404, 409),
    tags=_ADMIN_TAGS,
    summary="Change a draft (If-Match: its revision); a published version is immutable (409)",
)
def patch_admin_legal_document(ctx: RequestContext, documentId: str) -> Reply:
    body: LegalDocumentPatch = ctx.body
    changes: dict[str, Any] = body.changes()
    return _reply(
        legal_admin.update_draft(
            documentId,
            changes,
            expected_revision=if_match(ctx, noun="revision"),
            actor_id=ctx.user.user_id,
            request_id=ctx.request_id,
        )
    )


@route(
    legal_api,
    _COLLECTION + "/{documentId}/publish",
    "POST",
    access=ADMIN,
    response=AdminLegalDocument,
    errors=(404, 409),
    tags=_ADMIN_TAGS,
    summary="Publish a draft: it becomes the version in force (If-Match: its revision)",
)
def publish_admin_legal_document(ctx: RequestContext, documentId: str) -> Reply:
    """The previous version stays readable by its version; an already published one is a 409."""
    return _reply(
        legal_admin.publish(
            documentId,
            expected_revision=if_match(ctx, noun="revision"),
            actor_id=ctx.user.user_id,
            request_id=ctx.request_id,
        )
    )


@route(
    legal_api,
    _COLLECTION + "/{documentId}",
    "DELETE",
    access=ADMIN,
    status=204,
    errors=(404, 409),
    tags=_ADMIN_TAGS,
    summary="Delete a draft (a published version is kept forever: 409)",
)
def delete_admin_legal_document(ctx: RequestContext, documentId: str) -> Reply:
    legal_admin.delete_draft(
        documentId,
        expected_revision=if_match(ctx, noun="revision"),
        actor_id=ctx.user.user_id,
        request_id=ctx.request_id,
    )
    return Reply(body=None, status=204)
