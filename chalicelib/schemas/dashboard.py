"""``GET /dashboard``: the caller's home page, one section per role.

Every item has the shape of its own route (a status as in ``GET /statuses/mine``, a reading
as in ``GET /readings``, an application as in ``GET /admin/reader-applications``, a warning
as in ``GET /reader/quality``, figures as in ``GET /admin/metrics``), so the frontend shows
them with the same components.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, JsonValue

from chalicelib.schemas.admin_metrics import PeriodFiguresOut
from chalicelib.schemas.common import ApiModel, SendsNulls
from chalicelib.schemas.credits import BalanceOut
from chalicelib.schemas.earnings import EarningsTotalsOut, PendingOut
from chalicelib.schemas.favorites import RecommendationOut
from chalicelib.schemas.quality import Status as QualityStatus
from chalicelib.schemas.quality import WarningOut
from chalicelib.schemas.reader_views import ApplicationOut
from chalicelib.schemas.readings import ReadingOut
from chalicelib.schemas.statuses import StatusOut

_COUNT = ("how many wait in all, counted up to 1000 (a bounded count, never a read of the whole queue); "
          "with moreThan, there are more: show \"1000+\"")
_MORE_THAN = "true when counting stopped at the cap: more than count are waiting"
_DATE: dict[str, JsonValue] = {"format": "date"}


class ReadingsPreview(ApiModel):
    """The first few readings of a list; ``hasMore``: its route lists the rest."""
    data: list[ReadingOut]
    has_more: bool


class ReadingQueue(ApiModel):
    """The first few readings of a queue and how many wait in all."""
    data: list[ReadingOut]
    count: int = Field(ge=0, description=_COUNT)
    more_than: bool = Field(description=_MORE_THAN)


class ApplicationQueue(ApiModel):
    """The oldest pending reader applications and how many wait in all."""
    data: list[ApplicationOut] = Field(description="oldest submission first (GET /admin/reader-applications)")
    count: int = Field(ge=0, description=_COUNT)
    more_than: bool = Field(description=_MORE_THAN)


class ClientDashboard(ApiModel):
    """A client's home: their open statuses, readings, balance and readers to try."""
    active_statuses: list[StatusOut] = Field(description="statuses taking suggestions (at most 3), newest first, "
                                                         "with their suggested readings")
    upcoming_readings: ReadingsPreview = Field(description="accepted and in progress, newest booking first "
                                                           "(GET /readings?tab=accepted)")
    recent_readings: ReadingsPreview = Field(description="finished: completed, cancelled, declined, expired, "
                                                         "disputed or refunded, newest first "
                                                         "(GET /readings?tab=archived)")
    balance: BalanceOut = Field(description="as GET /credits shows it")
    recommendations: list[RecommendationOut] = Field(description="a few readers to try (GET /me/recommendations)")
    recommendations_personalized: bool = Field(description="false for a cold start: no history yet")


class RatingOut(SendsNulls):
    """The reader's rating as their public card shows it."""
    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ("average",)
    average: float | None = Field(description="average stars of their reviews; null (no data, not 0) before "
                                              "the first")
    count: int = Field(description="reviews received")


class ScheduleOut(ApiModel):
    """Live readings (calls and live video) accepted for today in the reader's timezone."""
    date: str = Field(json_schema_extra=_DATE, description="today in the reader's timezone")
    timezone: str = Field(description="the reader's IANA timezone (UTC when the profile has none)")
    data: list[ReadingOut] = Field(description="by start time; an immediate reading accepted and not finished "
                                               "(no start time: it starts once both join) comes first")
    complete: bool = Field(description="false when the reader has more accepted readings than were read (100): "
                                       "some of today's may be missing; GET /readings?as=reader&tab=accepted "
                                       "lists them all")


class EarningsOverview(ApiModel):
    """The totals of GET /reader/earnings (weeks start on Monday, in the reader's timezone)."""
    timezone: str
    this_week: EarningsTotalsOut
    this_month: EarningsTotalsOut
    pending: PendingOut


class ReaderDashboard(ApiModel):
    """A reader's home: requests to answer, today's readings, earnings, rating, badges and quality."""
    pending_requests: ReadingQueue = Field(description="requests waiting for an answer, newest first "
                                                       "(GET /readings?as=reader&tab=requested)")
    today_schedule: ScheduleOut
    earnings: EarningsOverview
    rating: RatingOut
    badges: list[str] = Field(description="badge ids on the reader's card (GET /catalog names them)")
    warnings: list[WarningOut] = Field(description="open or acknowledged quality warnings, newest first "
                                                   "(GET /reader/quality)")
    quality_status: Literal[QualityStatus, "not_evaluated"] = Field(
        description="the status of the quality job's last evaluation (GET /reader/quality computes it live); "
                    "not_evaluated until the job has evaluated the reader, within 15 minutes of their first "
                    "reading event (a reader with no reading yet is not evaluated)")
    quality_status_since: str | None = Field(default=None, description="since when the status holds; absent "
                                                                       "while not_evaluated")


class PlatformToday(ApiModel):
    """Today's platform figures (UTC day) and yesterday's, as GET /admin/metrics?period=day shows them."""
    today: PeriodFiguresOut
    yesterday: PeriodFiguresOut


class AdminDashboard(ApiModel):
    """An admin's home: the work waiting and today's figures."""
    pending_applications: ApplicationQueue
    open_disputes: ReadingQueue = Field(description="oldest first (GET /admin/disputes)")
    moderation_queue: int = Field(ge=0, description="content waiting for a moderator's decision: the pending "
                                                   "and escalated items of GET /admin/moderation, counted up to "
                                                   "1,000 per state")
    moderation_queue_more_than: bool = Field(description="true when counting stopped at 1,000 in a state: show "
                                                         "the count with a plus (1000+)")
    platform: PlatformToday


class DashboardOut(ApiModel):
    """The caller's dashboard: the section of their role, the others absent."""
    role: Literal["client", "reader", "admin"]
    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    client: ClientDashboard | None = Field(default=None, description="present for clients")
    reader: ReaderDashboard | None = Field(default=None, description="present for readers")
    admin: AdminDashboard | None = Field(default=None, description="present for admins")

    def wire(self) -> dict[str, Any]:
        """Absent fields left out, except the nulls that are answers (a warning's empty dates)."""
        body = self.dump()
        if self.reader is not None:
            body["reader"]["warnings"] = [warning.model_dump(mode="json", by_alias=True)
                                          for warning in self.reader.warnings]
        return body
