"""Moderation: users report content; admins work the queue and edit the rules.

``POST /reports`` (any signed-in user), ``GET /admin/moderation``,
``POST /admin/moderation/{itemId}/decide`` and CRUD ``/admin/moderation-rules`` (admins).
The screen that every piece of public text passes is services/moderation/screening.py.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import ADMIN, SIGNED_IN
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.moderation import (
    DecideIn,
    ModerationItemOut,
    ModerationPage,
    ModerationQuery,
    ReportIn,
    ReportOut,
    RuleIn,
    RuleOut,
    RulePage,
    RulePatch,
)
from chalicelib.services.moderation import decisions, queue, reports, rules

moderation_api = Blueprint(__name__)
_ADMIN_TAGS = ["admin", "moderation"]


@route(
    moderation_api,
    "/reports",
    "POST",
    access=SIGNED_IN,
    body=ReportIn,
    response=ReportOut,
    status=201,
    errors=(400, 404, 409, 422),
    tags=["moderation"],
    rate_limit="reports",
    summary="Report a review, a reader's profile, a status or a suggestion to the moderators",
)
def create_report(ctx: RequestContext) -> Reply:
    """The content must be public and visible to you (else 404); your own is a 422
    ``own_content``. One report per user and content: a second one is a 409
    ``already_reported`` (the first still stands). Reports raise the content's place in the
    moderation queue (more reports, higher priority); the content stays visible until a
    moderator decides."""
    body: ReportIn = ctx.body
    receipt = reports.report(
        ctx.user.user_id,
        ctx.user.role,
        content_type=body.content_type,
        content_id=body.content_id,
        parent_id=body.status_id,
        reason=body.reason,
        note=body.note,
    )
    out = ReportOut(
        id=receipt.id,
        content_type=body.content_type,
        content_id=receipt.content_id,
        reason=body.reason,
        note=receipt.note,
        created_at=receipt.created_at,
    )
    return Reply(out.dump(), status=201)


@route(
    moderation_api,
    "/admin/moderation",
    "GET",
    access=ADMIN,
    query=ModerationQuery,
    response=ModerationPage,
    errors=(400,),
    tags=_ADMIN_TAGS,
    summary="The moderation queue: urgent first, then oldest first",
)
def list_moderation_queue(ctx: RequestContext) -> dict[str, Any]:
    """``status`` (default pending; also escalated, approved, rejected) and optionally
    ``priority``. One Query of the queue index per page. Each item shows the text as it was
    flagged (``excerpts``), what the automatic screen found (``findings``) and the reports."""
    query: ModerationQuery = ctx.query
    page = queue.page(query.status, query.priority, limit=query.limit, cursor=query.cursor)
    return ModerationPage.model_validate(page.body([queue.document(item) for item in page.items])).dump()


@route(
    moderation_api,
    "/admin/moderation/{itemId}/decide",
    "POST",
    access=ADMIN,
    body=DecideIn,
    response=ModerationItemOut,
    errors=(400, 404, 409),
    tags=_ADMIN_TAGS,
    summary="Approve, reject or escalate a queue item",
)
def decide_moderation_item(ctx: RequestContext, itemId: str) -> dict[str, Any]:
    """``reject`` hides the content from every public read (the statuses feed, reviews, the
    reader's card and explore, within a minute for explore's snapshot); ``approve`` makes it
    public again (it releases held text and restores what a reject hid); ``escalate`` marks
    it urgent for a senior look. A decision can be changed (approve a rejected item, reject an
    approved one) while the item is its content's latest (else 409 ``superseded``); the same
    decision twice is a 409 ``already_decided``. The author is told when their content is
    hidden or published again. Audited."""
    body: DecideIn = ctx.body
    item = decisions.decide(
        itemId, body.decision, notes=body.notes, admin_id=ctx.user.user_id, request_id=ctx.request_id
    )
    return ModerationItemOut.model_validate(queue.document(item)).dump()


# --- rules --------------------------------------------------------------------------------------------

_RULE = "/admin/moderation-rules/{ruleId}"


def _rule_out(view: rules.RuleView) -> dict[str, Any]:
    return RuleOut.model_validate(view.dump()).dump()


@route(
    moderation_api,
    "/admin/moderation-rules",
    "GET",
    access=ADMIN,
    query=PageQuery,
    response=RulePage,
    errors=(400,),
    tags=_ADMIN_TAGS,
    summary="Moderation rules, active and inactive",
)
def list_moderation_rules(ctx: RequestContext) -> dict[str, Any]:
    """In creation order; one Query of the rules partition per page."""
    query: PageQuery = ctx.query
    page = rules.list_rules(limit=query.limit, cursor=query.cursor)
    return RulePage.model_validate(page.body([view.dump() for view in page.items])).dump()


@route(
    moderation_api,
    "/admin/moderation-rules",
    "POST",
    access=ADMIN,
    body=RuleIn,
    response=RuleOut,
    status=201,
    errors=(400,),
    tags=_ADMIN_TAGS,
    summary="Add a moderation rule",
)
def create_moderation_rule(ctx: RequestContext) -> Reply:
    """A rule applies to new and edited text of its ``contentType`` (``any``: all) when all its
    conditions hold: ``auto_reject`` refuses the text (422 with a sentence per field),
    ``escalate`` queues it urgent and holds it from the public, ``flag`` queues it while it
    stays visible, ``auto_approve`` lets it through untouched (no other rule, no contact-details
    check). A rule needs at least one condition. Every container applies it within 30 s.
    Audited."""
    body: RuleIn = ctx.body
    values = body.model_dump(mode="json", by_alias=True, exclude={"conditions"})
    view = rules.create_rule(
        {**values, "conditions": body.conditions.stored()}, actor_id=ctx.user.user_id, request_id=ctx.request_id
    )
    return Reply(_rule_out(view), status=201, headers={"Location": f"/admin/moderation-rules/{view.id}"})


@route(
    moderation_api,
    _RULE,
    "GET",
    access=ADMIN,
    response=RuleOut,
    errors=(404,),
    tags=_ADMIN_TAGS,
    summary="One moderation rule",
)
def get_moderation_rule(ctx: RequestContext, ruleId: str) -> dict[str, Any]:
    """With its version and dates."""
    return _rule_out(rules.get_rule(ruleId))


@route(
    moderation_api,
    _RULE,
    "PATCH",
    access=ADMIN,
    body=RulePatch,
    response=RuleOut,
    errors=(400, 404, 409),
    tags=_ADMIN_TAGS,
    summary="Change a moderation rule (isActive: false turns it off)",
)
def update_moderation_rule(ctx: RequestContext, ruleId: str) -> dict[str, Any]:
    """Only the fields sent change; ``conditions`` is replaced whole. Audited."""
    body: RulePatch = ctx.body
    return _rule_out(rules.update_rule(ruleId, body.changes(), actor_id=ctx.user.user_id, request_id=ctx.request_id))


@route(
    moderation_api,
    _RULE,
    "DELETE",
    access=ADMIN,
    response=RuleOut,
    errors=(404, 409),
    tags=_ADMIN_TAGS,
    summary="Delete a moderation rule",
)
def delete_moderation_rule(ctx: RequestContext, ruleId: str) -> dict[str, Any]:
    """Returns the rule as it was; the audit log keeps it. Queue items it opened stay."""
    return _rule_out(rules.delete_rule(ruleId, actor_id=ctx.user.user_id, request_id=ctx.request_id))
