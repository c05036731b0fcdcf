"""The event-queue consumers: each domain event to its registered consumers. Two queues, one
dispatch: ``domain_events`` (the notifications queue: everything but money) and
``payment_events`` (the payments queue: Stripe events, see jobs/outbox.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib import logs
from chalicelib.config import get_settings
from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

events_jobs = JobBlueprint(__name__)


@lru_cache(maxsize=2)
def _processor(consumer: str) -> BatchProcessor:
    """One per consumer: a processor holds its batch's state (the local runner drives both
    consumers at once, in two threads)."""
    # Lazy: powertools' batch module pulls in asyncio (~100 ms) that API cold starts never need.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def consumers() -> Any:
    """The event registry with every consumer registered: each consumer module registers
    itself when imported, so this is the one list of them. Imported when the first batch
    arrives, not with the module (``app`` imports this module; the API's cold start must
    not pay for the consumers)."""
    from chalicelib.services import dead_letters, events, reader_stats, realtime, review_names  # noqa: F401
    from chalicelib.services.explore import freshness  # noqa: F401 - marks the explore snapshot stale
    from chalicelib.services.metrics import platform as platform_metrics  # noqa: F401 - platform counters
    from chalicelib.services.metrics import reader as reader_metrics  # noqa: F401 - reader counters
    from chalicelib.services.notifications import fanout  # noqa: F401 - the notification consumers
    from chalicelib.services.payouts import transfers  # noqa: F401 - a requested payout's transfer
    from chalicelib.services.privacy import erasure, export  # noqa: F401 - exports; a deleted account's follow-up
    from chalicelib.services.readings import reminders  # noqa: F401 - schedules a reading's reminders
    from chalicelib.services.recommend import interactions  # noqa: F401 - the recommender's signals
    from chalicelib.services.statuses import expiry  # noqa: F401 - closes a deleted account's statuses

    return events


@logs.per_sqs_record
def _handle(record: SQSRecord) -> None:
    from chalicelib.services import dead_letters

    message: Any = None
    try:
        message = json.loads(record.body)
        ran = consumers().dispatch(message)
    except Exception as exc:
        # Reported as this record's failure; after the queue's maxReceiveCount it moves to the
        # dead-letter queue (`make dlq` lists and redrives it). The reason, once per receive:
        body = message if isinstance(message, dict) else {}
        logger.exception(
            "event consumer failed",
            extra={
                "messageId": record.message_id,
                "eventId": body.get("eventId"),
                "type": body.get("type"),
                "receiveCount": record.attributes.approximate_receive_count,
                "reason": f"{type(exc).__name__}: {exc}",
            },
        )
        dead_letters.record_failure(record.message_id, body.get("type"), f"{type(exc).__name__}: {exc}")
        raise
    logger.debug(
        "event dispatched", extra={"eventId": message.get("eventId"), "type": message.get("type"), "consumers": ran}
    )


@events_jobs.on_sqs_message(queue=get_settings().notifications_queue_name, batch_size=10, name="domain_events")
def domain_events(event: Any) -> dict[str, Any]:
    """Partial batch response: only failed records return to the queue."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event.to_dict(), record_handler=_handle, processor=_processor("domain_events"), context=event.context
    )
    return dict(response)


@events_jobs.on_sqs_message(queue=get_settings().payments_queue_name, batch_size=10, name="payment_events")
def payment_events(event: Any) -> dict[str, Any]:
    """Stripe events, on their own queue and function: a grant or a refund waits behind no
    notification fan-out. Partial batch response, as domain_events."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event.to_dict(), record_handler=_handle, processor=_processor("payment_events"), context=event.context
    )
    return dict(response)
