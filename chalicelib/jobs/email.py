"""The email job: consumes the email queue (``<prefix>-email``) and sends each email once.

Each record is one email (services/notifications/email.py queues them, ten per batch call).
Partial batch failures: a record that fails (SES throttled, a poison message) goes back to
the queue alone, the others of its batch are done; after five receives the queue moves it
to ``<prefix>-email-dlq`` (alarmed), with the reason in this job's log. Sending is
idempotent per (eventId, userId, type), so redeliveries send nothing twice.
"""

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

email_jobs = JobBlueprint(__name__)


@lru_cache(maxsize=1)
def _processor() -> BatchProcessor:
    # Lazy: powertools' batch module pulls in asyncio that API cold starts never need.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS)


@logs.per_sqs_record
def _handle(record: SQSRecord) -> None:
    from chalicelib.services.notifications import email

    try:
        body = json.loads(record.body)
        if not isinstance(body, dict):
            raise email.PoisonMessage("The email message is not a JSON object.")
        outcome = email.send_queued(body)
    except (email.PoisonMessage, ValueError) as exc:
        # Retried up to the queue's maxReceiveCount, then dead-lettered: logged with the reason.
        logger.error(
            "email message cannot be sent",
            extra={
                "messageId": record.message_id,
                "reason": str(exc),
                "receiveCount": record.attributes.approximate_receive_count,
            },
        )
        raise
    logger.debug("email message handled", extra={"messageId": record.message_id, "outcome": outcome})


@email_jobs.on_sqs_message(queue=get_settings().email_queue_name, batch_size=10, name="email_delivery")
def email_delivery(event: Any) -> dict[str, Any]:
    """Partial batch response: only failed records return to the queue."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event.to_dict(), record_handler=_handle, processor=_processor(), context=event.context
    )
    return dict(response)
