"""``make run`` end to end: the real runner as a subprocess on free ports with its own
state directory, probed over HTTP and through its moto endpoint; plus in-process checks
of the demo seed and the schedule parser. The running system is the session's
``local_stack`` (tests/e2e/conftest.py); the tests that stop a runner or need its ports
taken start their own with ``start_runner``. Every runner is stopped in its fixture's
teardown, whatever happens."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ROOT, LocalStack, Runner, child_env, free_port, wait_ready


@pytest.fixture()
def runner(local_stack: LocalStack) -> Runner:
    """The session's running system (tests/e2e/conftest.py), shared with the other e2e modules."""
    return local_stack.runner


def _get(runner: Runner, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{runner.url}{path}", headers=headers, timeout=10)


def test_health_reports_every_dependency_ok(runner: Runner) -> None:
    assert _get(runner, "/health").json() == {"status": "ok"}
    response = _get(runner, "/admin/health", runner.tokens()["admin"]["token"])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["stage"] == "local"
    assert len(body["checks"]) >= 6
    assert all(check["status"] == "ok" for check in body["checks"].values()), body


def test_banner_prints_urls_tokens_and_curl(runner: Runner) -> None:
    out = runner.stdout()
    assert f"{runner.url}/docs" in out
    assert f"http://127.0.0.1:{runner.aws_port}" in out
    assert f'curl -H "Authorization: Bearer $TOKEN" {runner.url}/me' in out
    assert runner.tokens()["admin"]["token"] in out


def test_me_without_a_token_is_a_401_envelope(runner: Runner) -> None:
    response = _get(runner, "/me")
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}


def test_dev_tokens_authenticate_with_their_seeded_roles(runner: Runner) -> None:
    tokens = runner.tokens()
    assert {"admin", "client1", "client2", "client3", "applicant", *(f"reader{i}" for i in range(1, 13))} == set(tokens)
    admin = _get(runner, "/me", tokens["admin"]["token"])
    assert admin.status_code == 200, admin.text
    assert admin.json()["id"] == "user_demo_admin" and admin.json()["role"] == "admin"
    reader = _get(runner, "/me", tokens["reader7"]["token"]).json()
    assert reader["id"] == "user_demo_reader7" and reader["role"] == "reader"
    client = _get(runner, "/me", tokens["client1"]["token"]).json()
    assert client["role"] == "client" and client["credits"] == client["balance"]["available"] > 0
    assert _get(runner, "/me", tokens["applicant"]["token"]).json()["role"] == "client"


def test_catalog_is_seeded(runner: Runner) -> None:
    response = _get(runner, "/catalog")
    assert response.status_code == 200
    attributes = response.json()["attributes"]
    assert (len(attributes["abilities"]), len(attributes["tools"]), len(attributes["styles"])) == (8, 9, 3)


def test_docs_and_openapi_are_served(runner: Runner) -> None:
    docs = _get(runner, "/docs")
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui" in docs.text
    document = _get(runner, "/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")


_EMIT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from tools import local_env
    env = local_env.configure(int(sys.argv[1]), Path(sys.argv[2]))
    import boto3
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox
    from chalicelib.services.tx import atomically
    event_id = atomically(lambda tx: outbox.emit(tx, "demo.pinged", note="from the e2e test"))
    sqs = boto3.client("sqs", region_name=env.region)
    queue = sqs.get_queue_url(QueueName=env.prefix + "-notifications")["QueueUrl"]
    result = {"eventId": event_id, "relayedAt": None, "pending": "pending", "queueDrained": False}
    # The seed's own events (notifications of the demo readings and statuses) may still be
    # queued ahead of this one on a loaded machine: a condition with a generous deadline.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        event = OutboxEvent.get(event_id, consistent_read=True)
        result.update(relayedAt=event.relayed_at, pending=event.pending)
        counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        result["queueDrained"] = all(v == "0" for v in counts.values())
        if result["relayedAt"] and result["queueDrained"]:
            break
        time.sleep(0.2)
    print(json.dumps(result))
