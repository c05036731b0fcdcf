"""Dependency checks for ``GET /health``: every table, the queue and the bucket."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.config import get_settings
from chalicelib.integrations import aws
from chalicelib.models.registry import ALL_MODELS


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        status = "ok"
        error = None
    except Exception as exc:  # noqa: BLE001 - a failing dependency is reported, not raised
        status = "unreachable"
        error = type(exc).__name__
    result: dict[str, Any] = {"status": status, "latencyMs": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


def check() -> dict[str, Any]:
    settings = get_settings()
    checks: dict[str, Any] = {}
    dynamodb = aws.client("dynamodb")
    for model in ALL_MODELS:
        name = model.Meta.table_name
        checks[f"table:{name}"] = _timed(lambda name=name: dynamodb.describe_table(TableName=name))
    queue = settings.notifications_queue_name
    checks[f"queue:{queue}"] = _timed(lambda: aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.queue_url(queue), AttributeNames=["QueueArn"]))
    bucket = settings.media_bucket_name
    checks[f"bucket:{bucket}"] = _timed(lambda: aws.client("s3").head_bucket(Bucket=bucket))
    healthy = all(c["status"] == "ok" for c in checks.values())
    return {"status": "ok" if healthy else "degraded", "stage": settings.stage, "checks": checks}
