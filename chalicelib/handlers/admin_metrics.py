"""Admin: platform metrics (services/metrics/platform.py keeps them from the event stream)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.schemas.admin_metrics import DayFiguresOut, MetricsOut, MetricsQuery, PeriodFiguresOut
from chalicelib.services.metrics import platform

admin_metrics_api = Blueprint(__name__)


@route(admin_metrics_api, "/admin/metrics", "GET", access=ADMIN, query=MetricsQuery, response=MetricsOut,
       errors=(400,), tags=["admin"], summary="Platform figures for a day, week or month, with the previous one")
def get_platform_metrics(ctx: RequestContext) -> dict[str, Any]:
    """Active users, sign-ups, readings requested and completed, revenue (credits and money
    paid, platform fees), conversion and dispute rates, and a daily series, for the UTC day,
    week (Monday to Sunday) or month containing ``date`` and for the period before it. A
    ``date`` later than today (in the timezone furthest ahead, UTC+14, so an admin's local
    date is never refused) is a 400. A rate with nothing to divide by is null, and present."""
    query: MetricsQuery = ctx.query
    found = platform.report(query.period, query.day)
    body = MetricsOut(period=found.period, date=found.day, current=_period(found.current),
                      previous=_period(found.previous))
    return body.wire()  # not ``dump()``: an undefined rate is null on the wire, not a missing field


def _period(figures: platform.PeriodFigures) -> PeriodFiguresOut:
    return PeriodFiguresOut(
        start=figures.first, end=figures.last, active_users=figures.active_users, sign_ups=figures.sign_ups,
        readings_requested=figures.readings_requested, readings_completed=figures.readings_completed,
        buyers=figures.buyers, purchases=figures.purchases, credits_purchased=figures.credits_purchased,
        money_in=figures.money_in, platform_fees=figures.platform_fees, refunds=figures.refunds,
        refunded_credits=figures.refunded_credits, reversed_credits=figures.reversed_credits,
        disputes=figures.disputes, conversion_rate=figures.conversion_rate, dispute_rate=figures.dispute_rate,
        daily=[DayFiguresOut(date=d.day, active_users=d.active_users, sign_ups=d.sign_ups,
                             readings_requested=d.readings_requested, readings_completed=d.readings_completed,
                             credits_purchased=d.credits_purchased, money_in=d.money_in,
                             platform_fees=d.platform_fees, disputes=d.disputes) for d in figures.daily])
