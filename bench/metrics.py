"""Reader-metrics figures for ``make bench``: the event consumers over a generated history
(wall time, DynamoDB calls), an incremental batch of 1,000 more events, the insights job over
the readers they marked, and ``GET /reader/metrics`` — in-process under moto.

The history: ``readers`` readers (timezones and attributes varied) and readings spread over
the last 200 days, each requested, then accepted (80%) or declined / expired, accepted ones
completed (85%), completed ones reviewed (60%). Every event goes through
``services/metrics/reader.consume`` as the ``domain_events`` consumer would deliver it. The
readings' items the consumers read (request time) are written before, uncounted.

moto costs ~1-3 ms per call, so the default history is 10,000 events; the 100,000-event
figure is extrapolated from it (the cost per event does not depend on the history: every
event touches its own buckets only), and the report says so. ``--events 100000`` measures it
(about 10 times longer).

Run alone: ``.venv/bin/python -m bench.metrics [--events 10000] [--readers 200]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import counting

INCREMENT = 1_000
TARGET = 100_000
TIMEZONES = ("Europe/Lisbon", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
TOOLS = ("tarot", "runes", "astrology", "pendulum", "oracle-cards")
ABILITIES = ("empath", "clairvoyant", "medium")
STYLES = ("compassionate", "inspirational", "straightforward")


def _history(count: int, readers: int, now: datetime, rng: random.Random, start: int = 0
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, reading items): ``count`` events of readings ``start``..."""
    from chalicelib.models.base import iso

    events: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    n = start
    while len(events) < count:
        reader_id, client_id, reading_id = f"bench_r{rng.randrange(readers):04d}", f"c{rng.randrange(400)}", f"rd{n}"
        requested = now - timedelta(minutes=rng.randrange(200 * 24 * 60))
        items.append({"readingId": {"S": reading_id}, "createdAt": {"S": iso(requested)}})
        base = {"readerId": reader_id, "clientId": client_id, "readingId": reading_id}
        steps = [("reading.requested", requested, {})]
        answered = requested + timedelta(minutes=rng.randrange(1, 120))
        roll = rng.random()
        if roll < 0.8:
            steps.append(("reading.accepted", answered, {}))
            if rng.random() < 0.85:
                done = answered + timedelta(hours=rng.randrange(1, 48))
                steps.append(("reading.completed", done, {"paid": rng.randrange(20, 120)}))
                if rng.random() < 0.6:
                    steps.append(("review.created", done + timedelta(hours=2), {"rating": rng.choice((3, 4, 5, 5))}))
        else:
            steps.append(("reading.declined" if roll < 0.9 else "reading.expired", answered, {}))
        for kind, at, data in steps:
            events.append({"eventId": f"ev{n}-{kind}", "type": kind, "occurredAt": iso(min(at, now)),
                           "data": {**base, **data}})
        n += 1
    return events[:count], items


def _seed(readers: int, items: list[dict[str, Any]], rng: random.Random) -> None:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    now = iso(utcnow())
    with ReaderProfile.batch_write() as profiles, User.batch_write() as users:
        for n in range(readers):
            reader_id = f"bench_r{n:04d}"
            users.save(User(user_id=reader_id, role="reader", status="active", created_at=now, updated_at=now,
                            email=f"{reader_id}@example.com"))
            profiles.save(ReaderProfile(
                reader_id=reader_id, status="approved", display_name=reader_id, created_at=now, updated_at=now,
                availability={"timezone": rng.choice(TIMEZONES)},
                attributes={"tools": rng.sample(TOOLS, 2), "abilities": rng.sample(ABILITIES, 1),
                            "style": rng.choice(STYLES)}))
    client, table = aws.client("dynamodb"), get_settings().table_name("readings")
    for first in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _apply(events: list[dict[str, Any]], now: datetime) -> tuple[float, Counter[tuple[str, str]]]:
    from chalicelib.services.metrics import reader

    counting.start()
    started = time.perf_counter()
    for message in events:
        reader.consume(message, now=now)
    elapsed = time.perf_counter() - started
    return elapsed, counting.stop().calls


def _dynamo(calls: Counter[tuple[str, str]]) -> int:
    return sum(n for (service, _), n in calls.items() if service == "dynamodb")


