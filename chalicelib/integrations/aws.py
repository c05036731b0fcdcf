"""boto3 clients, created once per container (and only on the paths that need them).

``AWS_ENDPOINT_URL`` (set by the local runner) points every client at moto's server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import get_settings


@cache
def client(service: str) -> Any:
    import boto3  # lazy: ~140 ms of cold start that most routes never need

    return boto3.session.Session().client(service, region_name=get_settings().region)


def queue_url(queue_name: str) -> str:
    return _queue_url(queue_name)


@cache
def _queue_url(queue_name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"])


def reset() -> None:
    """Forget cached clients (tests switch between moto contexts)."""
    client.cache_clear()
    _queue_url.cache_clear()
