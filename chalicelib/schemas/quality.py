"""Reader quality on the wire: ``GET /reader/quality``, ``POST /reader/warnings/{warningId}/acknowledge``
and ``GET /admin/readers/at-risk``. A value with too small a sample to judge is null."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.domain import quality as rules
from chalicelib.schemas.common import ApiModel, Page, PageQuery

Status = Literal["excellent", "good", "needs_improvement", "at_risk"]
Kind = Literal["response_time", "cancellation_rate", "dispute_rate", "no_show_rate", "late_start_rate"]


class Window(ApiModel):
    """The window the rates are computed over: the last days, in the reader's timezone."""

    from_: str = Field(alias="from", description="first local date of the window (YYYY-MM-DD)")
    to: str = Field(description="last local date (today in the reader's timezone)")
    days: int


class Rate(ApiModel):
    """One judged figure: its value over the window, its sample and its thresholds."""

    value: float | None = Field(description="null: fewer than minimumSample events in the window, not judged")
    sample: int = Field(description="the events the value is computed over")
    minimum_sample: int
    threshold: float = Field(description="above it a warning opens")
    at_risk_above: float = Field(description="above it the reader is at risk")


class Completeness(ApiModel):
    """How much of the profile is filled in, and what is missing."""

    value: float = Field(description="share of the profile's parts filled in (0..1)")
    missing: list[str] = Field(description=f"missing parts among {', '.join(rules.PROFILE_PARTS)}")


class Activity(ApiModel):
    """When the reader last completed a reading and was last seen online."""

    last_completed_on: str | None = Field(description="local date of the last completed reading known")
    last_seen_at: str | None
    days_inactive: int | None = Field(description="days since the later of the two; null if neither is known")


class QualityMetrics(ApiModel):
    """The reader's quality figures over the window."""

    window: Window
    response_time: Rate = Field(description="average minutes from a request to the reader's answer")
    cancellation_rate: Rate = Field(description="readings the reader cancelled / readings they accepted")
    dispute_rate: Rate = Field(description="disputes filed / readings completed")
    no_show_rate: Rate = Field(description="readings the reader missed (refunded) / readings they accepted")
    late_start_rate: Rate = Field(
        description=f"punctuality: scheduled calls and live videos the reader started more than "
                    f"{int(rules.LATE_AFTER.total_seconds() // 60)} minutes after their time / those they started "
                    "(immediate readings are not counted)")
    profile_completeness: Completeness
    activity: Activity
    completed_readings: int = Field(description="completed readings in the window")


class WarningOut(ApiModel):
    """A quality warning: a figure past its threshold, what to do, and its state."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [{
        "id": "cancellation_rate.1", "kind": "cancellation_rate", "state": "open", "value": 0.25,
        "threshold": 0.1, "title": "Too many cancellations",
        "message": "You cancelled 25% of the readings you accepted over the last 30 days, more than 10%. ...",
        "openedAt": "2026-06-15T12:00:00.000Z", "acknowledgedAt": None, "resolvedAt": None}]})

    id: str
    kind: Kind
    state: Literal["open", "acknowledged", "resolved"]
    value: float | None = Field(description="the value when opened (kept up to date while open)")
    threshold: float
    title: str
    message: str = Field(description="what is wrong and what to do, for the reader")
    opened_at: str
    acknowledged_at: str | None = None
    resolved_at: str | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class QualityOut(ApiModel):
    """The signed-in reader's quality: figures, status and warnings."""

    reader_id: str
    status: Status
    status_since: str | None = Field(description="when the job last recorded this status; null before it did")
    metrics: QualityMetrics
    open_warnings: list[WarningOut] = Field(description="open or acknowledged, newest first")
    recent_warnings: list[WarningOut] = Field(description=f"resolved in the last {rules.WINDOW_DAYS} days")

    def wire(self) -> dict[str, Any]:
        """Nulls kept: a value not judged is null, not absent."""
        return self.model_dump(mode="json", by_alias=True)


class AtRiskQuery(PageQuery):
    """``?status=&limit=&cursor=`` of the admins' list."""

    status: Literal["at_risk", "needs_improvement"] = Field(default="at_risk", description="which status to list")


class AtRiskReader(ApiModel):
    """A reader in the admins' list, as of the quality job's last evaluation."""

    reader_id: str
    display_name: str | None
    status: Status
    since: str | None = Field(description="when the reader's status became this one")
    warnings: list[Kind] = Field(description="kinds of the open warnings")
    metrics: QualityMetrics
    evaluated_at: str | None


class AtRiskPage(Page[AtRiskReader]):
    """A page of readers at risk (or needing improvement), for admins."""
