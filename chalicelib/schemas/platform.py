from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.common import ApiModel


class HealthOut(ApiModel):
    """What anyone may know: whether the service can serve, nothing about what it runs on."""

    status: Literal["ok", "degraded"]


class DependencyCheck(ApiModel):
    """The health of one dependency."""
    status: Literal["ok", "unreachable"]
    latency_ms: float
    error: str | None = None


class HealthReportOut(HealthOut):
    """The API's health with a check per dependency."""
    stage: str
    checks: dict[str, DependencyCheck] = Field(description="one entry per table, queue and bucket")
