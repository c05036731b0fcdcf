"""Why a queue message failed: the last reason, kept beside it until SQS forgets it.

A consumer that fails a record (partial batch response) calls ``record_failure``; after the
queue's maxReceiveCount the message moves to the dead-letter queue with the same
MessageId, and ``make dlq`` (tools/dlq.py) shows each dead letter with its reason
(``reasons``). Best effort: a failure to record is logged, never raised (the record fails
either way). Kept in the webhook-events table (``failed#<messageId>``), TTL 15 days: longer
than SQS keeps any message.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import telemetry
from chalicelib.config import get_settings
from chalicelib.integrations import aws
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.webhooks import ProcessedWebhook

KEEP = timedelta(days=15)
MAX_REASON = 1000
# Where failures land (``<prefix>-<name>``): each queue's dead-letter queue and the outbox
# stream's on-failure destination, as infra/resources.json defines them (a test keeps the two
# in step). The dead_letter_depths job measures them.
FAILURE_QUEUES = ("notifications-dlq", "payments-dlq", "email-dlq", "media-uploads-dlq", "outbox-relay-failures")


def _key(message_id: str) -> str:
    return f"failed#{message_id}"


def record_failure(message_id: str, event_type: str | None, reason: str) -> None:
    now = utcnow()
    try:
        ProcessedWebhook(event_key=_key(message_id), source="sqs", event_type=event_type or "unknown",
                         received_at=iso(now), state=reason[:MAX_REASON],
                         expires_at=int((now + KEEP).timestamp())).save()
    except Exception as exc:  # noqa: BLE001 - the reason is in the log line already
        logger.warning("failure reason not recorded", extra={"messageId": message_id, "error": str(exc)})


def reasons(message_ids: list[str]) -> dict[str, str]:
    """The last recorded reason of each message id that has one (one BatchGetItem per 100)."""
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(message_ids))
    for start in range(0, len(unique), 100):
        for item in ProcessedWebhook.batch_get([_key(m) for m in unique[start:start + 100]]):
            found[item.event_key.removeprefix("failed#")] = item.state or ""
    return found


def depths() -> dict[str, int]:
    """Messages waiting in each failure queue (visible + being looked at: ``make dlq`` hides
    what it lists for a few seconds), one GetQueueAttributes each, as the
    ``DeadLetterMessages`` metric (chalicelib/telemetry.py)."""
    prefix = get_settings().resource_prefix
    sqs = aws.client("sqs")
    found: dict[str, int] = {}
    for name in FAILURE_QUEUES:
        attributes = sqs.get_queue_attributes(
            QueueUrl=aws.queue_url(f"{prefix}-{name}"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        ).get("Attributes", {})
        found[name] = int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
        telemetry.dead_letter_messages(name, found[name])
    return found
