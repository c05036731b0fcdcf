"""The structured JSON logger (powertools), one per container, and the correlation id.

The correlation id follows one story across functions: an API request's id (API Gateway's
request id, the ``X-Request-Id`` it answers) is written into every outbox event the request
emits (``correlationId``), carried by the relay into the SQS message, and set again by every
consumer for the records it handles, so an email sent because of a booking logs the id of the
booking request. A scheduled run has a fresh id of its own. Every log line made while an id is
set carries it as ``correlation_id`` (grep one id, read the whole story).

The id lives in a context variable (per thread: the local runner runs API requests, consumers
and schedules in threads of one process); a logging filter stamps it on each record when the
record is made, so a captured record carries the id of its moment.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

logger = Logger(service="auralumic")

T = TypeVar("T")

_CORRELATION: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class _StampCorrelationId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        value = _CORRELATION.get()
        if value and not hasattr(record, "correlation_id"):
            record.correlation_id = value
        return True


logger.addFilter(_StampCorrelationId())


def correlation_id() -> str | None:
    """The id of the story being told in this thread (None outside any)."""
    return _CORRELATION.get()


def set_correlation_id(value: str | None) -> None:
    """From now on (this thread), log lines and emitted events carry ``value``."""
    _CORRELATION.set(value or None)


def new_correlation_id() -> str:
    import uuid  # lazy: most paths have an id already (API Gateway's, Lambda's)

    return str(uuid.uuid4())


@contextlib.contextmanager
def correlated(value: str | None) -> Iterator[str]:
    """Inside: ``value`` (a fresh id when empty) is the correlation id; outside, the one before."""
    current = value or new_correlation_id()
    token = _CORRELATION.set(current)
    try:
        yield current
    finally:
        _CORRELATION.reset(token)


def of_sqs_record(record: Any) -> str:
    """The correlation id an SQS record (powertools' ``SQSRecord``) carries: its
    ``correlationId`` message attribute, else its ``eventId`` (a message from before ids were
    carried), else the message's own id (stable across its retries)."""
    attributes = record.message_attributes
    for name in ("correlationId", "eventId"):
        attribute = attributes[name]
        if attribute is not None and attribute.string_value:
            return str(attribute.string_value)
    return str(record.message_id)


def per_sqs_record(handler: Callable[[Any], T]) -> Callable[[Any], T]:
    """A record handler (powertools' batch processing) that handles each record inside the
    story it belongs to (``of_sqs_record``)."""

    @functools.wraps(handler)
    def handle(record: Any) -> T:
        with correlated(of_sqs_record(record)):
            return handler(record)

    return handle
