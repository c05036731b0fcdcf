"""Notification figures for ``make bench``: fan-out of one event to a big audience, ``GET
/notifications``, and event-to-notification latency, all in-process under moto.

* **Fan-out**: ``recipients`` active admins (written with batch writes) and one
  ``reader_application.submitted`` event (audience: every admin). The event and every chunk
  message it splits into are dispatched synchronously, as the ``domain_events`` consumer
  would receive them; the bench's own receives from the queues are not counted. Pusher is
  replaced by a recorder (it is HTTP, not AWS): its calls are reported apart.
* **GET /notifications**: AWS calls and latency per request for a user with 30 notifications.
* **Event to in-app**: commit an outbox event in a ``Transaction``, relay it (what the outbox
  stream consumer does), receive it from the notifications queue and invoke the
  ``domain_events`` consumer; the time from the commit to the consumer's return, after which
  the row exists (checked, untimed). On ``make run`` the stream poller adds up to its idle
  interval (``tools/local/streams.py``, 0.25 s) and the queue's long poll returns as a
  message arrives; in the cloud the stream and SQS triggers add their own delivery delays.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import counting

ADMIN = "user_bench_admin_{:05d}"
APPLICANT = "user_bench_applicant"
BUYER = "user_bench_buyer"
LIST_ROWS = 30
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
SENDS = ("SendMessage", "SendMessageBatch")


@dataclass
class Figures:
    recipients: int = 0
    fanout_s: float = 0.0
    fanout_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    invocations: int = 0
    rows: int = 0
    sqs_messages: int = 0
    chunk_messages: int = 0
    pusher_calls: int = 0
    pusher_events: int = 0
    list_calls: list[Counter[tuple[str, str]]] = field(default_factory=list)
    list_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def _take(queue_name: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a queue (not counted: the bench plays SQS)."""
    from chalicelib.integrations import aws

    sqs, url = aws.client("sqs"), aws.queue_url(queue_name)
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])


def _seed_admins(count: int) -> list[str]:
    from chalicelib.models.users import User

    admins = [ADMIN.format(n) for n in range(count)]
    with User.batch_write() as batch:
        for n, admin in enumerate(admins):
            batch.save(User(user_id=admin, role="admin", status="active", display_name=f"Admin {n}",
                            created_at=f"2025-01-01T00:00:00.{n:06d}Z",
                            updated_at="2025-01-01T00:00:00Z"))
        for user_id, name in ((APPLICANT, "Maria Lopez"), (BUYER, "Tom Baker")):
            batch.save(User(user_id=user_id, role="client", status="active", display_name=name,
                            created_at="2025-01-01T00:00:00.000000Z",
                            updated_at="2025-01-01T00:00:00Z"))
    return admins


def _fanout(figures: Figures, recipients: int) -> None:
    from chalicelib.config import get_settings
    from chalicelib.models.notifications import COUNTER_SK, Notification
    from chalicelib.services import events

    settings = get_settings()
    admins = _seed_admins(recipients)
    figures.recipients = len(admins)
    pending = [{"eventId": "01JBENCHFANOUTXXXXXXXXXXXX", "type": "reader_application.submitted",
                "occurredAt": "2025-03-01T10:00:00.000Z",
                "data": {"application_id": APPLICANT, "user_id": APPLICANT, "submission": 1}}]
    chunk_messages = 0
    started = time.perf_counter()
    while pending:
        for message in pending:
            counting.start()
            events.dispatch(message)
            figures.fanout_calls.update(counting.stop().calls)
            figures.invocations += 1
        pending = _take(settings.notifications_queue_name)
        chunk_messages += len(pending)
    figures.fanout_s = time.perf_counter() - started
    emails = len(_take(settings.email_queue_name))
    figures.sqs_messages = chunk_messages + emails
    figures.chunk_messages = chunk_messages
    figures.rows = sum(1 for row in Notification.scan() if row.sk != COUNTER_SK)
    if figures.rows != recipients:
        raise RuntimeError(f"fan-out wrote {figures.rows} notification rows for {recipients} admins")


