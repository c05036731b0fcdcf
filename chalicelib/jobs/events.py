"""The notifications-queue consumer: each domain event to its registered consumers."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint

from chalicelib.config import get_settings
from chalicelib.logs import logger
from chalicelib.services import events

events_jobs = Blueprint(__name__)
_processor = BatchProcessor(event_type=EventType.SQS)


def _handle(record: SQSRecord) -> None:
    message = json.loads(record.body)
    ran = events.dispatch(message)
    logger.debug("event dispatched", extra={"eventId": message.get("eventId"), "type": message.get("type"),
                                            "consumers": ran})


@events_jobs.on_sqs_message(queue=get_settings().notifications_queue_name, batch_size=10,
                            name="domain_events")
def domain_events(event: Any) -> dict[str, Any]:
    """Partial batch response: only failed records return to the queue."""
    response = process_partial_response(event=event.to_dict(), record_handler=_handle, processor=_processor,
                                        context=event.context)
    return dict(response)
