"""DynamoDB stream consumers (``chalicelib.jobs.STREAM_CONSUMERS``): poll the table's stream
through the ``dynamodbstreams`` API and invoke the function with a Lambda DynamoDB stream
event, as the event source mapping of infra/resources.json would.

Nothing is lost when the stream moves under the poller: every ``RESCAN_S`` it describes the
table again; a new stream (the table was replaced) is read from its trim horizon, a rejected
or expired iterator resumes after the last record handled (from the trim horizon when that
record is gone). The consumer is idempotent, so reading a record twice is harmless.

One log line when the relay falls behind (its oldest unrelayed record is older than
``BEHIND_AFTER_S``), one when it has caught up: not one per poll."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tools.local.worker import Worker, log, one_line


class StreamWorker(Worker):
    """Polls every shard of a table's stream, from TRIM_HORIZON so nothing written before
    the poller started (seed data, a restart of the worker) is missed. The mapping, when
    there is one, gives the batch size, the retry count and the filter (``FilterCriteria``:
    records that do not match are skipped, as Lambda does). A batch that fails is retried
    from its first failed record (Lambda's checkpoint) up to ``max_retries`` times, then
    skipped with a log line (the outbox sweep is the safety net)."""

    kind = "stream"
    idle_s = 0.25
    RETRY_BACKOFF_S = 1.0  # doubled per attempt, at most 8 s
    RESCAN_S = 1.0  # describe the table (a new stream?) and the stream (new shards?)
    BEHIND_AFTER_S = 2.0

    def __init__(self, name: str, table: str, mapping: dict[str, Any] | None = None,
                 clock: Callable[[], float] = time.time, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.table = table
        mapping = mapping or {}
        self.batch_size = max(1, min(int(mapping.get("BatchSize", 100)), 1000))
        retries = mapping.get("MaximumRetryAttempts", 3)
        self.max_retries = 3 if retries in (None, -1) else max(0, int(retries))
        self.filters = [json.loads(f["Pattern"]) if isinstance(f.get("Pattern"), str) else f.get("Pattern", {})
                        for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])]
        self.clock = clock
        self.dynamodb: Any = None
        self.streams: Any = None
        self.stream_arn: str | None = None
        self.iterators: dict[str, str | None] = {}  # shard id -> iterator (None: closed and drained)
        self.last_sequence: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.last_scan = 0.0
        self.started_at: float | None = None
        self.behind_since: float | None = None

    # ------------------------------------------------------------------ the stream

    def _refresh(self) -> None:
        if self.streams is None:
            self.dynamodb, self.streams = self._client("dynamodb"), self._client("dynamodbstreams")
        arn = self.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self.table} has no stream")
        if arn != self.stream_arn:
            if self.stream_arn is not None:
                log(f"[stream] {self.job}: the stream of {self.table} was replaced; reading the new one from its start")
            self.stream_arn = arn
            self.iterators, self.last_sequence, self.attempts = {}, {}, {}
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

    def _resume(self, shard_id: str, error: Exception) -> None:
        """The iterator was rejected (expired, unknown, or its stream is gone)."""
        log(f"[stream] {self.job}: iterator of shard {shard_id} rejected ({one_line(error)}); resuming")
        arn = self.stream_arn
        self._refresh()
        if self.stream_arn != arn or shard_id not in self.iterators:
            return  # a new stream, read from its start
        last = self.last_sequence.get(shard_id)
        if last is not None:
            try:
                self.iterators[shard_id] = self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", last)
                return
            except Exception:  # noqa: BLE001 - trimmed away: what is left starts at the trim horizon
                pass
        self.iterators[shard_id] = self._iterator(shard_id, "TRIM_HORIZON")

    # ------------------------------------------------------------------ polling

    def step(self) -> bool:
        if self.stream_arn is None or time.monotonic() - self.last_scan >= self.RESCAN_S:
            self._refresh()
        if self.started_at is None:
            self.started_at = self.clock()  # reading from here on; what was written before is a backlog
        busy = False
        lag = 0.0
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None or self.stop_event.is_set():
                continue
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            except Exception as exc:  # noqa: BLE001 - expired or invalid iterator, or a replaced stream
                self._resume(shard_id, exc)
                busy = True
                continue
            read = response.get("Records", [])
            next_iterator = response.get("NextShardIterator")
            records = [r for r in read if self._wanted(r)]
            if read and not records:
                self.last_sequence[shard_id] = read[-1]["dynamodb"]["SequenceNumber"]
            if not records:
                self.iterators[shard_id] = next_iterator
                continue
            busy = True
            lag = max(lag, self._age(records))
            self.iterators[shard_id] = self._deliver(shard_id, records, next_iterator)
        self._watch_lag(lag)
        return busy

    def _age(self, records: list[dict[str, Any]]) -> float:
        """How long the oldest of ``records`` waited until it was read (Lambda's iterator age);
        a record written before the worker started counts from the start."""
        created = [c for c in map(_created_at, records) if c is not None]
        now = self.clock()
        return max(0.0, now - max(min(created), self.started_at or now)) if created else 0.0

    def _watch_lag(self, lag: float) -> None:
        """``lag``: the age of the oldest record read in this poll (0: nothing left to relay)."""
        now = self.clock()
        if lag > self.BEHIND_AFTER_S and self.behind_since is None:
            self.behind_since = now - lag
            log(f"[stream] {self.job} is behind: its oldest unrelayed record of {self.table} is {lag:.1f} s old "
                f"(more than {self.BEHIND_AFTER_S:g} s)")
        elif lag <= self.BEHIND_AFTER_S and self.behind_since is not None:
            log(f"[stream] {self.job} caught up after {now - self.behind_since:.1f} s behind")
            self.behind_since = None

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
            log(f"[stream] {self.job}: batch of {len(records)} failed: {one_line(exc)}")
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

    # ------------------------------------------------------------------ the Lambda event

    def _wanted(self, record: dict[str, Any]) -> bool:
        """Lambda's event filtering: a record passes when any filter matches it."""
        return not self.filters or any(_matches(f, self._record(record)) for f in self.filters)

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record.get("dynamodb", {}))
        created = _created_at(record)
        if created is not None:
            dynamodb["ApproximateCreationDateTime"] = int(created)
        return {
            "eventID": record.get("eventID", uuid.uuid4().hex),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": _wire(dynamodb),
            "eventSourceARN": self.stream_arn,
        }


def _created_at(record: dict[str, Any]) -> float | None:
    """Epoch seconds of a stream record's ApproximateCreationDateTime (boto3 gives a datetime)."""
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return created.timestamp()
    if isinstance(created, int | float):
        return float(created)
    return None


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
