"""Reader quality: the reader's own metrics, status and warnings (``READER``), acknowledging
a warning, and the admins' list of readers at risk (services/metrics/quality*.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN, READER
from chalicelib.schemas.quality import AtRiskPage, AtRiskQuery, AtRiskReader, QualityOut, WarningOut
from chalicelib.services.metrics import quality_views

quality_api = Blueprint(__name__)


@route(quality_api, "/reader/quality", "GET", access=READER, response=QualityOut, errors=(404,), tags=["readers"],
       summary="The reader's quality metrics over the last 30 days, their status and their warnings")
def get_reader_quality(ctx: RequestContext) -> dict[str, Any]:
    """Response time, cancellation, dispute and no-show rates over the last 30 local days
    (null under the minimum sample), profile completeness, activity; the status (excellent,
    good, needs_improvement, at_risk); the open warnings and those resolved in the window."""
    view = quality_views.reader_view(ctx.user.user_id)
    return QualityOut.model_validate(view).wire()


@route(quality_api, "/reader/warnings/{warningId}/acknowledge", "POST", access=READER, response=WarningOut,
       errors=(404, 409), tags=["readers"], summary="Acknowledge one of the reader's quality warnings")
def acknowledge_warning(ctx: RequestContext, warningId: str) -> dict[str, Any]:
    """Once: acknowledging again returns the warning unchanged. Another reader's warning or
    an unknown id is a 404; a resolved warning a 409. The warning still resolves by itself
    when the rate is back under its threshold."""
    warning = quality_views.acknowledge(ctx.user.user_id, warningId)
    return WarningOut.model_validate(warning).wire()


@route(quality_api, "/admin/readers/at-risk", "GET", access=ADMIN, query=AtRiskQuery, response=AtRiskPage,
       errors=(400,), tags=["admin"], summary="Readers whose quality status is at risk (or needs improvement)")
def list_readers_at_risk(ctx: RequestContext) -> dict[str, Any]:
    """As of the quality job's last evaluation of each reader (every 15 minutes after new
    activity, daily when time alone changes the result), by reader id. One Query per page."""
    query: AtRiskQuery = ctx.query
    page = quality_views.listed(query.status, limit=query.limit, cursor=query.cursor)
    data = [AtRiskReader.model_validate(asdict(r)).model_dump(mode="json", by_alias=True) for r in page.items]
    return page.body(data)