""")


def test_an_outbox_event_is_relayed_by_the_stream_poller_and_consumed(runner: Runner) -> None:
    """The real path: emit in a transaction -> stream -> outbox_relay -> SQS -> domain_events."""
    emitted = subprocess.run(
        [sys.executable, "-c", _EMIT, str(runner.aws_port), str(runner.state_dir)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=150, check=False)
    assert emitted.returncode == 0, emitted.stderr
    result = json.loads(emitted.stdout.strip().splitlines()[-1])
    assert result["relayedAt"] and result["pending"] is None, result
    # Relayed, and the queue empty (nothing visible, nothing in flight): domain_events took the
    # message and deleted it, which it does only for a record it handled. (Counting its log
    # lines was not this event's proof: the shared stack relays the seed's events meanwhile.)
    assert result["queueDrained"], result


def test_buying_credits_on_the_local_checkout_page_grants_them_through_the_webhook(runner: Runner) -> None:
    """make run's payments: checkout URL -> local page -> signed Stripe events -> webhook ->
    outbox -> worker -> ledger grant; then the ledger check of the running stack passes."""
    token = runner.tokens()["client3"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    before = requests.get(f"{runner.url}/credits", headers=auth, timeout=10).json()["balance"]["available"]
    checkout = requests.post(f"{runner.url}/credits/checkout", json={"packageId": "starter"},
                             headers={**auth, "Idempotency-Key": "e2e-starter"}, timeout=10)
    assert checkout.status_code == 201, checkout.text
    url = checkout.json()["checkoutUrl"]
    assert url.startswith(runner.url + "/local/checkout/")
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "Local checkout" in page.text and "Starter" in page.text
    paid = requests.post(url, json={"outcome": "paid"}, timeout=10)
    assert paid.status_code == 200, paid.text
    deadline = time.monotonic() + 15  # the workers poll the stream and the queue
    available = before
    while available == before and time.monotonic() < deadline:
        time.sleep(0.2)
        available = requests.get(f"{runner.url}/credits", headers=auth, timeout=10).json()["balance"]["available"]
    assert available == before + 30
    check = subprocess.run(
        [sys.executable, "-m", "tools.ledger_check", "--aws-port", str(runner.aws_port),
         "--state-dir", str(runner.state_dir)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0 and ": OK" in check.stdout, check.stdout + check.stderr


def test_taken_ports_give_one_line_and_exit_1(runner: Runner, tmp_path: Path) -> None:
    for port, aws_port, variable in ((runner.port, free_port(), "PORT"), (free_port(), runner.aws_port, "AWS_PORT")):
        second = subprocess.run(
            [sys.executable, "-m", "tools.run_local", "--port", str(port), "--aws-port", str(aws_port),
             "--state-dir", str(tmp_path / "second")],
            cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=30, check=False)
        taken = port if variable == "PORT" else aws_port
        assert second.returncode == 1
        assert second.stderr.strip() == f"error: port {taken} is already in use (set {variable}=...)"
        assert "Traceback" not in second.stdout + second.stderr
    assert _get(runner, "/health").status_code == 200  # the first one is untouched


STOP_WITHIN_S = 5


def _keep_busy(runner: Runner, until: threading.Event, answered: list[int]) -> list[threading.Thread]:
    """Requests in flight while the runner stops: kept-alive sessions polling, and an idle
    open connection that never sends a request."""

    def poll(path: str) -> None:
        with requests.Session() as session:
            while not until.is_set():
                try:
                    answered.append(session.get(f"{runner.url}{path}", timeout=3).status_code)
                except requests.RequestException:
                    return  # the runner is gone

    idle = socket.create_connection(("127.0.0.1", runner.port), timeout=5)
    threads = [threading.Thread(target=poll, args=(path,), daemon=True)
               for path in ("/health", "/catalog", "/readers", "/health")]
    threads.append(threading.Thread(target=lambda: (until.wait(), idle.close()), daemon=True))
    for thread in threads:
        thread.start()
    return threads


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_everything_within_5_s_while_requests_are_in_flight(
        start_runner: Callable[..., Runner], sig: signal.Signals) -> None:
    running = start_runner(sig.name)
    wait_ready(running)
    until, answered = threading.Event(), []
    threads = _keep_busy(running, until, answered)
    deadline = time.monotonic() + 10
    while len(answered) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(answered) >= 20, "the load did not start"
    try:
        started = time.monotonic()
        running.process.send_signal(sig)
        code = running.process.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        until.set()
    assert code == 0, running.stderr()
    assert took < STOP_WITHIN_S, f"stopped in {took:.1f} s:\n{running.stderr()[-2000:]}"
    assert running.stdout().rstrip().endswith("stopped")
    assert "Traceback" not in running.stderr()
    for port in (running.port, running.aws_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    for thread in threads:
        thread.join(timeout=5)


def test_a_signal_during_startup_stops_everything_within_5_s(start_runner: Callable[..., Runner]) -> None:
    running = start_runner("starting")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and running.process.poll() is None:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", running.aws_port), timeout=1).close()
            break  # moto is up: the runner is creating tables, importing the app or seeding
        time.sleep(0.05)
    assert "Ctrl-C to stop." not in running.stdout()
    started = time.monotonic()
    running.process.send_signal(signal.SIGINT)
    code = running.process.wait(timeout=15)
    took = time.monotonic() - started
    assert code == 0, running.stderr()
    assert took < STOP_WITHIN_S, f"stopped in {took:.1f} s:\n{running.stderr()[-2000:]}"
    assert running.stdout().rstrip().endswith("stopped")
    assert "Traceback" not in running.stderr()


# ----------------------------------------------------------------------------- the gateway


def _assert_envelope(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert {"code", "message", "details"} <= set(error) and error["code"] == code
    assert error["message"][0].isupper() and error["message"].endswith("."), error["message"]
    return dict(error)


def test_an_unknown_path_is_a_404_envelope(runner: Runner) -> None:
    for method in ("GET", "POST", "DELETE"):
        _assert_envelope(requests.request(method, f"{runner.url}/no/such/route", json={}, timeout=10),
                         404, "not_found")


def test_a_method_the_path_does_not_have_is_a_405_envelope_with_allow(runner: Runner) -> None:
    response = requests.put(f"{runner.url}/catalog", json={}, timeout=10)
    error = _assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET" and error["details"] == {"allowed": ["GET"]}
    assert "PUT" in error["message"]
    assert requests.get(f"{runner.url}/catalog", timeout=10).status_code == 200  # the route itself is fine


def test_a_too_long_uri_is_a_414_envelope(runner: Runner) -> None:
    from tools.local.server import MAX_URI_CHARS

    long_query = "x" * (MAX_URI_CHARS + 1)
    error = _assert_envelope(requests.get(f"{runner.url}/catalog?q={long_query}", timeout=10), 414, "uri_too_long")
    assert error["details"] == {"maxLength": MAX_URI_CHARS}
    fits = "x" * (MAX_URI_CHARS - len("/catalog?q=") - 10)
    assert requests.get(f"{runner.url}/catalog?q={fits}", timeout=10).status_code == 200


def test_fifty_simultaneous_new_connections_each_get_an_answer(runner: Runner) -> None:
    """One burst of connects (the default listen backlog of 5 reset 10-25 of them)."""
    count = 50
    ready = threading.Barrier(count)

    def one(_: int) -> str:
        ready.wait(timeout=30)
        try:
            with socket.create_connection(("127.0.0.1", runner.port), timeout=30) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            return answer.split(b"\r\n", 1)[0].decode()
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=count) as pool:
        status_lines = list(pool.map(one, range(count)))
    assert status_lines == ["HTTP/1.1 200 OK"] * count, sorted(set(status_lines))
    # Linux drops a SYN that finds the accept queue full and the client retries a second
    # later, so a short queue may still answer all 50 here, only slowly: check the queue itself.
    backlog = _listen_backlog(runner.port)
    assert backlog is None or backlog >= count, f"listen backlog {backlog}"


def _listen_backlog(port: int) -> int | None:
    """The accept queue length of the socket listening on ``port`` (``ss``: Send-Q of a
    listening socket); None where ``ss`` is not available."""
    if shutil.which("ss") is None:
        return None
    fields = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, timeout=10,
                            check=False).stdout.split()
    return int(fields[2]) if len(fields) > 2 else None


# ----------------------------------------------------------------------------- in process


def test_seed_is_idempotent_and_respects_the_reader_limits(aws: None, issuer: Any) -> None:
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User
    from chalicelib.services.catalog_defaults import ATTRIBUTES, slug
    from tools.seed import seed_demo

    first = seed_demo(issuer)
    before = {u.user_id: u.updated_at for u in User.scan()}
    second = seed_demo(issuer)
    assert {h: (v["userId"], v["role"]) for h, v in first.items()} == {
        h: (v["userId"], v["role"]) for h, v in second.items()}
    assert {u.user_id: u.updated_at for u in User.scan()} == before
    # The demo credits are promotions through the ledger and the demo readings go through the
    # real services: applied once however often the seed runs, and the books balance.
    from chalicelib.models.readings import Reading
    from chalicelib.services import ledger_check
    from tools.seed import DEMO_READINGS

    balances = {u.user_id: (int(u.credits_available), int(u.credits_held)) for u in User.scan()}
    statuses = sorted(r.status for r in Reading.scan())
    assert statuses == sorted(["requested", "accepted", "in_progress", "declined", "cancelled", "expired",
                               "completed", "completed", "disputed", "refunded"])
    assert len(statuses) == len(DEMO_READINGS)
    assert sum(1 for r in Reading.scan() if r.review is not None) == 2
    demo_clients = [u.user_id for u in User.scan() if u.user_id.startswith("user_demo_client")]
    held = {user: sum(int(r.credits_cost) for r in Reading.scan() if r.client_id == user and r.status == "requested")
            for user in demo_clients}
    assert all(balances[user][1] == held[user] for user in held)
    assert all(balances[user][0] >= 120 for user in held), balances
    seed_demo(issuer)
    assert {u.user_id: (int(u.credits_available), int(u.credits_held)) for u in User.scan()} == balances
    assert len(list(Reading.scan())) == len(DEMO_READINGS)
    assert ledger_check.run().ok

    roles = [u.role for u in User.scan()]
    assert (roles.count("admin"), roles.count("client"), roles.count("reader")) == (1, 4, 12)
    approved = list(ReaderProfile.by_status.query("approved"))
    pending = list(ReaderProfile.by_status.query("pending"))
    assert len(approved) == 12 and [p.reader_id for p in pending] == ["user_demo_applicant"]
    known = {kind: {slug(n) for n in names} for kind, names in ATTRIBUTES.items()}
    timezones = set()
    for profile in [*approved, *pending]:
        attributes = profile.attributes.as_dict()
        assert 1 <= len(attributes["tools"]) <= 3 and set(attributes["tools"]) <= known["tools"]
        assert 1 <= len(attributes["abilities"]) <= 3 and set(attributes["abilities"]) <= known["abilities"]
        assert attributes["style"] in known["styles"]
        assert profile.reading_options
        for option in profile.reading_options:
            assert option["type"] in {"phone_call", "video_message", "live_video"}
            assert option["price"] > 0 and option["duration"] > 0
        timezones.add(profile.availability.as_dict()["timezone"])
        assert profile.created_at.endswith("Z") and profile.submitted_at.endswith("Z")
    # Ratings come only from reviews of real readings: the two reviewed demo readings.
    rated = {p.reader_id: (float(p.rating_average), int(p.rating_count)) for p in approved if p.rating_count}
    reviewed = {r.reader_id: float(r.review["rating"]) for r in Reading.scan() if r.review is not None}
    assert rated == {reader: (rating, 1) for reader, rating in reviewed.items()}
    assert all(p.decided_at for p in approved)
    assert len(timezones) >= 8
    assert any(p.is_online for p in approved) and not all(p.is_online for p in approved)


def test_seeded_tokens_resolve_to_the_seeded_roles(api: Any, issuer: Any) -> None:
    from tools.seed import seed_demo

    tokens = seed_demo(issuer)
    for handle, role in (("admin", "admin"), ("reader1", "reader"), ("client2", "client")):
        response = api.get("/me", token=tokens[handle]["token"])
        assert response.status_code == 200 and response.json["role"] == role


def test_schedule_expressions() -> None:
    from tools.local.schedules import parse_schedule

    assert parse_schedule("rate(5 minutes)").seconds == 300
    assert parse_schedule("rate(1 hour)").seconds == 3600
    assert parse_schedule("rate(1 day)").first_after(1000.0) == 1000.0 + 86400
    # EventBridge's cron, in UTC (the full cases: tests/unit/test_local_schedules.py).
    saturday, monday_noon = 2 * 86400, 4 * 86400 + 12 * 3600  # 3 and 5 January 1970
    assert parse_schedule("cron(0 12 ? * MON-FRI *)").first_after(saturday) == monday_noon
    with pytest.raises(ValueError):
        parse_schedule("rate(0 minutes)")


def test_every_schedule_of_the_app_runs_locally(chalice_app: Any) -> None:
    """Every schedule of the app, rates and crons (reader_payouts), has a next run locally."""
    from chalice.app import ScheduledEventConfig

    from tools.local.schedules import parse_schedule

    expressions = [source.schedule_expression for source in chalice_app.event_sources
                   if isinstance(source, ScheduledEventConfig)]
    assert expressions
    for expression in expressions:
        text = expression.to_string() if hasattr(expression, "to_string") else str(expression)
        assert parse_schedule(text).first_after(0.0) is not None


def test_workers_are_discovered_from_the_app(chalice_app: Any, issuer: Any) -> None:
    import threading

    workers = _workers_of(chalice_app, issuer, threading.Event())
    assert {"schedule:outbox_sweep", "sqs:domain_events", "sqs:payment_events", "stream:outbox_relay"} <= set(workers)
    assert all(callable(worker.invoke) for worker in workers.values())


def test_sqs_worker_deletes_all_but_the_reported_failures(aws: None) -> None:
    import threading

    import boto3

    from tests.conftest import PREFIX, REGION
    from tools.local.sqs import SqsWorker

    sqs = boto3.client("sqs", region_name=REGION)
    queue = f"{PREFIX}-notifications"
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}), MessageAttributes={
            "eventType": {"DataType": "String", "StringValue": "demo.pinged"}})
    seen: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(event["Records"])
        failed = [r for r in event["Records"] if json.loads(r["body"])["n"] == 0]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    worker = SqsWorker("domain_events", queue, 10, stop=threading.Event(), invoke=invoke, context=lambda: None,
                       region=REGION)
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        worker.step()
    record = seen[0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(f":{queue}")
    assert record["messageAttributes"]["eventType"]["stringValue"] == "demo.pinged"
    assert record["awsRegion"] == REGION and record["receiptHandle"] and record["attributes"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")


def test_stream_worker_retries_from_the_first_failed_record(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import boto3

    from tests.conftest import PREFIX, REGION
    from tools.local.streams import StreamWorker
    from tools.resources import resources_of, table_definitions

    # botocore sends stream calls to <account>.streams-ddb.<region>.amazonaws.com, which moto's
    # in-process mock does not route (its server, behind AWS_ENDPOINT_URL, is not affected).
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    table = table_definitions(PREFIX)["OutboxTable"]["TableName"]
    batches: list[list[str]] = []

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        batches.append([r["dynamodb"]["Keys"]["eventId"]["S"] for r in records])
        assert all(r["eventSource"] == "aws:dynamodb" and r["eventName"] == "INSERT" for r in records)
        assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int) for r in records)
        assert all(r["eventSourceARN"].startswith("arn:aws:dynamodb:") for r in records)
        if len(batches) == 1:  # the second record fails once
            return {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for event_id in ("a", "b", "c"):  # written before the worker starts: TRIM_HORIZON still sees them
        dynamodb.put_item(TableName=table, Item={"eventId": {"S": event_id}})
    mapping = resources_of("AWS::Lambda::EventSourceMapping")["OutboxRelayStreamMapping"]["Properties"]
    worker = StreamWorker("outbox_relay", table, mapping, stop=threading.Event(), invoke=invoke,
                          context=lambda: None, region=REGION)
    worker.RETRY_BACKOFF_S = 0
    for _ in range(4):
        worker.step()
    assert batches == [["a", "b", "c"], ["b", "c"]]
    # The mapping's filter (INSERT only) holds locally too: an update is not delivered.
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "a"}, "relayedAt": {"S": "now"}})
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "d"}})
    for _ in range(2):
        worker.step()
    assert batches[2:] == [["d"]]


def _outbox_relay(monkeypatch: pytest.MonkeyPatch, invoke: Callable[[dict[str, Any], Any], Any],
                  **kwargs: Any) -> tuple[Any, Any, str]:
    """A stream worker on the outbox table of the in-process moto, stepped by hand."""
    import boto3

    from tests.conftest import PREFIX, REGION
    from tools.local.streams import StreamWorker
    from tools.resources import resources_of, table_definitions

    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # see the retry test above
    table = table_definitions(PREFIX)["OutboxTable"]["TableName"]
    mapping = resources_of("AWS::Lambda::EventSourceMapping")["OutboxRelayStreamMapping"]["Properties"]
    worker = StreamWorker("outbox_relay", table, mapping, stop=threading.Event(), invoke=invoke,
                          context=lambda: None, region=REGION, **kwargs)
    worker.RETRY_BACKOFF_S = 0
    return worker, boto3.client("dynamodb", region_name=REGION), table


def _event_ids(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["eventId"]["S"] for r in event["Records"]]


def test_stream_worker_follows_a_replaced_table_to_its_new_stream(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What moto 5.2.5 did after every rolled-back transaction: the table (and its stream)
    replaced. The worker reads the new stream from its start: nothing written to it is lost."""
    from tests.conftest import PREFIX
    from tools.resources import table_definitions

    delivered: list[str] = []
    worker, dynamodb, table = _outbox_relay(monkeypatch, lambda event, context: delivered.extend(_event_ids(event)))
    worker.RESCAN_S = 0  # describe the table on every step instead of once a second
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "a"}})
    worker.step()
    old_stream = worker.stream_arn
    props = table_definitions(PREFIX)["OutboxTable"]
    dynamodb.delete_table(TableName=table)
    indexes = {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]} if props.get("GlobalSecondaryIndexes") else {}
    dynamodb.create_table(TableName=table, AttributeDefinitions=props["AttributeDefinitions"],
                          KeySchema=props["KeySchema"], BillingMode="PAY_PER_REQUEST", **indexes,
                          StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]})
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "b"}})
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "c"}})
    worker.step()
    worker.step()
    assert worker.stream_arn != old_stream
    assert delivered == ["a", "b", "c"]
    assert capsys.readouterr().err.count("was replaced; reading the new one from its start") == 1


