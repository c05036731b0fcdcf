"""Observability (issue 17): one id follows a story across functions, from the API request
through its outbox events and queue messages to the email it causes; each scheduled run has
its own; metrics are EMF lines (no network call), printed only inside Lambda; the tracer is
never imported unless the stage traces."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib import logs, telemetry
from tests.support.readings import QUESTION, TOPIC, make_client, make_reader

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "auralumic-test"


# --- helpers ------------------------------------------------------------------------------


def _receive(queue: str) -> list[dict[str, Any]]:
    """Every message of ``<prefix>-<queue>`` (received with its attributes, then deleted)."""
    from chalicelib.integrations import aws

    sqs = aws.client("sqs")
    url = aws.queue_url(f"{PREFIX}-{queue}")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return found
        found += batch
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
        )


def _sqs_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """The Lambda SQS event for received messages, attributes included (as Lambda sends it)."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1", **m.get("Attributes", {})},
                "messageAttributes": {
                    name: {
                        "dataType": value["DataType"],
                        "stringValue": value["StringValue"],
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                    for name, value in (m.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{PREFIX}-{queue}",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def _attribute(message: dict[str, Any], name: str) -> str | None:
    return (message.get("MessageAttributes") or {}).get(name, {}).get("StringValue")


def _correlation_ids(caplog: pytest.LogCaptureFixture, message: str) -> list[str | None]:
    return [getattr(r, "correlation_id", None) for r in caplog.records if r.getMessage() == message]


def _metrics(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The EMF documents that hold ``name``, each value as one number (EMF allows a list)."""
    return [
        {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in d.items()}
        for d in documents
        if any(m["Name"] == name for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"])
    ]


# --- one story, one id --------------------------------------------------------------------


@pytest.mark.usefixtures("default_catalog")
def test_a_bookings_events_messages_notification_and_email_carry_the_requests_id(api, chalice_app, caplog):
    from chalicelib.jobs.outbox import send_to_queue
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox

    make_client("cli", 400)
    make_reader("rdr")
    caplog.set_level(logging.INFO, logger="auralumic")
    with telemetry.capture() as documents:
        response = api.post(
            "/readings",
            as_user="cli",
            json_body={
                "readerId": "rdr",
                "optionType": "phone_call",
                "duration": 30,
                "topicId": TOPIC,
                "question": QUESTION,
            },
        )
        assert response.status_code == 201, response.body
        request_id = response.headers["X-Request-Id"]

        # The stored event.
        stored = [e for e in OutboxEvent.scan() if e.event_type == "reading.requested"]
        assert [e.correlation_id for e in stored] == [request_id]

        # The relay (in a context of its own) carries it into the queue message, body and attributes.
        with logs.correlated("the-relays-own-id"):
            assert outbox.relay([stored[0].event_id], send_to_queue) == []
        [queued] = _receive("notifications")
        assert json.loads(queued["Body"])["correlationId"] == request_id
        assert _attribute(queued, "correlationId") == request_id

        # The consumer handles it under that id: the reader's notification, the email it queues.
        with Client(chalice_app) as client:
            result = client.lambda_.invoke("domain_events", _sqs_event([queued], "notifications")).payload
        assert result == {"batchItemFailures": []}
        assert request_id in _correlation_ids(caplog, "notifications delivered")
        emails = _receive("email")
        assert emails, "the reader is emailed about the request"
        assert {json.loads(m["Body"])["correlationId"] for m in emails} == {request_id}
        assert {_attribute(m, "correlationId") for m in emails} == {request_id}

        # The email job sends it under that id too.
        with Client(chalice_app) as client:
            result = client.lambda_.invoke("email_delivery", _sqs_event(emails, "email")).payload
        assert result == {"batchItemFailures": []}
        assert set(_correlation_ids(caplog, "email sent")) == {request_id}

    assert logs.correlation_id() is None  # the request's id ends with the request
    by_metric = {
        name: [d.get("correlation_id") for d in _metrics(documents, name)]
        for name in ("Requests", "ReadingTransitions", "NotificationLatency")
    }
    assert by_metric["Requests"] == [request_id]
    assert by_metric["ReadingTransitions"] == [request_id]
    assert set(by_metric["NotificationLatency"]) == {request_id}
    transition = _metrics(documents, "ReadingTransitions")[0]
    assert (transition["action"], transition["state"], transition["stage"]) == ("request", "requested", PREFIX)
    channels = {d["channel"] for d in _metrics(documents, "NotificationLatency")}
    assert {"in_app", "email"} <= channels


def test_a_message_without_a_correlation_id_is_handled_under_its_event_id(aws, chalice_app, caplog):
    """A message queued before ids were carried (or redriven from an old dead letter)."""
    from chalicelib.integrations import aws as aws_clients

    caplog.set_level(logging.DEBUG, logger="auralumic")
    sqs = aws_clients.client("sqs")
    sqs.send_message(
        QueueUrl=aws_clients.queue_url(f"{PREFIX}-notifications"),
        MessageBody=json.dumps(
            {"eventId": "evt_old", "type": "nobody.listens", "occurredAt": "2026-01-01T00:00:00.000Z", "data": {}}
        ),
        MessageAttributes={"eventId": {"DataType": "String", "StringValue": "evt_old"}},
    )
    with Client(chalice_app) as client:
        client.lambda_.invoke("domain_events", _sqs_event(_receive("notifications"), "notifications"))
    assert _correlation_ids(caplog, "event dispatched") == ["evt_old"]


def test_each_scheduled_run_has_its_own_id_on_its_log_lines_and_its_events(aws, caplog):
    from chalicelib.jobs.blueprint import JobBlueprint
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox
    from chalicelib.services.tx import Transaction

    jobs = JobBlueprint(__name__)

    @jobs.schedule("rate(1 minute)", name="tick")
    def tick(event: Any) -> str:
        logs.logger.warning("tick ran")
        tx = Transaction()
        outbox.emit(tx, "tick.ran")
        tx.commit()
        return str(logs.correlation_id())

    app = Chalice(app_name="observability-test")
    app.register_blueprint(jobs)
    with Client(app) as client:
        runs = [
            client.lambda_.invoke(
                "tick",
                client.events.generate_cw_event(
                    source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
                ),
            ).payload
            for _ in range(2)
        ]

    assert len(set(runs)) == 2 and None not in runs
    assert _correlation_ids(caplog, "tick ran") == runs
    assert sorted(e.correlation_id for e in OutboxEvent.scan()) == sorted(runs)
    assert logs.correlation_id() is None  # nothing leaks past a run


# --- metrics ------------------------------------------------------------------------------


def test_requests_and_errors_are_counted_per_route_class(api, make_user):
    make_user("someone")
    with telemetry.capture() as documents:
        assert api.get("/me", as_user="someone").status_code == 200
        assert api.get("/readings/nope", as_user="someone").status_code == 404

    requests = _metrics(documents, "Requests")
    assert [(d["routeClass"], d["Requests"], d["ClientErrors"], d["ServerErrors"]) for d in requests] == [
        ("me", 1, 0, 0),
        ("readings", 1, 1, 0),
    ]
    # Each document also counts toward the totals the 5xx rate alarm reads.
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["service", "stage"],
        ["service", "stage", "routeClass"],
    ]
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Auralumic"


def test_a_rejected_webhook_is_a_webhook_failure(api):
    from tests.fakes import stripe_events as se

    with telemetry.capture() as documents:
        response = se.deliver(api, body=b'{"id": "evt_x"}', signature="t=1,v1=00")
    assert response.status_code == 400
    [failure] = _metrics(documents, "WebhookFailures")
    assert (failure["webhook"], failure["WebhookFailures"]) == ("stripe", 1)


@pytest.mark.usefixtures("default_catalog")
def test_paid_credits_are_counted_once_when_granted(api, make_user, drain):
    make_user("buyer")
    session = api.post("/credits/checkout", as_user="buyer", json_body={"packageId": "seeker"}).json_body["sessionId"]
    assert api.post(f"/local/checkout/{session}", json_body={"outcome": "paid"}).status_code == 200
    with telemetry.capture() as documents:
        drain()
        drain()  # a redelivery grants nothing, and counts nothing
    assert [(d["source"], d["CreditsGranted"]) for d in _metrics(documents, "CreditsGranted")] == [("purchase", 60)]


def test_the_dead_letter_job_measures_every_failure_queue(aws, caplog):
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.jobs.observability import observability_jobs
    from chalicelib.services.dead_letters import FAILURE_QUEUES

    sqs = aws_clients.client("sqs")
    for n in range(2):
        sqs.send_message(QueueUrl=aws_clients.queue_url(f"{PREFIX}-email-dlq"), MessageBody=f"dead {n}")
    app = Chalice(app_name="observability-test")
    app.register_blueprint(observability_jobs)
    with telemetry.capture() as documents, Client(app) as client:
        depths = client.lambda_.invoke(
            "dead_letter_depths",
            client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            ),
        ).payload

    assert depths == {name: (2 if name == "email-dlq" else 0) for name in FAILURE_QUEUES}
    measured = {d["queue"]: d["DeadLetterMessages"] for d in _metrics(documents, "DeadLetterMessages")}
    assert measured == depths
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "dead letters waiting (make dlq lists them)"
    ]


def test_metrics_are_printed_as_emf_only_inside_lambda(monkeypatch, capsys):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    telemetry.reading_transition("accept", "accepted")
    assert capsys.readouterr().out == ""  # make run and the tests: nothing built, nothing printed

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "auralumic-test-reading_timers")
    with logs.correlated("corr-1"):
        telemetry.reading_transition("expire", "expired")
    [line] = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["_aws"]["CloudWatchMetrics"][0] == {
        "Namespace": "Auralumic",
        "Dimensions": [["service", "stage", "action", "state"]],
        "Metrics": [{"Name": "ReadingTransitions", "Unit": "Count"}],
    }
    assert (
        document["stage"],
        document["action"],
        document["state"],
        document["ReadingTransitions"],
        document["correlation_id"],
    ) == (PREFIX, "expire", "expired", [1.0], "corr-1")

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    telemetry.reading_transition("expire", "expired")
    assert capsys.readouterr().out == ""


# --- tracing ------------------------------------------------------------------------------

_RUN_A_JOB = """
import sys
from types import SimpleNamespace
from chalicelib.jobs.blueprint import observed
observed("tick", lambda event: None)(SimpleNamespace(context=SimpleNamespace(aws_request_id="r-1")))
print("aws_xray_sdk" in sys.modules)
"""


@pytest.mark.parametrize(("tracing", "imported"), [("false", "False"), ("true", "True")])
def test_the_tracer_is_imported_only_where_the_stage_traces(tracing, imported):
    """The X-Ray SDK (what makes the Tracer cost ~230 ms) is loaded by a job run only when on."""
    env = {**os.environ, "TRACING": tracing}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    result = subprocess.run(
        [sys.executable, "-c", _RUN_A_JOB], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == imported