def _listing(figures: Figures, harness: Any, runs: int) -> None:
    from chalicelib.domain.notifications import Delivery
    from chalicelib.services.notifications import store

    user = ADMIN.format(0)
    for n in range(LIST_ROWS):
        store.deliver(f"01JBENCHLIST{n:014d}", f"2025-03-02T10:{n // 60:02d}:{n % 60:02d}.000Z",
                      [Delivery(user_id=user, type="system_alert", title="System alert",
                                message=f"Bench alert number {n + 1}.")])
    harness.token(user)
    for n in range(runs + 3):
        counting.start()
        began = time.perf_counter_ns()
        response = harness.request("GET", "/notifications?limit=20", as_user=user)
        elapsed = time.perf_counter_ns() - began
        calls = counting.stop().calls
        if response.status_code != 200:
            raise RuntimeError(f"GET /notifications: {response.status_code} {response.body[:300]!r}")
        if n >= 3:  # warm-ups
            figures.list_calls.append(calls)
            figures.list_ms.append(elapsed / 1e6)


def _event_to_in_app(figures: Figures, client: Any, runs: int) -> None:
    from chalicelib.config import get_settings
    from chalicelib.jobs.outbox import send_to_queue
    from chalicelib.models.notifications import COUNTER_SK, Notification
    from chalicelib.services import outbox
    from chalicelib.services.tx import Transaction

    queue = get_settings().notifications_queue_name
    for n in range(runs + 3):
        tx = Transaction()
        event_id = outbox.emit(tx, "credits.purchased", userId=BUYER, credits=60, packageId="seeker",
                               sessionId=f"cs_bench_{n}")
        tx.commit()
        committed = time.perf_counter_ns()
        if outbox.relay([event_id], send_to_queue):
            raise RuntimeError(f"the relay failed for {event_id}")
        bodies = [json.dumps(m) for m in _take(queue)]
        sqs_event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=queue)
        for k, record in enumerate(sqs_event["Records"]):
            record["messageId"] = f"m-{n}-{k}"
        payload = client.lambda_.invoke("domain_events", sqs_event).payload
        done = time.perf_counter_ns()
        if payload != {"batchItemFailures": []}:
            raise RuntimeError(f"domain_events failed: {payload}")
        rows = [r for r in Notification.query(BUYER, consistent_read=True) if r.sk != COUNTER_SK]
        if len(rows) != n + 1:
            raise RuntimeError(f"after event {n + 1} the buyer has {len(rows)} notifications")
        if n >= 3:
            figures.event_ms.append((done - committed) / 1e6)


def measure(recipients: int, runs: int, issuer: Any) -> Figures:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import environment
    from bench.scenarios import Harness
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.integrations import pusher
    from tools.resources import create_all

    figures = Figures()
    original = pusher.publish

    def publish(batch: Any) -> int:
        listed = list(batch)
        figures.pusher_events += len(listed)
        figures.pusher_calls += -(-len(listed) // 10)  # the batch API takes 10 events a call
        return len(listed)

    pusher.publish = publish  # type: ignore[assignment]
    try:
        with mock_aws(), _one_rollback_copy(), _constant_time_queue_counts():
            aws_clients.reset()
            try:
                create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
                _fanout(figures, recipients)
                pushed = figures.pusher_calls, figures.pusher_events
                with Client(app) as client:
                    _listing(figures, Harness(client, issuer), runs)
                    _event_to_in_app(figures, client, runs)
            finally:
                aws_clients.reset()
    finally:
        pusher.publish = original  # type: ignore[assignment]
    figures.pusher_calls, figures.pusher_events = pushed  # the fan-out's only
    return figures


@contextmanager
def _one_rollback_copy() -> Iterator[None]:
    """moto's TransactWriteItems deep-copies a table once per item of the transaction, to roll
    back a cancelled one: quadratic in the table's size (a fan-out to 1,000 took 100 s, and every
    later transaction paid for the 10,000 rows). The bench skips that copy: none of its
    transactions is expected to cancel (fresh events, fresh rows), and the rows are checked."""
    import moto.dynamodb.models as models

    real = models.copy

    class _NoTableCopy:
        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, models.Table) else real.deepcopy(obj, memo)

    models.copy = _NoTableCopy  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = real


@contextmanager
def _constant_time_queue_counts() -> Iterator[None]:
    """moto recounts every message of a queue (three list comprehensions with clock reads) on
    each send and on each message received, to fill the queue's attributes: quadratic in the
    queue's length (2,000 recipients took 125 s, most of it there). The bench reads no message
    count, so the counts answer from the list's length; the messages and their visibility are
    moto's own."""
    from moto.sqs.models import Queue

    names = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
             "approximate_number_of_messages_not_visible")
    real = {name: Queue.__dict__[name] for name in names}
    for name in names:
        setattr(Queue, name, property(lambda queue: len(queue._messages)))
    try:
        yield
    finally:
        for name, value in real.items():
            setattr(Queue, name, value)


