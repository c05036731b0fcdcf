"""Moderation rules: data an admin edits (``/admin/moderation-rules``), read by the screen.

A rule is the product's ModerationRule: ``contentType`` (review, profile, status, suggestion
or ``any``), ``conditions`` (``keywords``, ``sentiment``, ``length {min, max}``, ``userRole``;
all that are given must hold), ``action`` (flag, auto_approve, auto_reject, escalate) and ``isActive``;
ours: ``flaggedReason``, what the queue item of a ``flag`` or ``escalate`` says.

All rules are one partition of the moderation table: the screen reads them with one Query,
kept per container for ``CACHE_S`` seconds (``TtlCache``), so an edit reaches every container
within that time (at once in the one that made it). Every write is conditional (a new id; the
version read) and audited in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.moderation import SENTIMENTS, Rule
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.ids import new_id
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.moderation import RULES_PARTITION, ModerationRuleRecord
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import audit
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically
from chalicelib.ttl_cache import TtlCache

CACHE_S = 30.0
ENTITY = "moderation_rule"


@dataclass(frozen=True)
class RuleView:
    """A rule as the admin routes show it (and as the audit log records it)."""

    id: str
    name: str
    description: str
    content_type: str
    conditions: dict[str, Any]
    action: str
    flagged_reason: str
    is_active: bool
    version: int
    created_at: str
    updated_at: str

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "contentType": self.content_type,
            "conditions": self.conditions,
            "action": self.action,
            "flaggedReason": self.flagged_reason,
            "isActive": self.is_active,
            "version": self.version,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    def rule(self) -> Rule:
        length = self.conditions.get("length") or {}
        return Rule(
            id=self.id,
            name=self.name,
            content_type=self.content_type,
            keywords=tuple(str(k) for k in self.conditions.get("keywords") or ()),
            length_min=_int_or_none(length.get("min")),
            length_max=_int_or_none(length.get("max")),
            user_roles=tuple(str(r) for r in self.conditions.get("userRole") or ()),
            action=self.action,
            flagged_reason=self.flagged_reason,
            active=self.is_active,
            sentiment=_sentiment_or_none(self.conditions.get("sentiment")),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _sentiment_or_none(value: Any) -> str | None:
    return str(value) if value in SENTIMENTS else None


def _view(record: ModerationRuleRecord) -> RuleView:
    return RuleView(
        id=record.sk,
        name=record.name,
        description=record.description or "",
        content_type=record.content_type,
        conditions=plain(record.conditions) or {},
        action=record.action,
        flagged_reason=record.flagged_reason or "other",
        is_active=bool(record.is_active),
        version=int(record.version or 0),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


# --- what the screen reads --------------------------------------------------------------------


def _load() -> list[Rule]:
    return [_view(record).rule() for record in ModerationRuleRecord.query(RULES_PARTITION)]


_cache: TtlCache[list[Rule]] = TtlCache(_load, CACHE_S)


def active_for(content_type: str) -> list[Rule]:
    """The active rules that apply to ``content_type`` (cached per container)."""
    return [rule for rule in _cache.get() if rule.applies_to(content_type)]


def forget_cached() -> None:
    _cache.forget()


# --- admin CRUD ---------------------------------------------------------------------------------


def _check(conditions: dict[str, Any]) -> None:
    length = conditions.get("length") or {}
    if not (
        conditions.get("keywords")
        or conditions.get("sentiment")
        or conditions.get("userRole")
        or length.get("min") is not None
        or length.get("max") is not None
    ):
        raise BadRequest(
            "A rule needs at least one condition: keywords, a sentiment, a length or a user role.",
            code="validation_error",
            details={
                "fields": [
                    {
                        "path": "conditions",
                        "message": "Give keywords, a sentiment, a length or a user role.",
                        "type": "missing_condition",
                    }
                ]
            },
        )
    if conditions.get("sentiment") is not None and conditions["sentiment"] not in SENTIMENTS:
        raise BadRequest(
            "A rule's sentiment is negative, positive or neutral.",
            code="validation_error",
            details={
                "fields": [
                    {
                        "path": "conditions.sentiment",
                        "message": "The sentiment must be negative, positive or neutral.",
                        "type": "literal_error",
                    }
                ]
            },
        )
    if length.get("min") is not None and length.get("max") is not None and length["min"] > length["max"]:
        raise BadRequest(
            "The length's min is above its max.",
            code="validation_error",
            details={
                "fields": [{"path": "conditions.length", "message": "min must be at most max.", "type": "value_error"}]
            },
        )


def _read(rule_id: str) -> ModerationRuleRecord:
    try:
        return ModerationRuleRecord.get(RULES_PARTITION, rule_id, consistent_read=True)
    except ModerationRuleRecord.DoesNotExist:
        raise NotFound("moderation rule", code="moderation_rule_not_found") from None


def list_rules(*, limit: int, cursor: str | None) -> PageResult[RuleView]:
    """Every rule, in id (creation) order, active or not."""
    page = query_page(
        lambda size, start: ModerationRuleRecord.query(RULES_PARTITION, limit=size, last_evaluated_key=start),
        limit=limit,
        cursor=cursor,
        scope="GET /admin/moderation-rules",
    )
    return PageResult(
        items=[_view(record) for record in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
        page=page.page,
        generated_at=page.generated_at,
    )


def get_rule(rule_id: str) -> RuleView:
    return _view(_read(rule_id))


def create_rule(
    values: dict[str, Any], *, actor_id: str, request_id: str | None = None, now: datetime | None = None
) -> RuleView:
    """``values``: name, description, contentType, conditions, action, flaggedReason, isActive."""
    _check(values["conditions"])
    at = iso(now or utcnow())
    record = ModerationRuleRecord(
        sk=f"mrl_{new_id()}",
        name=values["name"],
        description=values.get("description") or "",
        content_type=values["contentType"],
        conditions=values["conditions"],
        action=values["action"],
        flagged_reason=values.get("flaggedReason") or "other",
        is_active=values.get("isActive", True),
        created_at=at,
        updated_at=at,
        created_by=actor_id,
    )
    created = RuleView(
        id=record.sk,
        name=record.name,
        description=record.description,
        content_type=record.content_type,
        conditions=values["conditions"],
        action=record.action,
        flagged_reason=record.flagged_reason,
        is_active=bool(record.is_active),
        version=1,
        created_at=at,
        updated_at=at,
    )

    def work(tx: Transaction) -> None:
        tx.save(record, condition=ModerationRuleRecord.sk.does_not_exist(), label="rule")
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.created",
            entity_type=ENTITY,
            entity_id=record.sk,
            after=created.dump(),
            request_id=request_id,
        )

    atomically(work)
    forget_cached()
    return created


_COLUMNS = {
    "name": "name",
    "description": "description",
    "contentType": "content_type",
    "conditions": "conditions",
    "action": "action",
    "flaggedReason": "flagged_reason",
    "isActive": "is_active",
}


def update_rule(
    rule_id: str, changes: dict[str, Any], *, actor_id: str, request_id: str | None = None, now: datetime | None = None
) -> RuleView:
    """``changes``: the fields sent (wire names); ``conditions`` is replaced whole."""

    def work(tx: Transaction) -> RuleView:
        record = _read(rule_id)
        before = _view(record)
        merged = {**before.dump(), **changes}
        if "conditions" in changes:
            _check(changes["conditions"])
        if all(merged[name] == before.dump()[name] for name in changes):
            return before  # nothing changes: no write, no audit record
        at = iso(now or utcnow())
        actions = [
            getattr(ModerationRuleRecord, column).set(changes[name])
            for name, column in _COLUMNS.items()
            if name in changes
        ]
        tx.update(record, actions=[*actions, ModerationRuleRecord.updated_at.set(at)], label="rule")
        after = RuleView(
            **{
                **before.__dict__,
                **{column: merged[name] for name, column in _COLUMNS.items()},
                "version": before.version + 1,
                "updated_at": at,
            }
        )
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.updated",
            entity_type=ENTITY,
            entity_id=rule_id,
            before=before.dump(),
            after=after.dump(),
            request_id=request_id,
        )
        return after

    try:
        updated = atomically(work, retry_on=lambda failed: "rule" in failed)
    except ConditionsFailed as failed:
        raise Conflict("This rule kept changing; try again.", code="concurrent_change") from failed
    forget_cached()
    return updated


def delete_rule(rule_id: str, *, actor_id: str, request_id: str | None = None) -> RuleView:
    """Remove the rule (the audit log keeps what it was); returns it as it was."""

    def work(tx: Transaction) -> RuleView:
        record = _read(rule_id)
        before = _view(record)
        tx.delete(record, label="rule")
        audit.record(
            tx,
            actor_id=actor_id,
            action=f"{ENTITY}.deleted",
            entity_type=ENTITY,
            entity_id=rule_id,
            before=before.dump(),
            after=None,
            request_id=request_id,
        )
        return before

    try:
        deleted = atomically(work, retry_on=lambda failed: "rule" in failed)
    except ConditionsFailed as failed:
        raise Conflict("This rule kept changing; try again.", code="concurrent_change") from failed
    forget_cached()
    return deleted
