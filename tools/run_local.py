"""``make run``: the whole system in one foreground process.

moto's server (local AWS) on loopback, every table/queue/bucket of infra/resources.json,
demo data, the API under chalice's own local server, and the background work the cloud
runs as Lambda triggers, discovered from the Chalice app:

* SQS consumers (``on_sqs_message``): long-poll the queue, invoke the handler with a
  Lambda SQS event, delete every record not listed in ``batchItemFailures``;
* schedules (``schedule``): ``rate(...)`` at its rate; ``cron(...)`` checked once a
  minute (UTC) against the expression (``L``, ``W`` and ``#`` are not supported locally);
* DynamoDB stream consumers (``chalicelib.jobs.STREAM_CONSUMERS``): poll the table's
  stream through moto's ``dynamodbstreams`` API from TRIM_HORIZON and invoke the lambda
  function with a Lambda DynamoDB stream event.

Ctrl-C or SIGTERM stops everything and exits 0.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools import local_env

HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 30


class _Stop(Exception):
    """Raised in the main thread by SIGINT/SIGTERM while starting up."""


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"{stamp} {message}", file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


# --------------------------------------------------------------------------- workers


class Worker(threading.Thread):
    """A background loop; an exception in ``step`` is logged on one line, then it goes on."""

    kind = "worker"
    idle_s = 0.5

    def __init__(self, name: str, stop: threading.Event, invoke: Callable[[dict[str, Any], Any], Any],
                 context: Callable[[], Any], region: str):
        super().__init__(name=f"{self.kind}:{name}", daemon=True)
        self.job = name
        self.stop_event = stop
        self.invoke = invoke
        self.context = context
        self.region = region

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.step()
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the runner
                log(f"[{self.kind}] {self.job} failed: {_one_line(exc)}")
                busy = False
                self.stop_event.wait(2.0)
            if not busy:
                self.stop_event.wait(self.idle_s)

    def step(self) -> bool:
        """One unit of work; True when there may be more right away."""
        raise NotImplementedError

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(service, region_name=self.region)


class SqsWorker(Worker):
    kind = "sqs"
    idle_s = 0.0  # the receive itself long-polls

    def __init__(self, name: str, queue: str, batch_size: int, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.queue = queue
        self.batch_size = max(1, min(int(batch_size or 10), 10))
        self.sqs: Any = None
        self.queue_url: str | None = None
        self.queue_arn = ""

    def step(self) -> bool:
        if self.sqs is None:
            self.sqs = self._client("sqs")  # created in the worker's thread, off the startup path
        if self.queue_url is None:
            self.queue_url = self.sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
            self.queue_arn = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=1,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not received or self.stop_event.is_set():
            return False  # a message received while stopping becomes visible again later
        event = {"Records": [self._record(message) for message in received]}
        try:
            result = self.invoke(event, self.context())
        except Exception as exc:  # noqa: BLE001 - like Lambda: the whole batch returns to the queue
            log(f"[sqs] {self.job}: batch of {len(received)} failed, left on the queue: {_one_line(exc)}")
            return False
        failed = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", []) or []} \
            if isinstance(result, dict) else set()
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
        log(f"[sqs] {self.job}: {len(received)} message(s), {len(done)} done, {len(failed)} returned to the queue")
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            entry: dict[str, Any] = {"dataType": value.get("DataType"), "stringListValues": [],
                                     "binaryListValues": []}
            if "StringValue" in value:
                entry["stringValue"] = value["StringValue"]
            if "BinaryValue" in value:
                entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
            attributes[name] = entry
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


class StreamWorker(Worker):
    """Polls every shard of a table's stream, from TRIM_HORIZON so nothing written before
    the poller started (seed data, a restart of the worker) is missed; the consumer is
    idempotent, so reading a record twice is harmless. The event source mapping of
    infra/resources.json, when there is one, gives the batch size, the retry count and the
    filter (``FilterCriteria``: records that do not match are skipped, as Lambda does). A
    batch that fails is retried from its first failed record (Lambda's checkpoint) up to
    ``max_retries`` times, then skipped with a log line (the outbox sweep is the safety net)."""

    kind = "stream"
    idle_s = 0.5
    RETRY_BACKOFF_S = 1.0  # doubled per attempt, at most 8 s
    RESCAN_S = 10.0

    def __init__(self, name: str, table: str, mapping: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.table = table
        mapping = mapping or {}
        self.batch_size = max(1, min(int(mapping.get("BatchSize", 100)), 1000))
        retries = mapping.get("MaximumRetryAttempts", 3)
        self.max_retries = 3 if retries in (None, -1) else max(0, int(retries))
        self.filters = [json.loads(f["Pattern"]) if isinstance(f.get("Pattern"), str) else f.get("Pattern", {})
                        for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])]
        self.dynamodb: Any = None
        self.streams: Any = None
        self.stream_arn: str | None = None
        self.iterators: dict[str, str | None] = {}  # shard id -> iterator (None: closed and drained)
        self.last_sequence: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.last_scan = 0.0

    def _scan_shards(self) -> None:
        if self.streams is None:
            self.dynamodb, self.streams = self._client("dynamodb"), self._client("dynamodbstreams")
        if self.stream_arn is None:
            arn = self.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
            if not arn:
                raise RuntimeError(f"table {self.table} has no stream")
            self.stream_arn = arn
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self._iterator(shard["ShardId"], "TRIM_HORIZON")
        self.last_scan = time.monotonic()

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        return str(self.streams.get_shard_iterator(**kwargs)["ShardIterator"])

    def step(self) -> bool:
        if self.stream_arn is None or time.monotonic() - self.last_scan > self.RESCAN_S:
            self._scan_shards()
        busy = False
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None or self.stop_event.is_set():
                continue
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            except Exception:
                # Expired or invalid iterator: resume after the last record handled.
                last = self.last_sequence.get(shard_id)
                self.iterators[shard_id] = (self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", last) if last
                                            else self._iterator(shard_id, "TRIM_HORIZON"))
                raise
            read = response.get("Records", [])
            next_iterator = response.get("NextShardIterator")
            records = [r for r in read if self._wanted(r)]
            if read and not records:
                self.last_sequence[shard_id] = read[-1]["dynamodb"]["SequenceNumber"]
            if not records:
                self.iterators[shard_id] = next_iterator
                continue
            busy = True
            self.iterators[shard_id] = self._deliver(shard_id, records, next_iterator)
        return busy

    def _deliver(self, shard_id: str, records: list[dict[str, Any]], next_iterator: str | None) -> str | None:
        event = {"Records": [self._record(r) for r in records]}
        first_failed: str | None = None
        try:
            result = self.invoke(event, self.context())
            failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
            sequences = [str(f.get("itemIdentifier")) for f in failures if f.get("itemIdentifier")]
            if sequences:
                first_failed = min(sequences, key=int)
        except Exception as exc:  # noqa: BLE001 - like Lambda: retry the batch
            log(f"[stream] {self.job}: batch of {len(records)} failed: {_one_line(exc)}")
            first_failed = records[0]["dynamodb"]["SequenceNumber"]
        if first_failed is None:
            self.attempts.pop(shard_id, None)
            self.last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            log(f"[stream] {self.job}: {len(records)} record(s) from {self.table}")
            return next_iterator
        attempt = self.attempts.get(shard_id, 0) + 1
        if attempt > self.max_retries:
            self.attempts.pop(shard_id, None)
            self.last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            log(f"[stream] {self.job}: giving up on records from {first_failed} after "
                f"{self.max_retries} retries (the outbox sweep relays what is still pending)")
            return next_iterator
        self.attempts[shard_id] = attempt
        log(f"[stream] {self.job}: retry {attempt}/{self.max_retries} from sequence {first_failed}")
        self.stop_event.wait(min(self.RETRY_BACKOFF_S * 2 ** attempt, 8.0))
        return self._iterator(shard_id, "AT_SEQUENCE_NUMBER", first_failed)

    def _wanted(self, record: dict[str, Any]) -> bool:
        """Lambda's event filtering: a record passes when any filter matches it."""
        return not self.filters or any(_matches(f, self._record(record)) for f in self.filters)

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record.get("dynamodb", {}))
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record.get("eventID", uuid.uuid4().hex),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": _wire(dynamodb),
            "eventSourceARN": self.stream_arn,
        }


