"""The notifications-queue consumer hands each event to its registered consumers and
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
