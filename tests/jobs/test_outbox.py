"""Events commit with their state change, reach the queue once, and never when rolled back."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from chalice.test import Client

from tests.conftest import PREFIX, REGION


def _queue_messages():
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-notifications")["QueueUrl"]
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        messages.extend(json.loads(m["Body"]) for m in batch)
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _stream_records():
    """The outbox table's stream records, as Lambda would receive them."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = dynamodb.describe_table(TableName=f"{PREFIX}-outbox")["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            record["dynamodb"].pop("ApproximateCreationDateTime", None)
            records.append({**record, "eventSourceARN": arn})
    return records


def _relay(chalice_app, records):
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("outbox_relay", {"Records": records})
    return response.payload


def _user(user_id="user_a"):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User

    now = iso(utcnow())
    return User(user_id=user_id, role="client", status="active", created_at=now, updated_at=now)


def test_a_committed_event_reaches_the_queue_once(aws, chalice_app):
    from chalicelib.services.outbox import emit
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    tx.save(_user(), condition=_user().__class__.user_id.does_not_exist())
    event_id = emit(tx, "user.joined", user_id="user_a", plan=None)
    tx.commit()

    records = _stream_records()
    assert _relay(chalice_app, records) == {"batchItemFailures": []}
    _relay(chalice_app, records)  # the stream redelivers the same batch
    messages = _queue_messages()
    assert [(m["eventId"], m["type"], m["data"]) for m in messages] == [
        (event_id, "user.joined", {"user_id": "user_a", "plan": None})]


def test_an_event_in_a_rolled_back_transaction_never_reaches_the_queue(aws, chalice_app):
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.models.users import User
    from chalicelib.services.outbox import emit
    from chalicelib.services.tx import ConditionsFailed, Transaction

    _user().save()
    tx = Transaction()
    # The state change fails its condition (the user already exists) ...
    tx.save(_user(), condition=User.user_id.does_not_exist(), label="user")
    emit(tx, "user.joined", user_id="user_a")  # ... so its event must not exist either
    with pytest.raises(ConditionsFailed) as failed:
        tx.commit()
    assert failed.value.labels == {"user"}

    assert list(OutboxEvent.scan()) == []
    _relay(chalice_app, _stream_records())
    assert _queue_messages() == []
    from chalicelib.services.outbox import stale_pending

    assert stale_pending(older_than_s=0) == []  # the sweep has nothing to find either


def test_the_sweep_relays_an_event_the_stream_path_missed(aws, chalice_app):
    from chalicelib.models.base import utcnow
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    event_id = outbox.emit(tx, "reading.requested", reading_id="r1")
    tx.commit()
    assert outbox.stale_pending(older_than_s=120) == []  # too fresh to be considered missed
    later = utcnow() + timedelta(minutes=3)
    assert outbox.stale_pending(older_than_s=120, now=later) == [event_id]

    # Age the event as if the stream consumer had been down, then run the schedule.
    event = OutboxEvent.get(event_id)
    event.update(actions=[OutboxEvent.created_at.set("2026-01-01T00:00:00.000Z")])
    with Client(chalice_app) as client:
        client.lambda_.invoke("outbox_sweep", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert [m["eventId"] for m in _queue_messages()] == [event_id]
    assert OutboxEvent.get(event_id).pending is None
    assert outbox.stale_pending(older_than_s=0) == []


def test_event_types_must_be_noun_dot_verb(aws):
    from chalicelib.services.outbox import emit
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    with pytest.raises(ValueError):
        emit(tx, "Something Happened")
    assert tx.size == 0
