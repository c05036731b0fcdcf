"""Relay committed domain events from the outbox to their queue: Stripe events and requested
payouts to the payments queue (money never waits behind a notification backlog), every other
event to the notifications queue. Both queues hand each event to its registered consumers."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import get_settings
from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

outbox_jobs = JobBlueprint(__name__)


PAYMENT_EVENT_TYPES = frozenset({"stripe.event_received", "payout.requested"})


def queue_for(event_type: str) -> str:
    settings = get_settings()
    return settings.payments_queue_name if event_type in PAYMENT_EVENT_TYPES else settings.notifications_queue_name


def send_to_queue(message: dict[str, Any]) -> None:
    from chalicelib.integrations import aws

    aws.client("sqs").send_message(
        QueueUrl=aws.queue_url(queue_for(message["type"])),
        MessageBody=json.dumps(message, separators=(",", ":")),
        MessageAttributes={
            "eventType": {"DataType": "String", "StringValue": message["type"]},
            "eventId": {"DataType": "String", "StringValue": message["eventId"]},
            # What the consumer sets on its logger (chalicelib/logs.py).
            **(
                {"correlationId": {"DataType": "String", "StringValue": message["correlationId"]}}
                if message.get("correlationId")
                else {}
            ),
        },
    )


@outbox_jobs.lambda_function(name="outbox_relay")
def outbox_relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB stream consumer (ReportBatchItemFailures is set on its event source)."""
    from chalicelib.services import outbox

    records = event.get("Records", [])
    failed = set(outbox.relay(outbox.inserted_event_ids(records), send_to_queue))
    failures = []
    for record in records:
        event_id = record.get("dynamodb", {}).get("Keys", {}).get("eventId", {}).get("S")
        if event_id in failed:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    if failures:
        logger.warning("outbox relay failures", extra={"failed": sorted(failed)})
    return {"batchItemFailures": failures}


@outbox_jobs.schedule("rate(5 minutes)", name="outbox_sweep")
def outbox_sweep(event: Any) -> dict[str, int]:
    """Safety net: relay events the stream path has not marked within two minutes."""
    from chalicelib.services import outbox

    stale = outbox.stale_pending(older_than_s=120)
    failed = outbox.relay(stale, send_to_queue)
    if stale:
        logger.info("outbox sweep", extra={"relayed": len(stale) - len(failed), "failed": len(failed)})
    return {"relayed": len(stale) - len(failed), "failed": len(failed)}