def _ops(calls: Counter[tuple[str, str]], per: int = 1) -> str:
    return ", ".join(f"{op} x{n / per:.2f}" for (svc, op), n in sorted(calls.items()) if svc == "dynamodb") or "none"


def measure(events: int, readers: int, issuer: Any) -> list[str]:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import environment
    from bench.notifications import _one_rollback_copy
    from bench.scenarios import Harness
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.services.metrics import insights
    from tools.resources import create_all

    rng = random.Random(15)
    now = datetime.now(UTC).replace(microsecond=0)
    history, items = _history(events, readers, now, rng)
    more, more_items = _history(INCREMENT, readers, now, rng, start=10 * events)
    with mock_aws(), _one_rollback_copy():
        aws_clients.reset()
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            _seed(readers, items + more_items, rng)
            full_s, full_calls = _apply(history, now)
            job_started = time.perf_counter()
            counting.start()
            job = insights.run(now=now)
            job_calls = counting.stop().calls
            job_s = time.perf_counter() - job_started
            inc_s, inc_calls = _apply(more, now)
            get_calls: list[Counter[tuple[str, str]]] = []
            get_ms: list[float] = []
            with Client(app) as client:
                harness = Harness(client, issuer)
                for n in range(23):
                    counting.start()
                    started = time.perf_counter()
                    response = harness.request("GET", "/reader/metrics?attribute=tarot&period=last_6_months",
                                               as_user=f"bench_r{n % readers:04d}")
                    elapsed = time.perf_counter() - started
                    calls = counting.stop().calls
                    if response.status_code != 200:
                        raise RuntimeError(f"GET /reader/metrics: {response.status_code} {response.body[:200]!r}")
                    if n >= 3:  # warm only
                        get_calls.append(calls)
                        get_ms.append(elapsed * 1000)
        finally:
            aws_clients.reset()
    full_d, inc_d = _dynamo(full_calls), _dynamo(inc_calls)
    get_total: Counter[tuple[str, str]] = Counter()
    for calls in get_calls:
        get_total.update(calls)
    scale = TARGET / events
    measured = "measured" if events >= TARGET else f"extrapolated x{scale:g} from {events:,} measured"
    return [
        "## Reader metrics (event consumers, insights job, GET /reader/metrics)",
        "",
        f"{readers} readers; events through `services/metrics/reader.consume` as the domain_events consumer "
        "delivers them, in-process under moto.",
        "",
        "| run | events | wall time | DynamoDB calls | per event | operations per event |",
        "|---|---:|---:|---:|---:|---|",
        f"| history | {events:,} | {full_s:.1f} s | {full_d:,} | {full_d / events:.2f} | {_ops(full_calls, events)} |",
        f"| history at {TARGET:,} ({measured}) | {TARGET:,} | {full_s * scale:.0f} s | {round(full_d * scale):,} | "
        f"{full_d / events:.2f} | same |",
        f"| then {INCREMENT:,} more | {INCREMENT:,} | {inc_s:.1f} s | {inc_d:,} | {inc_d / INCREMENT:.2f} | "
        f"{_ops(inc_calls, INCREMENT)} |",
        "",
        f"The incremental run costs {inc_d / INCREMENT:.2f} calls per new event against {full_d / events:.2f} for "
        "the history: in proportion to the new events, never to the history (no event reads another's buckets).",
        "",
        f"Insights job after the history: {job.get('readers', 0)} marked readers evaluated, "
        f"{job.get('badges', 0)} badges awarded, {job_s:.1f} s, {_dynamo(job_calls):,} DynamoDB calls "
        f"({_dynamo(job_calls) / max(job.get('readers', 0), 1):.1f} per reader: {_ops(job_calls, 1)}).",
        "",
        f"`GET /reader/metrics?attribute=tarot&period=last_6_months` (warm, n={len(get_calls)}): "
        f"{_dynamo(get_total) / len(get_calls):.1f} DynamoDB calls per request ({_ops(get_total, len(get_calls))}), "
        f"p50 {sorted(get_ms)[len(get_ms) // 2]:.1f} ms.",
    ]


def section(events: int, readers: int, issuer: Any) -> list[str]:
    print(f"reader metrics: {events:,} events for {readers} readers, then {INCREMENT:,}...", file=sys.stderr)
    started = time.perf_counter()
    lines = measure(events, readers, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=200)
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.events, args.readers, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