def _ops(calls: Counter[tuple[str, str]], runs: int = 1) -> str:
    return ", ".join(f"{svc}.{op} x{n / runs:g}" for (svc, op), n in sorted(calls.items())) or "none"


def lines(f: Figures, runs: int) -> list[str]:
    calls = f.fanout_calls
    writes = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in WRITES)
    reads = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op not in WRITES)
    emails = f.sqs_messages - f.chunk_messages
    sends = sum(n for (svc, op), n in calls.items() if svc == "sqs" and op in SENDS)
    per_msg = f.sqs_messages / sends if sends else 0.0
    per_row = f.rows / writes if writes else 0.0
    listed: Counter[tuple[str, str]] = Counter()
    for c in f.list_calls:
        listed.update(c)
    queries = [c[("dynamodb", "Query")] for c in f.list_calls]
    dynamo = [sum(n for (svc, _), n in c.items() if svc == "dynamodb") for c in f.list_calls]
    l50, l99 = _percentiles(f.list_ms)
    e50, e99 = _percentiles(f.event_ms)
    ok = lambda good: "ok" if good else "**over target**"  # noqa: E731
    rows = [
        [f"Fan-out: 1 event to {f.recipients:,} admins", f"{f.fanout_s:.1f} s wall, {f.invocations} invocations",
         f"{f.rows:,} rows, {f.sqs_messages:,} SQS messages", "-", "-"],
        ["Fan-out SQS sends", f"{sends} calls ({per_msg:.1f} messages per call)",
         "<= 1 call per 10 messages (per queue)", ok(sends <= -(-f.chunk_messages // 10) + -(-emails // 10)), ""],
        ["Fan-out DynamoDB writes", f"{writes} calls ({per_row:.1f} rows per call)", "<= 1 call per 25 rows",
         ok(writes * 25 <= f.rows), ""],
        ["Fan-out DynamoDB reads", f"{reads} calls", "-", "-", ""],
        ["Fan-out Pusher (HTTP)", f"{f.pusher_calls} calls, {f.pusher_events:,} events", "<= 10 events per call",
         ok(f.pusher_calls * 10 <= f.pusher_events + 10 * f.invocations), ""],
        ["`GET /notifications` calls per request", f"{max(dynamo)} DynamoDB ({_ops(listed, len(f.list_calls))})",
         "1 Query (+ the auth GetItem)", ok(max(queries) == 1 and max(dynamo) <= 2), ""],
        ["`GET /notifications` latency", f"n={len(f.list_ms)}", "-", "-", f"p50 {l50:.2f} ms, p99 {l99:.2f} ms"],
        ["Event to in-app row (synchronous relay + consumer)", f"n={len(f.event_ms)}", "p99 <= 2 s on `make run`",
         ok(e99 <= 2000), f"p50 {e50:.2f} ms, p99 {e99:.2f} ms"],
    ]
    header = ["Measure", "Figure", "Target", "vs target", "Latency"]
    table = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] * len(header)) + " |"]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [
        "## Notifications",
        "",
        f"In-process under moto. Fan-out: one `reader_application.submitted` event to {f.recipients:,} active "
        "admins; the event and each chunk message it splits into are dispatched synchronously as the "
        "`domain_events` consumer receives them (the bench's own queue receives are not counted). Calls per "
        f"service: {_ops(calls)}. `GET /notifications?limit=20` for a user with {LIST_ROWS} notifications, "
        f"{len(f.list_ms)} requests after 3 warm-ups. Event to in-app: commit an outbox event, relay it, invoke "
        f"`domain_events` with it, {len(f.event_ms)} events; on `make run` the outbox stream poller adds up to "
        "its 0.25 s idle interval (the queue's long poll returns as the message arrives), and in the cloud the "
        "stream and SQS triggers add their delivery delays.",
        "",
        *table,
    ]


def section(recipients: int, runs: int, issuer: Any) -> list[str]:
    print(f"notifications: fan-out to {recipients:,}, {runs} list requests and events...", file=sys.stderr)
    started = time.perf_counter()
    figures = measure(recipients, runs, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines(figures, runs)


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.recipients, args.runs, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
