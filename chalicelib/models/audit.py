from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class AuditByDay(GlobalSecondaryIndex["AuditRecord"]):
    """The audit log by UTC day, in time order: ``GET /admin/audit-log?day=`` Queries it."""

    class Meta:
        index_name = "byDay"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AuditByActor(GlobalSecondaryIndex["AuditRecord"]):
    """One actor's records in time order: ``GET /admin/audit-log?actorId=`` Queries it."""

    class Meta:
        index_name = "byActor"
        projection = AllProjection()

    actor_id = UnicodeAttribute(hash_key=True, attr_name="actorId")
    sk = UnicodeAttribute(range_key=True)


class AuditRecord(Model):
    """Append-only: who did what to which entity, with before/after, when, request id."""

    class Meta:
        table_name = table_name("audit")
        region = region()

    entity = UnicodeAttribute(hash_key=True)  # "<entityType>#<entityId>"
    sk = UnicodeAttribute(range_key=True)  # "<at>#<auditId>": an entity's history in time order
    day = UnicodeAttribute()  # "YYYY-MM-DD" of ``at``
    audit_id = UnicodeAttribute(attr_name="auditId")
    actor_id = UnicodeAttribute(attr_name="actorId")
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute(attr_name="entityType")
    entity_id = UnicodeAttribute(attr_name="entityId")
    before: MapAttribute[str, Any] = MapAttribute(null=True)
    after: MapAttribute[str, Any] = MapAttribute(null=True)
    at = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True, attr_name="requestId")

    by_day = AuditByDay()
    by_actor = AuditByActor()