def test_stream_worker_resumes_after_a_rejected_iterator_without_losing_or_repeating(
        aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    delivered: list[str] = []
    worker, dynamodb, table = _outbox_relay(monkeypatch, lambda event, context: delivered.extend(_event_ids(event)))
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "a"}})
    worker.step()
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "b"}})
    worker.iterators = dict.fromkeys(worker.iterators, "expired-or-unknown")
    for _ in range(2):
        worker.step()  # does not raise: the first re-gets an iterator after "a", the second reads "b"
    assert delivered == ["a", "b"]


def test_stream_worker_logs_one_line_when_it_falls_behind_and_one_when_it_catches_up(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    delay = [0.0]  # how far the worker's clock is ahead of the records' creation time

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failing = len(calls) == 0  # the first batch fails once: it stays unrelayed over two polls
        calls.append(_event_ids(event))
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]
                if failing else []}

    calls: list[list[str]] = []
    worker, dynamodb, table = _outbox_relay(monkeypatch, invoke, clock=lambda: time.time() + delay[0])
    worker.step()  # started: nothing to relay
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "late"}})
    delay[0] = worker.BEHIND_AFTER_S + 3
    worker.step()  # read 5 s after it was written, and failed: behind
    worker.step()  # retried and relayed, still 5 s late: no second line
    worker.step()  # nothing left: caught up
    delay[0] = 0.0
    dynamodb.put_item(TableName=table, Item={"eventId": {"S": "prompt"}})
    worker.step()
    worker.step()
    assert calls == [["late"], ["late"], ["prompt"]]
    log = capsys.readouterr().err
    behind = [line for line in log.splitlines() if "is behind" in line]
    assert len(behind) == 1 and "oldest unrelayed record" in behind[0], log
    assert log.count("outbox_relay caught up after") == 1, log


