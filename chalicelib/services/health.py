"""Dependency checks behind ``GET /health`` (ok or degraded) and ``GET /admin/health``
(every table, the queue and the bucket, by name)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.config import get_settings
from chalicelib.integrations import aws
from chalicelib.models.registry import ALL_MODELS


@dataclass(frozen=True)
class DependencyStatus:
    status: Literal["ok", "unreachable"]
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    stage: str
    checks: dict[str, DependencyStatus] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "degraded"]:
        return "ok" if all(check.status == "ok" for check in self.checks.values()) else "degraded"


def _timed(check: Callable[[], Any]) -> DependencyStatus:
    started = time.perf_counter()
    try:
        check()
        error = None
    except Exception as exc:  # noqa: BLE001 - a failing dependency is reported, not raised
        error = type(exc).__name__
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return DependencyStatus("unreachable" if error else "ok", latency_ms, error)


def _queue_attributes(queue: str) -> Any:
    return aws.client("sqs").get_queue_attributes(QueueUrl=aws.queue_url(queue), AttributeNames=["QueueArn"])


def check() -> HealthReport:
    settings = get_settings()
    checks: dict[str, DependencyStatus] = {}
    dynamodb = aws.client("dynamodb")
    for model in ALL_MODELS:
        name = model.Meta.table_name
        checks[f"table:{name}"] = _timed(functools.partial(dynamodb.describe_table, TableName=name))
    for queue in (settings.notifications_queue_name, settings.payments_queue_name):
        checks[f"queue:{queue}"] = _timed(functools.partial(_queue_attributes, queue))
    bucket = settings.media_bucket_name
    checks[f"bucket:{bucket}"] = _timed(lambda: aws.client("s3").head_bucket(Bucket=bucket))
    return HealthReport(stage=settings.stage, checks=checks)
