"""The audit trail: every admin action and every role change.

``record(tx, ...)`` adds the audit record to the caller's transaction, so the change and
its record commit together (or neither does).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.ids import new_id
from chalicelib.models.audit import AuditRecord
from chalicelib.models.base import iso, utcnow
from chalicelib.services.tx import Transaction


def _plain(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else json.loads(json.dumps(value, default=str))


def record(tx: Transaction, *, actor_id: str, action: str, entity_type: str, entity_id: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           request_id: str | None = None) -> str:
    at = iso(utcnow())
    audit_id = new_id()
    tx.save(AuditRecord(
        entity=f"{entity_type}#{entity_id}", sk=f"{at}#{audit_id}", day=at[:10], audit_id=audit_id,
        actor_id=actor_id, action=action, entity_type=entity_type, entity_id=entity_id,
        before=_plain(before), after=_plain(after), at=at, request_id=request_id,
    ), label="audit")
    return audit_id


def history(entity_type: str, entity_id: str) -> list[AuditRecord]:
    """An entity's audit records, oldest first."""
    return list(AuditRecord.query(f"{entity_type}#{entity_id}"))