def _matches(pattern: Any, value: Any) -> bool:
    """A subset of EventBridge/Lambda filter patterns: nested keys, lists of literal values
    (a value that is a list matches when any element does). Content filters such as
    ``{"prefix": ...}`` are not evaluated locally: they match."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        if any(isinstance(p, dict) for p in pattern):
            return True
        candidates = value if isinstance(value, list) else [value]
        return any(c in pattern for c in candidates)
    return bool(pattern == value)


def _wire(value: Any) -> Any:
    """boto3 gives binary attribute values as bytes; Lambda events carry them as base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


class ScheduleWorker(Worker):
    kind = "schedule"

    def __init__(self, name: str, expression: str, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.expression = expression
        self.schedule = parse_schedule(expression)

    def run(self) -> None:
        next_run = self.schedule.first_after(time.time())
        while not self.stop_event.wait(max(0.0, min(next_run - time.time(), 1.0))):
            if time.time() < next_run:
                continue
            fired = next_run
            try:
                self.invoke(self._event(fired), self.context())
                log(f"[schedule] {self.job} ran ({self.expression})")
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the runner
                log(f"[schedule] {self.job} failed: {_one_line(exc)}")
            next_run = self.schedule.first_after(max(fired, time.time()))

    def _event(self, fired: float) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": local_env.ACCOUNT_ID,
            "time": datetime.fromtimestamp(fired, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{local_env.ACCOUNT_ID}:rule/{self.job}"],
            "detail": {},
        }


# --------------------------------------------------------------------------- schedules


class Rate:
    _UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

    def __init__(self, value: int, unit: str):
        if value < 1 or unit not in self._UNITS:
            raise ValueError(f"bad rate: {value} {unit}")
        self.seconds = value * self._UNITS[unit]

    def first_after(self, now: float) -> float:
        return now + self.seconds


class Cron:
    """AWS cron: minutes hours day-of-month month day-of-week year (UTC); ``?`` means any.
    Day-of-week is 1-7 (SUN=1) or SUN-SAT. ``L``, ``W`` and ``#`` are not supported."""

    _MONTHS = {m: i + 1 for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                               "NOV", "DEC"])}
    _DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}

    def __init__(self, fields: list[str]):
        if len(fields) != 6:
            raise ValueError("cron needs 6 fields")
        if any(ch in f for f in fields for ch in "LW#"):
            raise ValueError("L, W and # are not supported by the local runner")
        ranges = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, self._MONTHS), (1, 7, self._DAYS),
                  (1970, 2199, {})]
        self.sets = [self._parse(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, ranges, strict=True)]
        self.any_dom, self.any_dow = fields[2] in ("?", "*"), fields[4] in ("?", "*")

    @staticmethod
    def _parse(field: str, lo: int, hi: int, names: dict[str, int]) -> set[int]:
        values: set[int] = set()
        for part in field.upper().split(","):
            step = 1
            if "/" in part:
                part, step_text = part.split("/", 1)
                step = int(step_text)
            if part in ("*", "?"):
                start, end = lo, hi
            elif "-" in part:
                a, b = part.split("-", 1)
                start, end = names.get(a) or int(a), names.get(b) or int(b)
            else:
                start = names.get(part) or int(part)
                end = hi if "/" in field else start
            values.update(range(start, end + 1, step))
        return values

    def matches(self, moment: datetime) -> bool:
        minute, hour, dom, month, dow, year = self.sets
        day_ok_dom = moment.day in dom
        day_ok_dow = (moment.isoweekday() % 7) + 1 in dow  # Sunday -> 1
        if self.any_dom and self.any_dow:
            day_ok = True
        elif self.any_dom:
            day_ok = day_ok_dow
        elif self.any_dow:
            day_ok = day_ok_dom
        else:
            day_ok = day_ok_dom and day_ok_dow
        return (moment.minute in minute and moment.hour in hour and moment.month in month
                and moment.year in year and day_ok)

    def first_after(self, now: float) -> float:
        start = int(now // 60 + 1) * 60
        for minute in range(0, 366 * 24 * 60):  # a year ahead at most
            candidate = start + minute * 60
            if self.matches(datetime.fromtimestamp(candidate, UTC)):
                return float(candidate)
        return float("inf")


def parse_schedule(expression: str) -> Rate | Cron:
    match = re.fullmatch(r"\s*rate\(\s*(\d+)\s+([a-z]+)\s*\)\s*", expression)
    if match:
        return Rate(int(match.group(1)), match.group(2))
    match = re.fullmatch(r"\s*cron\((.*)\)\s*", expression)
    if match:
        return Cron(match.group(1).split())
    raise ValueError(f"unsupported schedule expression {expression!r}")


# --------------------------------------------------------------------------- discovery


def _handler(app: Any, source: Any) -> Callable[[dict[str, Any], Any], Any]:
    """What Lambda would call: the module attribute named by the handler string (chalice's
    wrapper that takes ``(event, context)``), else the app's handler map entry."""
    module_name, _, attribute = str(getattr(source, "handler_string", "")).rpartition(".")
    if module_name:
        with contextlib.suppress(ImportError, AttributeError):
            handler = getattr(importlib.import_module(module_name), attribute)
            if callable(handler):
                return handler  # type: ignore[no-any-return]
    return app.handler_map[source.name]  # type: ignore[no-any-return]


def discover_workers(app: Any, config: Any, env: local_env.LocalEnv, stop: threading.Event) -> list[Worker]:
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    from chalicelib.jobs import STREAM_CONSUMERS
    from tools.resources import resources_of, table_definitions

    def common(name: str, handler: Callable[..., Any]) -> dict[str, Any]:
        return {"stop": stop, "invoke": handler, "region": env.region,
                "context": lambda: local_env.lambda_context(name, config, env.region)}

    workers: list[Worker] = []
    for source in app.event_sources:
        handler = _handler(app, source)
        if isinstance(source, SQSEventConfig):
            queue = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
            workers.append(SqsWorker(source.name, queue, source.batch_size, **common(source.name, handler)))
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            expression = expression.to_string() if hasattr(expression, "to_string") else str(expression)
            try:
                workers.append(ScheduleWorker(source.name, expression, **common(source.name, handler)))
            except ValueError as exc:
                log(f"[schedule] {source.name} not run locally: {exc}")
        else:
            log(f"[runner] {source.name} ({type(source).__name__}) has no local trigger; not run")
    functions = {f.name: f for f in app.pure_lambda_functions}
    tables = table_definitions(env.prefix)
    mappings = {res["Properties"].get("EventSourceArn", {}).get("Fn::GetAtt", [None])[0]: res["Properties"]
                for res in resources_of("AWS::Lambda::EventSourceMapping").values()}
    for logical, function_name in STREAM_CONSUMERS.items():
        if function_name not in functions or logical not in tables:
            log(f"[runner] stream consumer {logical} -> {function_name}: unknown table or function; not run")
            continue
        handler = _handler(app, functions[function_name])
        workers.append(StreamWorker(function_name, tables[logical]["TableName"], mappings.get(logical),
                                    **common(function_name, handler)))
    untriggered = sorted(set(functions) - set(STREAM_CONSUMERS.values()))
    if untriggered:
        log(f"[runner] lambda functions without a local trigger: {', '.join(untriggered)}")
    return workers


# --------------------------------------------------------------------------- runner


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.run_local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    parser.add_argument("--aws-port", type=int, default=5000, help="moto server port (default 5000)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help=f"keys and tokens (default ${local_env.STATE_DIR_ENV} or <repo>/.local)")
    return parser.parse_args(argv)


def _wait_healthy(url: str, deadline_s: float) -> int | None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + deadline_s
    status = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # loopback only
                response.read()  # a client that hangs up early breaks the server's pipe
                return int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            pass
        time.sleep(0.1)
    return status


def _quiet_disconnects(server: Any) -> None:
    """A client that hangs up mid-response (a browser, a timed-out curl) is one log line,
    not socketserver's traceback; anything else keeps the default report."""
    default = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log(f"[http] client {client_address[0]}:{client_address[1]} disconnected: {type(error).__name__}")
        else:
            default(request, client_address)

    server.handle_error = handle_error


def _print_banner(port: int, env: local_env.LocalEnv, tokens: dict[str, dict[str, str]], workers: list[Worker],
                  seconds: float) -> None:
    api = f"http://{HOST}:{port}"
    lines = [
        "",
        f"Auralumic is running (ready in {seconds:.1f} s)",
        f"  API        {api}",
        f"  Docs       {api}/docs",
        f"  Local AWS  {env.aws_endpoint}  (moto; AWS_ENDPOINT_URL={env.aws_endpoint})",
        f"  Workers    {', '.join(w.name for w in workers) or 'none'}",
        f"  Tokens     {env.tokens_path}  (valid {local_env.TOKEN_TTL_S // 86400} days)",
        "",
        f"  {'handle':<10} {'userId':<24} {'role':<7} token",
    ]
    lines += [f"  {handle:<10} {info['userId']:<24} {info['role']:<7} {info['token']}"
              for handle, info in tokens.items()]
    example = tokens.get("client1") or next(iter(tokens.values()))
    lines += [
        "",
        f"  TOKEN={example['token']}",
        f'  curl -H "Authorization: Bearer $TOKEN" {api}/me',
        "",
        "Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.port == args.aws_port:
        print(f"error: --port and --aws-port are both {args.port}", file=sys.stderr)
        return 1
    for port, variable in ((args.port, "PORT"), (args.aws_port, "AWS_PORT")):
        if local_env.port_in_use(port, HOST):
            print(f"error: port {port} is already in use (set {variable}=...)", file=sys.stderr)
            return 1

    stop = threading.Event()
    starting = True

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal starting
        stop.set()
        if starting:  # abort the startup once; cleanup below is not interrupted again
            starting = False
            raise _Stop

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    moto: Any = None
    http: Any = None
    http_thread: threading.Thread | None = None
    workers: list[Worker] = []
    code = 0
    try:
        started = time.monotonic()
        env = local_env.configure(args.aws_port, args.state_dir, api_port=args.port)
        # Quiet moto's per-request access log; the API's request lines stay (as with `chalice local`).
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address=HOST, port=args.aws_port, verbose=False)
        moto.start()

        import boto3

        from tools.resources import create_all

        create_all(env.prefix, boto3.session.Session(), env.region)

        from chalice.cli.factory import CLIFactory
        from chalice.local import ChaliceRequestHandler, create_local_server

        # Without TCP_NODELAY, kept-alive requests wait ~40 ms on delayed ACKs (53 ms -> 8 ms measured).
        ChaliceRequestHandler.disable_nagle_algorithm = True

        factory = CLIFactory(project_dir=str(local_env.ROOT))  # its environ is a copy: os.environ stays ours
        config = factory.create_config_obj(chalice_stage_name=local_env.STAGE)
        app = config.chalice_app  # imports app.py from the repo root
        loaded = Path(getattr(sys.modules.get("app"), "__file__", "") or ".").resolve()
        if loaded != local_env.ROOT / "app.py":
            raise RuntimeError(f"imported app from {loaded}, expected {local_env.ROOT / 'app.py'}")

        from tools.seed import seed_demo

        tokens = seed_demo(env.issuer, token_ttl_s=local_env.TOKEN_TTL_S)
        env.tokens_path.write_text(json.dumps(tokens, indent=2) + "\n")
        env.tokens_path.chmod(0o600)

        workers = discover_workers(app, config, env, stop)
        for worker in workers:
            worker.start()

        http = create_local_server(app, config, HOST, args.port)
        _quiet_disconnects(http.server)
        http_thread = threading.Thread(target=http.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="http", daemon=True)
        http_thread.start()
        status = _wait_healthy(f"http://{HOST}:{args.port}/health", HEALTH_TIMEOUT_S)
        if status != 200:
            log(f"[runner] warning: /health answered {status}; see http://{HOST}:{args.port}/health")
        _print_banner(args.port, env, tokens, workers, time.monotonic() - started)
        starting = False
        while not stop.wait(0.5):
            pass
    except _Stop:
        pass
    except Exception as exc:  # noqa: BLE001 - one clear line, then the stack for a bug
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        if not isinstance(exc, OSError | RuntimeError):
            traceback.print_exc()
        code = 1
    finally:
        starting = False
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.set()
        for worker in workers:
            worker.join(timeout=3)
        if http is not None:
            if http_thread is not None and http_thread.is_alive():
                http.server.shutdown()
            http.server.server_close()
        if moto is not None:
            with contextlib.suppress(Exception):
                moto.stop()
    print("stopped", flush=True)
    return code


if __name__ == "__main__":
    exit_code = main()
    # Everything is stopped by now. Skip the interpreter's teardown of moto's large heap,
    # which alone takes seconds; flush what finalization would have flushed.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
