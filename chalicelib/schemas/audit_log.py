"""``GET /admin/audit-log``: the audit trail by entity, by actor or by UTC day, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from chalicelib.schemas.common import ApiModel, Page, PageQuery

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
TODAY = "today"


class AuditLogQuery(PageQuery):
    """Exactly one selector: ``entityType`` with ``entityId``, or ``actorId``, or ``day``."""

    entity_type: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z_]{0,63}$",
        description="the kind of entity (reading, user, reader_application, attribute, "
        "category, badge, time_span, credit_package, plan...); with entityId",
    )
    entity_id: str | None = Field(
        default=None, min_length=1, max_length=256, description="the entity's id; with entityType"
    )
    actor_id: str | None = Field(default=None, min_length=1, max_length=256, description="the user who acted")
    day: str | None = Field(
        default=None, max_length=10, description="a UTC day (YYYY-MM-DD), or `today` (also an empty value) for today's"
    )

    @field_validator("day")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is None or value in ("", TODAY):
            return value
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("The day must be a date (YYYY-MM-DD) or today.") from None
        if len(value) != 10 or not EARLIEST <= parsed <= LATEST:
            raise ValueError(f"The day must be a date (YYYY-MM-DD) between {EARLIEST} and {LATEST}.")
        return value


_EXAMPLE: dict[str, Any] = {
    "id": "01JDQ9A2B3C4D5E6F7G8H9J0KM",
    "at": "2026-11-28T17:42:10.512Z",
    "actorId": "user_demo_admin",
    "actorDisplayName": "Avery Admin",
    "action": "dispute.resolve",
    "entityType": "reading",
    "entityId": "01JDQ8V6M4Z2X7N3K5R9T1W0AB",
    "before": {"status": "disputed"},
    "after": {
        "status": "refunded",
        "outcome": "full_refund",
        "refunded": 82,
        "note": "Connection failed on the reader's side.",
    },
    "requestId": "c0f1e2d3-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
}


class AuditEntryOut(ApiModel):
    """One audit record: who did what to which entity, the values before and after, when, and
    the request that did it (the X-Request-Id its answer carried)."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    at: str = Field(json_schema_extra={"format": "date-time"}, description="when (UTC, ISO 8601)")
    actor_id: str = Field(description="the user who acted")
    actor_display_name: str | None = Field(
        default=None, description="the actor's display name today, where they have one"
    )
    action: str = Field(
        description="what was done, `<entity>.<verb>` (reader_application.approve, "
        "user.role_change, dispute.resolve, catalog.plan.updated...)"
    )
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = Field(
        default=None, description="the fields the action changed, before it; null for a creation"
    )
    after: dict[str, Any] | None = Field(default=None, description="the same fields after it")
    request_id: str | None = Field(
        default=None, description="the request's id (its X-Request-Id); null for a change no request made"
    )

    def wire(self) -> dict[str, Any]:
        """Nulls kept: a creation's ``before`` is null, not absent."""
        return self.model_dump(mode="json", by_alias=True)


class AuditLogPage(Page[AuditEntryOut]):
    """A page of the audit log, newest first."""
