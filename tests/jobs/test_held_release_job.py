"""The release_held_notifications job itself, with its real senders: a notification held by quiet
hours goes, once they end, to the email queue and to Pusher (the service's own tests,
test_held_notifications.py, hand it recording senders instead)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from chalice.test import Client

from chalicelib.domain.notifications import Delivery


def _hold_during_quiet_hours(user_id: str, held_at: datetime) -> None:
    """Quiet hours from an hour before ``held_at`` to an hour after (UTC), and one
    reading_request notification held at ``held_at``: due an hour after it."""
    from chalicelib.services.notifications import held, preferences
    from chalicelib.services.notifications.timing import QuietHours

    quiet = QuietHours.parse(
        start=f"{held_at - timedelta(hours=1):%H:%M}", end=f"{held_at + timedelta(hours=1):%H:%M}", timezone="UTC"
    )
    preferences.put(
        user_id,
        {
            "reading_request": preferences.TypePreference(
                in_app=True, push=True, email=True, frequency="immediate", quiet_hours=quiet
            )
        },
    )
    delivery = Delivery(
        user_id=user_id,
        type="reading_request",
        title="A reading request",
        message="Ann asked for a reading.",
        related_id="rdg_1",
    )
    decision = preferences.decide([user_id], "reading_request", held_at)[user_id]
    assert decision.channels == {"in_app"}  # push and email held
    held.hold_many([(delivery, decision)], key="evt_1", occurred_at=held_at.isoformat())


def test_the_job_sends_a_released_email_to_the_email_queue(aws: None, make_user: Any, chalice_app: Any) -> None:
    from chalicelib.config import get_settings

    make_user("ann")
    _hold_during_quiet_hours("ann", datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3))
    with Client(chalice_app) as client:
        response = client.lambda_.invoke(
            "release_held_notifications",
            client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            ),
        )
    assert response.payload == {"released": 1, "digests": 0}

    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().email_queue_name)["QueueUrl"]
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert [(b["userId"], b["type"], b["title"], b["eventId"]) for b in bodies] == [
        ("ann", "reading_request", "A reading request", "evt_1")
    ]