def _workers_of(app: Any, issuer: Any, stop: Any) -> dict[str, Any]:
    from tests.conftest import PREFIX, REGION
    from tools.local.discovery import discover_workers
    from tools.local_env import LocalEnv

    env = LocalEnv(aws_port=0, state_dir=ROOT / ".local", region=REGION, prefix=PREFIX, issuer=issuer)
    return {worker.name: worker for worker in discover_workers(app, None, env, stop)}


def test_the_real_sqs_consumer_accepts_the_runner_event(aws: None, chalice_app: Any, issuer: Any) -> None:
    import threading

    import boto3

    from tests.conftest import PREFIX, REGION

    worker = _workers_of(chalice_app, issuer, threading.Event())["sqs:domain_events"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-notifications")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"eventId": "e1", "type": "demo.pinged", "data": {}}))
    results: list[Any] = []
    real = worker.invoke
    worker.invoke = lambda event, context: results.append(real(event, context)) or results[-1]
    deadline = time.monotonic() + 10
    while not results and time.monotonic() < deadline:
        worker.step()
    assert results == [{"batchItemFailures": []}]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_the_schedule_worker_runs_the_real_handler_at_its_rate(aws: None, chalice_app: Any, issuer: Any) -> None:
    import threading

    stop = threading.Event()
    worker = _workers_of(chalice_app, issuer, stop)["schedule:outbox_sweep"]
    assert worker.schedule.seconds == 300  # rate(5 minutes)
    worker.schedule.seconds = 0.1  # the same loop, faster
    results: list[Any] = []
    real = worker.invoke
    worker.invoke = lambda event, context: results.append(real(event, context))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while len(results) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert results[:2] == [{"relayed": 0, "failed": 0}] * 2
    assert not worker.is_alive()
