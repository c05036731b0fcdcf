"""The fan-out consumer's reliability: once per (event, recipient, channel) however often SQS
delivers, poison messages fail alone and end in the dead-letter queue, big audiences are
split into chunk messages, and the calls stay batched."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from chalice.test import Client

from chalicelib.models.notifications import COUNTER_SK, Notification
from tests.support.calls import aws_calls as dynamodb_and_s3_calls

QUEUE = "auralumic-test-notifications"
CLIENT, READER, BUYER = "user_client_maria", "user_reader_luna", "user_buyer_tom"


@pytest.fixture()
def pushed(monkeypatch) -> list[Any]:
    """Every Pusher event published (the pusher client is replaced at the integration's edge)."""
    from chalicelib.integrations import pusher

    events: list[Any] = []

    def publish(batch):
        listed = list(batch)
        events.extend(listed)
        return len(listed)

    monkeypatch.setattr(pusher, "publish", publish)
    return events


@pytest.fixture()
def people(make_user):
    make_user(CLIENT, display_name="Maria Lopez")
    make_user(READER, role="reader", display_name="Luna Starling")
    make_user(BUYER, display_name="Tom Baker")


@contextmanager
def aws_calls() -> Iterator[list[tuple[str, str]]]:
    """Every (service, operation), the app's SQS client included."""
    from chalicelib.integrations import aws

    sqs = aws.client("sqs")
    with dynamodb_and_s3_calls() as seen:
        def record(model: Any = None, **_: Any) -> None:
            seen.append(("sqs", model.name))

        sqs.meta.events.register("before-call", record)
        try:
            yield seen
        finally:
            sqs.meta.events.unregister("before-call", record)


def _message(event_id: str, type_: str, **data: Any) -> dict[str, Any]:
    return {"eventId": event_id, "type": type_, "occurredAt": "2025-03-01T10:00:00.000Z", "data": data}


def _requested(event_id: str = "01JEVENTREQUESTEDXXXXXXXXX") -> dict[str, Any]:
    return _message(event_id, "reading.requested", readingId="01JREADING", clientId=CLIENT, readerId=READER,
                    type="phone_call", credits=40)


def _sqs_event(client, bodies: list[Any], receive_count: int = 1) -> dict[str, Any]:
    event = client.events.generate_sqs_event(
        message_bodies=[b if isinstance(b, str) else json.dumps(b) for b in bodies], queue_name=QUEUE)
    for n, record in enumerate(event["Records"]):  # generate_sqs_event repeats one messageId
        record["messageId"] = f"m-{n}"
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return event


def _invoke(chalice_app, bodies, receive_count: int = 1) -> dict[str, Any]:
    with Client(chalice_app) as client:
        return client.lambda_.invoke("domain_events", _sqs_event(client, bodies, receive_count)).payload


def _rows(user_id: str) -> list[Notification]:
    return [row for row in Notification.query(user_id) if row.sk != COUNTER_SK]


def _take(queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a queue: what was sent to it."""
    from chalicelib.integrations import aws

    sqs = aws.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])


def _emails() -> list[dict[str, Any]]:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws

    return _take(aws.queue_url(get_settings().email_queue_name))


def _queued_chunks() -> list[dict[str, Any]]:
    from chalicelib.integrations import aws

    return _take(aws.queue_url(QUEUE))


def test_each_message_delivered_three_times_gives_one_row_one_push_and_one_email(aws, chalice_app, people, pushed):
    requested, bought = _requested(), _message("01JEVENTBOUGHTXXXXXXXXXXXX", "credits.purchased", userId=BUYER,
                                               credits=60, packageId="seeker", sessionId="cs_1")
    for attempt in range(3):
        assert _invoke(chalice_app, [requested, bought], receive_count=attempt + 1) == {"batchItemFailures": []}

    rows = _rows(READER)
    assert [(r.type, r.title, r.message) for r in rows] == [(
        "reading_request", "New reading request",
        "Maria requested a phone reading (40 credits). Accept or decline it before the request expires.")]
    assert [r.type for r in _rows(BUYER)] == ["credits_purchased"]
    assert sorted((e.channel, e.data["type"]) for e in pushed) == [
        (f"private-user-{BUYER}", "credits_purchased"), (f"private-user-{READER}", "reading_request")]
    assert all(e.data["data"]["notificationId"] for e in pushed)
    assert sorted((m["userId"], m["type"]) for m in _emails()) == [
        (BUYER, "credits_purchased"), (READER, "reading_request")]


def test_a_worker_that_died_after_in_app_pushes_and_emails_once_on_the_redelivery(
        aws, chalice_app, people, pushed, monkeypatch):
    from chalicelib.services import realtime

    real_push = realtime.push

    def dies(deliveries):
        raise RuntimeError("the worker's time ran out")

    monkeypatch.setattr(realtime, "push", dies)
    # (with a message that needs no push beside it: a batch whose every record fails is a failed invocation)
    unrelated = _message("01JEVENTUNRELATEDXXXXXXXXX", "reading.session_ready", readingId="01JREADING")
    first = _invoke(chalice_app, [_requested(), unrelated])
    monkeypatch.setattr(realtime, "push", real_push)
    second = _invoke(chalice_app, [_requested()], receive_count=2)
    third = _invoke(chalice_app, [_requested()], receive_count=3)

    assert first == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert second == third == {"batchItemFailures": []}
    assert len(_rows(READER)) == 1
    assert [e.channel for e in pushed] == [f"private-user-{READER}"]
    assert [m["userId"] for m in _emails()] == [READER]


def test_a_batch_of_ten_with_one_poison_message_processes_nine_and_fails_only_that_one(
        aws, chalice_app, people, pushed):
    bodies: list[Any] = [_message(f"01JEVENTPURCHASE{n:02d}XXXXXXXX", "credits.purchased", userId=BUYER, credits=n + 1,
                                  sessionId=f"cs_{n}") for n in range(10)]
    bodies[6] = {"type": "credits.purchased", "data": {"userId": BUYER}}  # no eventId: no retry can handle it

    response = _invoke(chalice_app, bodies)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-6"}]}
    assert len(_rows(BUYER)) == 9
    assert len(pushed) == 9


def test_a_poison_message_is_retried_then_dead_lettered(aws, chalice_app, people):
    """The queue's redrive policy (infra/resources.json) moves a message that failed
    maxReceiveCount times to the dead-letter queue; the worker loop of `make run` deletes
    only what the handler did not report failed."""
    from chalicelib.integrations import aws as aws_clients

    sqs = aws_clients.client("sqs")
    url = aws_clients.queue_url(QUEUE)
    dlq_url = aws_clients.queue_url(f"{QUEUE}-dlq")
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                        ["Attributes"]["RedrivePolicy"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "credits.purchased", "data": {}}))
    receives = 0
    with Client(chalice_app) as client:
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                      AttributeNames=["All"]).get("Messages", [])
            if not got:
                break
            receives += 1
            assert receives <= int(policy["maxReceiveCount"]), "the message was never dead-lettered"
            event = _sqs_event(client, [got[0]["Body"]], int(got[0]["Attributes"]["ApproximateReceiveCount"]))
            # A batch whose only record fails is a failed invocation (powertools raises): not deleted either.
            with pytest.raises(BatchProcessingError):
                client.lambda_.invoke("domain_events", event)

    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert receives == int(policy["maxReceiveCount"]) == 5
    assert [json.loads(m["Body"])["type"] for m in dead] == ["credits.purchased"]


def test_make_dlq_lists_dead_letters_with_their_reason_and_redrives_them(aws, chalice_app, capsys):
    from chalicelib.integrations import aws as aws_clients
    from tools import dlq

    sqs = aws_clients.client("sqs")
    url, dlq_url = aws_clients.queue_url(QUEUE), aws_clients.queue_url(f"{QUEUE}-dlq")
    poison = json.dumps({"type": "credits.purchased", "data": {}})
    good = _message("01JEVENTGOODXXXXXXXXXXXXXX", "reading.session_ready", readingId="r")
    with Client(chalice_app) as client:  # the consumer records why the poison failed
        event = _sqs_event(client, [poison, good])
        sqs.send_message(QueueUrl=dlq_url, MessageBody=poison)  # ... as SQS moves it, with its id:
        moved = sqs.receive_message(QueueUrl=dlq_url, VisibilityTimeout=0)["Messages"][0]
        event["Records"][0]["messageId"] = moved["MessageId"]
        assert client.lambda_.invoke("domain_events", event).payload == {
            "batchItemFailures": [{"itemIdentifier": moved["MessageId"]}]}

    assert dlq.run(redrive=False, queue="notifications", limit=10) == 1
    listed = capsys.readouterr().out
    assert f"{QUEUE}-dlq (1 message, from {QUEUE})" in listed
    assert f"{moved['MessageId']}  received" in listed and "reason: KeyError: 'eventId'" in listed

    assert dlq.run(redrive=True, queue="notifications", limit=10) == 1
    assert "redrove 1 to auralumic-test-notifications" in capsys.readouterr().out
    back = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in back] == [poison]
    assert sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", []) == []


def test_an_audience_of_1200_admins_is_split_into_chunks_and_ends_with_1200_rows(aws, chalice_app, make_user,
                                                                                 pushed):
    from chalicelib.models.users import User

    admins = [f"user_admin_{n:04d}" for n in range(1200)]
    with User.batch_write() as batch:
        for n, admin in enumerate(admins):
            batch.save(User(user_id=admin, role="admin", status="active", display_name=f"Admin {n}",
                            created_at=f"2025-01-01T00:00:{n % 60:02d}.{n:04d}Z", updated_at="2025-01-01T00:00:00Z"))
    make_user(CLIENT, display_name="Maria Lopez")
    submitted = _message("01JEVENTAPPLIEDXXXXXXXXXXX", "reader_application.submitted", application_id=CLIENT,
                         user_id=CLIENT, submission=1)

    with aws_calls() as split_calls:
        assert _invoke(chalice_app, [submitted]) == {"batchItemFailures": []}
    chunks = _queued_chunks()
    assert [c["type"] for c in chunks] == ["notification.chunk"] * 3
    assert sorted(len(c["data"]["recipients"]) for c in chunks) == [200, 500, 500]
    assert split_calls.count(("sqs", "SendMessageBatch")) == 1

    with aws_calls() as calls:  # each chunk in its own invocation, as SQS would deliver them
        for chunk in chunks:
            assert _invoke(chalice_app, [chunk]) == {"batchItemFailures": []}
    assert _invoke(chalice_app, [submitted], receive_count=2) == {"batchItemFailures": []}  # a redelivery
    assert _queued_chunks() == []  # ... sends no chunk twice

    # One Scan, not a Query per admin: moto's Query reads and sorts the whole table each time.
    delivered = [row for row in Notification.scan() if row.sk != COUNTER_SK]
    assert Counter(row.user_id for row in delivered) == dict.fromkeys(admins, 1)
    assert {(r.type, r.message) for r in delivered} == {
        ("application_submitted", "Maria applied to become a reader. It is waiting for review.")}
    assert len(pushed) == 1200
    writes = [op for service, op in calls if service == "dynamodb" and op in
              ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")]
    assert len(writes) <= 1200 / 25, writes
    sends = [op for service, op in calls if service == "sqs" and op in ("SendMessage", "SendMessageBatch")]
    emails = len(_emails())
    assert emails == 1200
    assert len(sends) <= emails / 10 + len(chunks), sends  # SendMessageBatch of 10 (a chunk may end a batch short)
