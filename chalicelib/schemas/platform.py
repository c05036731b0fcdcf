from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.common import ApiModel


class DependencyCheck(ApiModel):
    status: Literal["ok", "unreachable"]
    latency_ms: float
    error: str | None = None


class HealthOut(ApiModel):
    status: Literal["ok", "degraded"]
    stage: str
    checks: dict[str, DependencyCheck] = Field(description="one entry per table, queue and bucket")
