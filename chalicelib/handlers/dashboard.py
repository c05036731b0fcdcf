"""``GET /dashboard``: the caller's home page in one call, by role (services/dashboard.py
says what each part reads and bounds the DynamoDB calls per role)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.handlers.admin_metrics import _period as period_figures
from chalicelib.handlers.earnings import pending_document, totals_document
from chalicelib.handlers.readings import reading_out
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readings import Reading
from chalicelib.schemas.dashboard import DashboardOut
from chalicelib.schemas.reader_views import ApplicationOut
from chalicelib.schemas.statuses import StatusOut
from chalicelib.services import catalog, dashboard, reader_applications, readings, statuses

dashboard_api = Blueprint(__name__)


def _readings(ctx: RequestContext, items: list[Reading], parties: readings.Parties) -> list[dict[str, Any]]:
    return [reading_out(ctx, reading, parties) for reading in items]


def _client(ctx: RequestContext, found: dashboard.ClientDashboard) -> dict[str, Any]:
    categories = catalog.status_categories() if found.active_statuses else {}
    balance = found.balance
    return {
        "activeStatuses": [StatusOut.model_validate(statuses.status_document(
            status, ctx.user.user_id, ctx.user.role, categories=categories)).dump()
            for status in found.active_statuses],
        "upcomingReadings": {"data": _readings(ctx, found.upcoming, found.parties), "hasMore": found.more_upcoming},
        "recentReadings": {"data": _readings(ctx, found.recent, found.parties), "hasMore": found.more_recent},
        "balance": {"available": balance.available, "held": balance.held, "earnings": balance.earnings,
                    "payable": balance.payable, "owed": balance.owed, "restricted": balance.restricted},
        "recommendations": [{"reader": item.card, "reasons": list(item.reasons), "score": item.score}
                            for item in found.recommendations.items],
        "recommendationsPersonalized": found.recommendations.personalized,
    }


def _reader(ctx: RequestContext, found: dashboard.ReaderDashboard) -> dict[str, Any]:
    totals = found.earnings
    return {
        "pendingRequests": {"data": _readings(ctx, found.pending.items, found.parties),
                            "count": found.pending.count, "moreThan": found.pending.more_than},
        "todaySchedule": {"date": found.today.isoformat(), "timezone": found.timezone,
                          "data": _readings(ctx, found.schedule, found.parties), "complete": found.schedule_complete},
        "earnings": {"timezone": totals.timezone, "thisWeek": totals_document(totals.week),
                     "thisMonth": totals_document(totals.month), "pending": pending_document(totals.pending)},
        "rating": {"average": found.rating_average, "count": found.rating_count},
        "badges": found.badges,
        "warnings": [warning.document() for warning in found.warnings],
        "qualityStatus": found.quality_status,
        "qualityStatusSince": found.quality_since,
    }


def _admin(ctx: RequestContext, found: dashboard.AdminDashboard) -> dict[str, Any]:
    report = found.platform
    return {
        "pendingApplications": {
            "data": [ApplicationOut.model_validate(reader_applications.application_document(profile)).dump()
                     for profile in found.applications.items],
            "count": found.applications.count, "moreThan": found.applications.more_than},
        "openDisputes": {"data": _readings(ctx, found.disputes.items, found.dispute_parties),
                         "count": found.disputes.count, "moreThan": found.disputes.more_than},
        "moderationQueue": found.moderation_queue,
        "moderationQueueMoreThan": found.moderation_queue_more_than,
        "platform": {"today": period_figures(report.current), "yesterday": period_figures(report.previous)},
    }


@route(dashboard_api, "/dashboard", "GET", access=SIGNED_IN, response=DashboardOut, tags=["me"],
       summary="The caller's dashboard: what their home page shows, by role, in one call")
def get_dashboard(ctx: RequestContext) -> dict[str, Any]:
    """A client: active statuses, upcoming and recent readings, balance, recommended
    readers. A reader: pending requests, today's schedule, earnings this week and month,
    rating, badges, quality warnings and status. An admin: pending applications and open
    disputes (the oldest few and a count, capped at 1000 with ``moreThan``), the moderation
    queue (null until moderation exists) and today's platform figures. Each item has the
    shape its own route gives it; the DynamoDB calls are bounded per role (at most 9 for a
    client, 13 for a reader plus a Query per MB of this month's earnings lines, 11 for an
    admin)."""
    now = utcnow()
    role, section = ctx.user.role, "client"
    body: dict[str, Any]
    if role == "admin":
        section, body = "admin", _admin(ctx, dashboard.admin_dashboard(now=now))
    elif role == "reader":
        section, body = "reader", _reader(ctx, dashboard.reader_dashboard(ctx.user.record, now=now))
    else:
        body = _client(ctx, dashboard.client_dashboard(ctx.user.record, role, now=now))
    return DashboardOut.model_validate({"role": section, "generatedAt": iso(now), section: body}).wire()
