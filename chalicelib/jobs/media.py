"""The media job: checks every upload S3 receives under ``media/`` and makes its variants.

Why S3 -> SQS -> this consumer, and not ``@on_s3_event``: Chalice cannot package an S3
event source for CloudFormation (``chalice package`` raises NotImplementedError for it;
it only wires S3 events by API calls in ``chalice deploy``), and infra/resources.json is
what deploys the bucket. So the bucket's NotificationConfiguration sends ObjectCreated
events for the prefix ``media/`` to the ``<prefix>-media-uploads`` queue (its QueuePolicy
lets only this bucket send), and this function consumes it. The queue adds what a direct
S3 -> Lambda trigger lacks anyway: retries with a dead-letter queue (alarmed), and
partial batch failures (only the records that failed go back to the queue).

Each record is handled by ``services.media.process_upload``, which is idempotent (SQS
and S3 both deliver at least once). The variants the job writes are under ``media/`` too;
their events are ignored (their keys are not upload keys). Pillow is imported by the
service only when an image is processed, so API cold starts never load it.
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

media_jobs = JobBlueprint(__name__)

# The queue infra/resources.json defines (MediaUploadsQueue): "<prefix>-media-uploads".
MEDIA_UPLOADS_QUEUE = f"{get_settings().resource_prefix}-media-uploads"


@lru_cache(maxsize=1)
def _processor() -> BatchProcessor:
    # Lazy: powertools' batch module pulls in asyncio that API cold starts never need.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS)


@logs.per_sqs_record
def _handle(record: SQSRecord) -> None:
    from chalicelib.services import media

    message = json.loads(record.body)
    for bucket, key in media.uploaded_objects(message):  # S3's TestEvent has none
        outcome = media.process_upload(bucket, key)
        log = logger.debug if outcome == "ignored" else logger.info  # "ignored": our own variants' events
        log("media upload handled", extra={"key": key, "outcome": outcome})


@media_jobs.on_sqs_message(queue=MEDIA_UPLOADS_QUEUE, batch_size=5, name="media_uploads")
def media_uploads(event: Any) -> dict[str, Any]:
    """Partial batch response: only failed records return to the queue."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event.to_dict(), record_handler=_handle, processor=_processor(), context=event.context
    )
    return dict(response)
