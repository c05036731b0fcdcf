"""Reader-metrics figures for ``make bench``: the event consumers over a generated history
(wall time, DynamoDB calls), an incremental batch of 1,000 new readings, the insights job over
the readers they marked (after each), and ``GET /reader/metrics`` — in-process under moto.

The history: ``readers`` readers (timezones and attributes varied) and readings spread over
the last 200 days, each requested, then accepted (80%) or declined / expired, accepted ones
completed (85%), completed ones reviewed (60%). Every event goes through
``services/metrics/reader.consume`` as the ``domain_events`` consumer would deliver it. The
readings' items the consumers read (request time) are written before, uncounted.

moto costs ~1-3 ms per call, so the default history is 3,000 readings (~9,500 events); the
100,000-reading figure is extrapolated from it (the cost per reading does not depend on the
history: every event touches its own buckets only, and the bench keeps moto from copying a
table per transaction), and the report says so. ``--readings 100000`` measures it (about 35
times longer: ~45 minutes on a 2-core machine).

Run alone: ``.venv/bin/python -m bench.metrics [--readings 3000] [--readers 200]``.
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
    """(events, reading items): the events of ``count`` readings numbered from ``start``."""
    from chalicelib.models.base import iso

    events: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    n = start
    while n < start + count:
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
    return events, items


def _seed(readers: int, items: list[dict[str, Any]], rng: random.Random) -> dict[str, str]:
    """Writes the readers and the readings' items; returns each reader's first tool."""
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    now = iso(utcnow())
    first_tool: dict[str, str] = {}
    with ReaderProfile.batch_write() as profiles, User.batch_write() as users:
        for n in range(readers):
            reader_id = f"bench_r{n:04d}"
            tools = rng.sample(TOOLS, 2)
            first_tool[reader_id] = tools[0]
            users.save(User(user_id=reader_id, role="reader", status="active", created_at=now, updated_at=now,
                            email=f"{reader_id}@example.com"))
            profiles.save(ReaderProfile(
                reader_id=reader_id, status="approved", display_name=reader_id, created_at=now, updated_at=now,
                availability={"timezone": rng.choice(TIMEZONES)},
                attributes={"tools": tools, "abilities": rng.sample(ABILITIES, 1),
                            "style": rng.choice(STYLES)}))
    client, table = aws.client("dynamodb"), get_settings().table_name("readings")
    for first in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return first_tool


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


def measure(readings: int, readers: int, issuer: Any) -> list[str]:
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
    history, items = _history(readings, readers, now, rng)
    more, more_items = _history(INCREMENT, readers, now, rng, start=10 * readings)
    with mock_aws(), _one_rollback_copy():
        aws_clients.reset()
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            first_tool = _seed(readers, items + more_items, rng)
            full_s, full_calls = _apply(history, now)
            job_started = time.perf_counter()
            counting.start()
            job = insights.run(now=now)
            job_calls = counting.stop().calls
            job_s = time.perf_counter() - job_started
            inc_s, inc_calls = _apply(more, now)
            counting.start()
            inc_job_started = time.perf_counter()
            inc_job = insights.run(now=now)
            inc_job_s = time.perf_counter() - inc_job_started
            inc_job_calls = counting.stop().calls
            get_calls: list[Counter[tuple[str, str]]] = []
            get_ms: list[float] = []
            with Client(app) as client:
                harness = Harness(client, issuer)
                for n in range(23):
                    counting.start()
                    started = time.perf_counter()
                    reader_id = f"bench_r{n % readers:04d}"
                    response = harness.request(
                        "GET", f"/reader/metrics?attribute={first_tool[reader_id]}&period=last_6_months",
                        as_user=reader_id)
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
    events = len(history)
    scale = TARGET / readings
    measured = "measured" if readings >= TARGET else f"extrapolated x{scale:g} from {readings:,} measured"
    return [
        "## Reader metrics (event consumers, insights job, GET /reader/metrics)",
        "",
        f"{readers} readers; each reading's events (requested, then accepted/declined/expired, completed, "
        "reviewed) through `services/metrics/reader.consume` as the domain_events consumer delivers them, "
        "in-process under moto.",
        "",
        "| run | readings | events | wall time | DynamoDB calls | per reading | operations per event |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| history | {readings:,} | {events:,} | {full_s:.1f} s | {full_d:,} | {full_d / readings:.2f} | "
        f"{_ops(full_calls, events)} |",
        *([] if readings >= TARGET else [
            f"| history at {TARGET:,} ({measured}) | {TARGET:,} | {round(events * scale):,} | {full_s * scale:.0f} s | "
            f"{round(full_d * scale):,} | {full_d / readings:.2f} | same |"]),
        f"| then {INCREMENT:,} new readings | {INCREMENT:,} | {len(more):,} | {inc_s:.1f} s | {inc_d:,} | "
        f"{inc_d / INCREMENT:.2f} | {_ops(inc_calls, len(more))} |",
        "",
        f"The incremental run costs {inc_d / INCREMENT:.2f} calls per new reading against {full_d / readings:.2f} "
        "for the history: in proportion to the new readings, never to the history (no event reads another's "
        "buckets).",
        "",
        f"Insights job after the history: {job.get('readers', 0)} marked readers evaluated, "
        f"{job.get('badges', 0)} badges awarded, {job_s:.1f} s, {_dynamo(job_calls):,} DynamoDB calls "
        f"({_dynamo(job_calls) / max(job.get('readers', 0), 1):.1f} per reader: {_ops(job_calls, 1)}). "
        f"After the {INCREMENT:,} new readings: {inc_job.get('readers', 0)} marked readers, "
        f"{inc_job.get('badges', 0)} badges, {inc_job_s:.1f} s, {_dynamo(inc_job_calls):,} DynamoDB calls "
        "(the job reads only the readers the new events marked).",
        "",
        f"`GET /reader/metrics?attribute=<one of the reader's tools>&period=last_6_months` (warm, n={len(get_calls)}): "
        f"{_dynamo(get_total) / len(get_calls):.1f} DynamoDB calls per request ({_ops(get_total, len(get_calls))}), "
        f"p50 {sorted(get_ms)[len(get_ms) // 2]:.1f} ms.",
    ]


def section(readings: int, readers: int, issuer: Any) -> list[str]:
    print(f"reader metrics: {readings:,} readings for {readers} readers, then {INCREMENT:,}...", file=sys.stderr)
    started = time.perf_counter()
    lines = measure(readings, readers, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.split("\n")[0])
    parser.add_argument("--readings", type=int, default=3_000)
    parser.add_argument("--readers", type=int, default=200)
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.readings, args.readers, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
