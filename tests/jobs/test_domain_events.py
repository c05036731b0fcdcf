"""The event-queue consumers hand each event to its registered consumers and
returns only the failed records to the queue."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client


@pytest.fixture()
def registered():
    from chalicelib.services import events

    saved = {k: list(v) for k, v in events.CONSUMERS.items()}
    seen: list[dict] = []

    @events.consumer("test.happened")
    def record(message):
        if message["data"].get("fail"):
            raise RuntimeError("consumer failed")
        seen.append(message)

    yield seen
    events.CONSUMERS.clear()
    events.CONSUMERS.update(saved)


def _sqs_event(client, bodies):
    event = client.events.generate_sqs_event(message_bodies=[json.dumps(b) for b in bodies],
                                             queue_name="auralumic-test-notifications")
    for n, record in enumerate(event["Records"]):  # generate_sqs_event repeats one messageId
        record["messageId"] = f"m-{n}"
    return event


def test_each_event_reaches_its_consumer_and_failures_go_back_to_the_queue(aws, chalice_app, registered):
    messages = [
        {"eventId": "e1", "type": "test.happened", "data": {"n": 1}},
        {"eventId": "e2", "type": "test.happened", "data": {"fail": True}},
        {"eventId": "e3", "type": "nobody.listens", "data": {}},
    ]
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("domain_events", _sqs_event(client, messages))
    assert [m["eventId"] for m in registered] == ["e1"]
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def _queued(queue_name: str) -> list[dict]:
    from chalicelib.integrations import aws

    sqs = aws.client("sqs")
    got = sqs.receive_message(QueueUrl=aws.queue_url(queue_name), MaxNumberOfMessages=10,
                              MessageAttributeNames=["All"]).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_stripe_events_go_to_the_payments_queue_and_the_rest_to_the_notifications_queue(aws):
    """A grant never waits behind a notification backlog: the relay routes by event type."""
    from chalicelib.config import get_settings
    from chalicelib.jobs.outbox import send_to_queue
    from chalicelib.services import outbox
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    paid = outbox.emit(tx, "stripe.event_received", eventId="evt_1", type="checkout.session.completed",
                       created=1, object={"id": "cs_1"})
    booked = outbox.emit(tx, "reading.requested", readingId="r1", clientId="c1", readerId="p1")
    tx.commit()
    assert outbox.relay([paid, booked], send_to_queue) == []

    settings = get_settings()
    assert [m["eventId"] for m in _queued(settings.payments_queue_name)] == [paid]
    assert [m["eventId"] for m in _queued(settings.notifications_queue_name)] == [booked]


def test_the_payments_queue_consumer_dispatches_like_the_notifications_one(aws, chalice_app, registered):
    messages = [{"eventId": "e1", "type": "test.happened", "data": {"n": 1}},
                {"eventId": "e2", "type": "test.happened", "data": {"fail": True}}]
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("payment_events", _sqs_event(client, messages))
    assert [m["eventId"] for m in registered] == ["e1"]
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
