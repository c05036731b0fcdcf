"""The signed-in reader's performance table (``READER``: only their own)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import READER
from chalicelib.schemas.reader_metrics import ReaderMetricsOut, ReaderMetricsQuery
from chalicelib.services.metrics import reader

reader_metrics_api = Blueprint(__name__)


@route(reader_metrics_api, "/reader/metrics", "GET", access=READER, query=ReaderMetricsQuery,
       response=ReaderMetricsOut, errors=(400,), tags=["readers"],
       summary="The reader's performance per period (optionally for one attribute) and a daily series")
def get_reader_metrics(ctx: RequestContext) -> dict[str, Any]:
    """Per period (this week, last week, this month, last month, last 3 and 6 months, total;
    local dates in the reader's timezone, weeks from Monday): completed readings (of
    ``attribute`` or all), credits earned, reviews and average rating, profile views,
    requests, accepted, completed, booking and completion rates, repeat clients and their
    rate, average response time in minutes; and a daily series of ``period`` for a chart.
    Three DynamoDB reads whatever the reader's history: the profile, the day buckets of
    the last 6 months (one Query), the all-time bucket."""
    query: ReaderMetricsQuery = ctx.query
    table = reader.metrics_table(ctx.user.user_id, attribute=query.attribute, period=query.period)
    return ReaderMetricsOut.model_validate(table).wire()
