"""Admin: the audit trail (services/audit.py), by entity, by actor or by UTC day."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.errors import BadRequest
from chalicelib.models.base import utcnow
from chalicelib.pagination import PageResult
from chalicelib.schemas.audit_log import TODAY, AuditEntryOut, AuditLogPage, AuditLogQuery
from chalicelib.services import audit
from chalicelib.services.audit import AuditEntry

audit_log_api = Blueprint(__name__)

_ONE_SELECTOR = (
    "List the audit log by one thing at a time: entityType with entityId, or actorId, or day (YYYY-MM-DD, or today)."
)


@route(
    audit_log_api,
    "/admin/audit-log",
    "GET",
    access=ADMIN,
    query=AuditLogQuery,
    response=AuditLogPage,
    errors=(400,),
    tags=["admin"],
    summary="The audit log of one entity, one actor or one UTC day, newest first",
)
def get_audit_log(ctx: RequestContext) -> dict[str, Any]:
    """Every admin action, role change and dispute resolution, with the values before and
    after, who did it, when and the request id. Exactly one selector: ``entityType`` with
    ``entityId`` (an entity's history), ``actorId`` (what one admin did) or ``day`` (a UTC
    day, ``today`` for today's); none or more than one is a 400. One Query per page."""
    query: AuditLogQuery = ctx.query
    return _body(_page(query))


def _page(query: AuditLogQuery) -> PageResult[AuditEntry]:
    by_entity = query.entity_type is not None or query.entity_id is not None
    chosen = [
        name
        for name, given in (
            ("entity", by_entity),
            ("actorId", query.actor_id is not None),
            ("day", query.day is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise BadRequest(_ONE_SELECTOR, code="invalid_selector", details={"given": chosen})
    if by_entity:
        if query.entity_type is None or query.entity_id is None:
            raise BadRequest(
                "Give entityType and entityId together to list one entity's history.",
                code="invalid_selector",
                details={"given": chosen},
            )
        return audit.by_entity(query.entity_type, query.entity_id, limit=query.limit, cursor=query.cursor)
    if query.actor_id is not None:
        return audit.by_actor(query.actor_id, limit=query.limit, cursor=query.cursor)
    day = utcnow().date() if query.day in ("", TODAY) else date.fromisoformat(str(query.day))
    return audit.by_day(day, limit=query.limit, cursor=query.cursor)


def _body(page: PageResult[AuditEntry]) -> dict[str, Any]:
    return page.body([AuditEntryOut.model_validate(asdict(entry)).wire() for entry in page.items])
