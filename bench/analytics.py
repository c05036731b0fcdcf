"""``POST /events`` figures for ``make bench``: a full batch of 50 client events, DynamoDB
calls and latency per request. Importing this module adds its scenarios to
``bench.scenarios.SCENARIOS`` (bench/run.py imports it).

* a typical batch: 5 profile views of one reader among 45 other events (searches, page
  views, booking funnel), sent by an anonymous session;
* the worst case: 50 profile views;
* a batch sent again (a client retrying after a timeout): stored over itself, counted never.

Each timed request sends new event ids (except the resend), so every view is counted. The
reader's timezone is cached per container after the first batch (the warm-ups), so the
timed requests show no profile read; a cold container adds one BatchGetItem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench.scenarios import BENCH_READER, SCENARIOS, Harness, Scenario, approved_reader

SESSION = "s_bench_session_0001"


def _at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(kind: str, event_id: str) -> dict[str, Any]:
    base = {"eventId": event_id, "occurredAt": _at()}
    if kind == "view_reader":
        return {**base, "type": "view_reader", "readerId": BENCH_READER, "source": "explore"}
    if kind == "search":
        return {**base, "type": "search", "query": "tarot love", "results": 24, "attributeIds": ["tarot"],
                "onlineOnly": True}
    if kind == "start_booking":
        return {**base, "type": "start_booking", "readerId": BENCH_READER, "readingType": "phone_call"}
    return {**base, "type": "view_page", "page": "explore"}


def batch(n: int, views: int) -> dict[str, Any]:
    others = ("search", "view_page", "start_booking")
    kinds = ["view_reader"] * views + [others[i % len(others)] for i in range(50 - views)]
    return {"sessionId": SESSION, "events": [_event(kind, f"bench-{n:06d}-{i:02d}") for i, kind in enumerate(kinds)]}


def _post(views: int) -> Any:
    def operation(harness: Harness, n: int) -> Any:
        return harness.request("POST", "/events", body=batch(n, views))
    return operation


_SENT_AGAIN = batch(0, 5)


def _resend(harness: Harness, n: int) -> Any:
    return harness.request("POST", "/events", body=_SENT_AGAIN)


SCENARIOS.extend([
    Scenario("POST /events (50 events, 5 profile views)", "POST", "/events", setup=approved_reader,
             operation=_post(5), target="2 BatchWriteItem + 1 TransactWriteItems per view (7)", dynamodb_target=7),
    Scenario("POST /events (50 profile views)", "POST", "/events", setup=approved_reader, operation=_post(50),
             target="2 BatchWriteItem + 1 TransactWriteItems per view (52)", dynamodb_target=52),
    Scenario("POST /events (the same batch again)", "POST", "/events", setup=approved_reader, operation=_resend,
             target="2 BatchWriteItem + 1 failed TransactWriteItems per view (7)", dynamodb_target=7),
])
