"""The audit trail: every admin action and every role change.

``record(tx, ...)`` adds the audit record to the caller's transaction, so the change and
its record commit together (or neither does). ``by_entity``, ``by_actor`` and ``by_day``
read it back for ``GET /admin/audit-log``, newest first, one Query per page (the table's
key, the byActor and the byDay index), with the page's actors named by one BatchGetItem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.ids import new_id
from chalicelib.models.audit import AuditRecord
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services.tx import Transaction

_SCOPE = "GET /admin/audit-log"


def _plain(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else json.loads(json.dumps(value, default=str))


def record(
    tx: Transaction,
    *,
    actor_id: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> str:
    at = iso(utcnow())
    audit_id = new_id()
    tx.save(
        AuditRecord(
            entity=f"{entity_type}#{entity_id}",
            sk=f"{at}#{audit_id}",
            day=at[:10],
            audit_id=audit_id,
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=_plain(before),
            after=_plain(after),
            at=at,
            request_id=request_id,
        ),
        label="audit",
    )
    return audit_id


def history(entity_type: str, entity_id: str) -> list[AuditRecord]:
    """An entity's audit records, oldest first."""
    return list(AuditRecord.query(f"{entity_type}#{entity_id}"))


@dataclass(frozen=True)
class AuditEntry:
    """One record as the audit log shows it; ``actor_display_name`` is the actor's display name now
    (None for an actor with no user, or none set)."""

    id: str
    at: str
    actor_id: str
    actor_display_name: str | None
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


def by_entity(entity_type: str, entity_id: str, *, limit: int, cursor: str | None) -> PageResult[AuditEntry]:
    """What was done to one entity, newest first."""

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return AuditRecord.query(
            f"{entity_type}#{entity_id}", scan_index_forward=False, limit=size, last_evaluated_key=start
        )

    return _page(run, limit, cursor, f"{_SCOPE}?entityType={entity_type}&entityId={entity_id}")


def by_actor(actor_id: str, *, limit: int, cursor: str | None) -> PageResult[AuditEntry]:
    """What one actor did, newest first."""

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return AuditRecord.by_actor.query(actor_id, scan_index_forward=False, limit=size, last_evaluated_key=start)

    return _page(run, limit, cursor, f"{_SCOPE}?actorId={actor_id}")


def by_day(day: date, *, limit: int, cursor: str | None) -> PageResult[AuditEntry]:
    """Everything recorded on one UTC day, newest first."""

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return AuditRecord.by_day.query(day.isoformat(), scan_index_forward=False, limit=size, last_evaluated_key=start)

    return _page(run, limit, cursor, f"{_SCOPE}?day={day.isoformat()}")


def _page(
    run: Callable[[int, dict[str, Any] | None], Any], limit: int, cursor: str | None, scope: str
) -> PageResult[AuditEntry]:
    page = query_page(run, limit=limit, cursor=cursor, scope=scope)
    records: list[AuditRecord] = page.items
    names = _actor_names([r.actor_id for r in records])
    entries = [
        AuditEntry(
            id=r.audit_id,
            at=r.at,
            actor_id=r.actor_id,
            actor_display_name=names.get(r.actor_id),
            action=r.action,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            before=None if r.before is None else plain(r.before),
            after=None if r.after is None else plain(r.after),
            request_id=r.request_id,
        )
        for r in records
    ]
    return PageResult(
        items=entries, next_cursor=page.next_cursor, limit=page.limit, page=page.page, generated_at=page.generated_at
    )


def _actor_names(actor_ids: list[str]) -> dict[str, str]:
    """The display names of a page's actors: one BatchGetItem (a page holds at most 100)."""
    wanted = sorted(set(actor_ids))
    if not wanted:
        return {}
    return {
        user.user_id: user.display_name
        for user in User.batch_get(wanted, attributes_to_get=["userId", "displayName"])
        if user.display_name
    }
