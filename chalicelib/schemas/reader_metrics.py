"""``GET /reader/metrics``: the reader's performance table (one line per period) and a daily
series for a chart. Counts are numbers; a rate or average with nothing to divide by is null.
Every field is always present: a null is sent as null, never left out (as in
``GET /admin/metrics``), so the document marks each nullable field required."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import ApiModel, QueryModel

Period = Literal["this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total"]
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


class ReaderMetricsQuery(QueryModel):
    attribute: str | None = Field(default=None, pattern=SLUG_PATTERN,
                                  description="an attribute id (tool, ability or style): `readings` counts that "
                                              "attribute's completed readings; absent: all readings. One of the "
                                              "reader's attributes or an attribute of GET /catalog (a dropped "
                                              "attribute keeps its history); any other id is a 400")
    period: Period = Field(default="this_month", description="the period of the daily series; weeks start on "
                                                             "Monday, in the reader's timezone")


class PeriodMetrics(ApiModel):
    """One row of the performance table: a period's figures (null where a rate has no base)."""
    period: Period
    from_: str | None = Field(alias="from", description="first local date (YYYY-MM-DD); null for total")
    to: str = Field(description="last local date (YYYY-MM-DD), today for the current periods")
    attribute: str | None = Field(description="the attribute `readings` counts; null: all readings")
    readings: int = Field(description="completed readings of the attribute (all readings without one)")
    credits_earned: int = Field(description="credits paid to the reader, less what disputes took back")
    reviews: int
    average_rating: float | None = Field(description="null without reviews")
    profile_views: int
    booking_requests: int
    accepted_bookings: int
    completed_readings: int
    booking_rate: float | None = Field(description=(
        "accepted / requests in the period; null without requests (a request made in an earlier period and "
        "accepted in this one can lift it above 1)"))
    completion_rate: float | None = Field(description=(
        "completed / accepted in the period; null without acceptances (a reading accepted in an earlier period and "
        "completed in this one can lift it above 1)"))
    repeat_client_count: int = Field(description="clients whose second completed reading fell in the period "
                                                 "(total: every repeat client)")
    repeat_client_rate: float | None = Field(
        description="total: the share of the reader's clients who came back; a period: the share of its "
                    "completed readings that were with a returning client (0..1); null without clients (total) or "
                    "without completed readings (a period)")
    average_response_time: float | None = Field(description="minutes from request to accept or decline; null "
                                                            "without answered requests")


class DayMetrics(ApiModel):
    """One local day of the chart's series."""
    date: str
    readings: int
    completed_readings: int
    credits_earned: int
    booking_requests: int
    accepted_bookings: int
    profile_views: int
    reviews: int


class ReaderMetricsOut(ApiModel):
    """The reader's performance table (every period) and a daily series for the chosen period."""
    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [{
        "readerId": "user_2abc", "timezone": "Europe/Lisbon", "attribute": "tarot", "period": "this_month",
        "attributes": ["compassionate", "tarot"], "periods": [], "series": []}]})

    reader_id: str
    timezone: str = Field(description="the reader's timezone: the periods' dates are local dates in it")
    attribute: str | None = Field(description="the attribute asked for; null: all readings")
    attributes: list[str] = Field(description="the reader's current tools, abilities and style")
    period: Period = Field(description="the period of the series (total: the series covers the last 6 months)")
    periods: list[PeriodMetrics] = Field(description="this week, last week, this month, last month, last 3 "
                                                     "months, last 6 months, total")
    series: list[DayMetrics] = Field(description="one entry per local date of the period, oldest first")

    def wire(self) -> dict[str, Any]:
        """Nulls kept: a rate with nothing to divide by is null, not absent."""
        return self.model_dump(mode="json", by_alias=True)
