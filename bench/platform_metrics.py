"""Platform metrics figures for ``make bench``: ``GET /admin/metrics`` (DynamoDB calls and
latency per request) and what one domain event costs the platform counters. Importing this
module adds its scenarios to ``bench.scenarios.SCENARIOS`` (bench/run.py imports it).

The history: 90 days (2025-01-01 to 2025-03-31) of generated events, ``PER_DAY`` a day from
``USERS`` users (requests, completions, purchases, sign-ups), fed through the consumer as the
event queue would. The report for a month reads both months' day buckets of each of the 4
shards: 4 Queries, whatever the history's size, plus the admin's own GetItem (auth).

The event scenarios time ``platform.record`` on fresh event ids: a user already active that
day (their markers exist: one BatchGetItem, one transaction), a user's first event of the day
(the markers commit in the same transaction), and an event delivered again (refused by its
marker).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bench.notifications import _one_rollback_copy
from bench.scenarios import SCENARIOS, Harness, Scenario

ADMIN = "user_bench_admin_metrics"
FIRST_DAY = date(2025, 1, 1)
DAYS = 90
PER_DAY = 10
USERS = 200
KINDS = ("reading.requested", "reading.completed", "credits.purchased", "user.signed_up", "reading.accepted")


class Done:
    status_code = 200


def _message(n: int, day: date, user: str, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {"readingId": f"r{n}", "clientId": user, "readerId": "rdr_bench"}
    if kind == "reading.completed":
        data.update(by="client", paid=46, fee=11)
    elif kind == "reading.accepted":
        data.update(by="reader")
    elif kind in ("credits.purchased", "user.signed_up"):
        data = {"userId": user, "credits": 60, "amount": 2999, "currency": "usd"}
    return {"eventId": f"bench-{n:07d}", "type": kind, "occurredAt": f"{day.isoformat()}T12:00:00.000Z",
            "data": data}


def history(harness: Harness, scenario: Scenario) -> None:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User
    from chalicelib.services.metrics import platform

    now = iso(utcnow())
    User(user_id=ADMIN, role="admin", status="active", display_name="Bench Admin", created_at=now,
         updated_at=now).save()
    n = 0
    with _one_rollback_copy():  # fresh events, seeded one by one: no transaction cancels
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            for k in range(PER_DAY):
                platform.record(_message(n, day, f"user_bench_{(n * 7) % USERS:04d}", KINDS[k % len(KINDS)]))
                n += 1


def _report(period: str, on: str) -> Scenario:
    return Scenario(f"GET /admin/metrics ({period}, {DAYS} days of history)", "GET",
                    f"/admin/metrics?period={period}&date={on}", as_user=ADMIN, setup=history,
                    target="4 Query + 1 GetItem (auth)", dynamodb_target=5)


def _record(kind: str) -> Any:
    def operation(harness: Harness, n: int) -> Any:
        from chalicelib.services.metrics import platform

        day = FIRST_DAY + timedelta(days=DAYS)
        if kind == "again":
            platform.record(_message(0, day, "user_bench_again", "reading.requested"))
        else:
            user = "user_bench_active" if kind == "active" else f"user_bench_new_{n:06d}"
            platform.record(_message(10_000_000 + n, day, user, "reading.requested"))
        return Done()
    return operation


SCENARIOS.extend([
    _report("day", "2025-03-15"),
    _report("week", "2025-03-15"),
    _report("month", "2025-03-15"),
    Scenario("platform metrics: one event, user already active that day", "", "", operation=_record("active"),
             target="1 BatchGetItem + 1 TransactWriteItems", dynamodb_target=2),
    Scenario("platform metrics: one event, the user's first of the day", "", "", operation=_record("new"),
             target="1 BatchGetItem + 1 TransactWriteItems (with 3 markers)", dynamodb_target=2),
    Scenario("platform metrics: one event delivered again", "", "", operation=_record("again"),
             target="1 BatchGetItem + 1 cancelled TransactWriteItems", dynamodb_target=2),
])
