"""Client statuses and suggested readings for ``make bench``: DynamoDB calls per request and
latency of the readers' feed, a client's own list, a suggestion and an accept, in-process
under moto through ``chalice.test.Client``.

The world: the default catalog; ``statuses`` active statuses (default 200) posted through
``statuses.create`` by clients of 3 active statuses each, round-robin over the 4 default
categories (a fifth of the clients private: no name in the feed); the bench reader
(``bench.scenarios.approved_reader``: tools tarot and astrology, abilities clairvoyant and
empath), whose specialties match 2 categories (love, career), and two more approved readers.

* ``GET /statuses?limit=20``: the bench reader's first feed page (the matching categories,
  newest first).
* ``GET /statuses/mine``: a client with 3 active statuses of 3 suggestions each and 7 closed
  ones (one accepted).
* ``POST /statuses/{id}/suggestions``: the bench reader suggests a 30-minute phone call at a
  discount, on a different status each request.
* ``POST /statuses/{id}/suggestions/{sid}/accept``: a client accepts the bench reader's
  suggestion (an immediate phone call); the status and the suggestion are made before each
  request, outside the timing.

Every operation is printed with its count per request: the issue's target for accept is one
transaction plus at most three reads, the request's own user GetItem among them.

As in ``bench/notifications.py``, moto's per-item table copy in TransactWriteItems (kept to
roll back a cancelled transaction) is skipped: no transaction of this bench cancels.

Run alone: ``.venv/bin/python -m bench.statuses [--statuses 200] [--runs 100]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import counting

NAME = "statuses"  # what ``bench.run --scenario`` matches to run this section alone
WARMUPS = 3
ACTIVE_MAX = 3  # chalicelib.domain.statuses.ACTIVE_MAX (not imported before the environment is set)
POSTER = "user_bench_poster_{:03d}"
OWNER = "user_bench_status_owner"
ACCEPTER = "user_bench_accepter"
HELPERS = ("user_bench_reader_two", "user_bench_reader_three")
CONTENT = "I met someone at work and cannot tell whether the feeling is mutual; should I say something?"
TITLE = "Three-card relationship spread"
DESCRIPTION = "We look at the pattern, its root and the way out, card by card."
MESSAGE = "I read for this exact question often; I would love to help."
PRICE = 80  # below the bench reader's listed 86 for a 30-minute phone call: a discount
SUGGESTION = {"title": TITLE, "description": DESCRIPTION, "suggestedType": "phone_call", "estimatedDuration": 30,
              "suggestedPrice": PRICE, "message": MESSAGE}


@dataclass
class Measured:
    name: str
    target: str
    dynamodb_target: int | None
    status: int
    calls: list[Counter[tuple[str, str]]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def dynamodb(self) -> list[int]:
        return [sum(n for (service, _), n in c.items() if service == "dynamodb") for c in self.calls]


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _user(user_id: str, role: str, name: str, *, private: bool = False, credits: int = 0) -> None:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User

    now = iso(utcnow())
    User(user_id=user_id, role=role, status="active", display_name=name, created_at=now, updated_at=now,
         age_verified_at=now if role == "client" else None,
         preferences={"privacy": {"profileVisibility": "private" if private else "public"}}).save()
    if credits:
        from bench.scenarios import promotion

        promotion(user_id, credits, entry_id=f"bench:{user_id}:credits")


def _readers(harness: Any) -> None:
    """The bench reader (matching love and career) and two more approved readers like it."""
    from bench.scenarios import BENCH_READER, approved_reader
    from chalicelib.models.readers import ReaderProfile

    approved_reader(harness, None)  # type: ignore[arg-type]
    profile = ReaderProfile.get(BENCH_READER)
    for n, reader_id in enumerate(HELPERS):
        _user(reader_id, "reader", f"Helper Reader {n + 2}")
        data = profile.serialize()
        data.pop("version", None)  # a new item
        copy = ReaderProfile()
        copy.deserialize(data)
        copy.reader_id, copy.display_name = reader_id, f"Helper Reader {n + 2}"
        copy.save()


def _seed(count: int) -> list[str]:
    """``count`` active statuses, 3 per client, round-robin over the categories, newest last."""
    from chalicelib.models.users import User
    from chalicelib.services import catalog, statuses

    categories = sorted(catalog.status_categories())
    ids: list[str] = []
    for n in range(count):
        poster = POSTER.format(n // ACTIVE_MAX)
        if n % ACTIVE_MAX == 0:
            _user(poster, "client", f"Poster {n // ACTIVE_MAX} Smith", private=(n // ACTIVE_MAX) % 5 == 4)
        status = statuses.create(User.get(poster), content=f"{CONTENT} ({n})", mood="hopeful",
                                 category=categories[n % len(categories)])
        ids.append(status.status_id)
    return ids


def _suggest(reader_id: str, status_id: str) -> str:
    from chalicelib.services import statuses

    _, stored = statuses.suggest(reader_id, status_id, title=TITLE, description=DESCRIPTION,
                                 suggested_type="phone_call", option_id=None, duration=30, suggested_price=PRICE,
                                 message=MESSAGE, scheduled_at=None)
    return str(stored["id"])


def _owner_history() -> None:
    """The owner's 10 statuses: 7 closed (the first accepted), then 3 active, each answered by 3 readers."""
    from bench.scenarios import BENCH_READER
    from chalicelib.models.users import User
    from chalicelib.services import statuses

    _user(OWNER, "client", "Olivia Owner", credits=100_000)
    owner = User.get(OWNER)
    for n in range(10):
        status = statuses.create(owner, content=f"{CONTENT} (mine {n})", mood=None, category="love")
        suggestions = [_suggest(reader_id, status.status_id) for reader_id in (BENCH_READER, *HELPERS)]
        if n == 0:
            statuses.accept(User.get(OWNER, consistent_read=True), status.status_id, suggestions[0])
        elif n < 7:
            statuses.close(OWNER, status.status_id)


def _timed(harness: Any, measured: Measured, runs: int, request: Callable[[int], Any],
           prepare: Callable[[int], None] | None = None) -> None:
    for n in range(runs + WARMUPS):
        if prepare is not None:
            prepare(n)  # untimed, uncounted
        counting.start()
        began = time.perf_counter_ns()
        response = request(n)
        elapsed = time.perf_counter_ns() - began
        calls = counting.stop().calls
        if response.status_code != measured.status:
            raise RuntimeError(f"{measured.name}: {response.status_code} (expected {measured.status}) "
                               f"{response.body[:300]!r}")
        if n >= WARMUPS:
            measured.calls.append(calls)
            measured.ms.append(elapsed / 1e6)


def measure(count: int, runs: int, issuer: Any) -> list[Measured]:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import environment
    from bench.notifications import _one_rollback_copy
    from bench.scenarios import BENCH_READER, Harness
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.models.users import User
    from chalicelib.services import catalog, statuses
    from tools.resources import create_all

    feed = Measured("GET /statuses?limit=20 (a reader's feed page)",
                    "auth GetItem + profile GetItem + 1 Query per matching category (2) + authors BatchGet", 5, 200)
    mine = Measured("GET /statuses/mine (10 statuses, 9 suggestions on the active ones)",
                    "auth GetItem + 1 Query", 2, 200)
    suggest = Measured("POST /statuses/{id}/suggestions", "- (1 transaction + its reads)", None, 201)
    accept = Measured("POST /statuses/{id}/suggestions/{sid}/accept",
                      "1 transaction + <= 3 reads (auth GetItem included)", 4, 201)
    with mock_aws(), _one_rollback_copy():
        aws_clients.reset()
        catalog.forget_cached()  # nothing cached from another moto account
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            with Client(app) as client:
                harness = Harness(client, issuer)
                _readers(harness)
                feed_ids = _seed(count)
                _owner_history()
                _user(ACCEPTER, "client", "Alex Accepter", credits=10_000_000)
                for user_id in (BENCH_READER, OWNER, ACCEPTER):
                    harness.token(user_id)

                _timed(harness, feed, runs,
                       lambda n: harness.request("GET", "/statuses?limit=20", as_user=BENCH_READER))
                _timed(harness, mine, runs, lambda n: harness.request("GET", "/statuses/mine", as_user=OWNER))
                targets = feed_ids[-(runs + WARMUPS):]  # the newest: one suggestion per status and reader
                _timed(harness, suggest, min(runs, len(targets) - WARMUPS),
                       lambda n: harness.request("POST", f"/statuses/{targets[n]}/suggestions",
                                                 as_user=BENCH_READER, body=SUGGESTION))

                pending: dict[int, tuple[str, str]] = {}

                def offer(n: int) -> None:
                    status = statuses.create(User.get(ACCEPTER), content=f"{CONTENT} (accept {n})", mood=None,
                                             category="career")
                    pending[n] = (status.status_id, _suggest(BENCH_READER, status.status_id))

                def accept_one(n: int) -> Any:
                    status_id, suggestion_id = pending.pop(n)
                    return harness.request("POST", f"/statuses/{status_id}/suggestions/{suggestion_id}/accept",
                                           as_user=ACCEPTER, body={})

                _timed(harness, accept, runs, accept_one, offer)
        finally:
            aws_clients.reset()
            catalog.forget_cached()
    return [feed, mine, suggest, accept]


def _count(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high} (mean {statistics.fmean(values):.2f})"


def _operations(calls: list[Counter[tuple[str, str]]]) -> str:
    total: Counter[tuple[str, str]] = Counter()
    for c in calls:
        total.update(c)
    return ", ".join(f"{op} x{n / len(calls):g}" for (service, op), n in sorted(total.items())
                     if service == "dynamodb") or "none"


def _versus(m: Measured) -> str:
    if m.dynamodb_target is None:
        return "-"
    worst = max(m.dynamodb())
    return "ok" if worst <= m.dynamodb_target else f"**over by {worst - m.dynamodb_target}**"


def lines(results: list[Measured], count: int) -> list[str]:
    header = ["Request", "DynamoDB calls", "Operations per request", "Target", "vs target", "n", "p50", "p95",
              "p99"]
    rows = []
    for m in results:
        p50, p95, p99 = _percentiles(m.ms)
        rows.append([f"`{m.name}`", _count(m.dynamodb()), _operations(m.calls), m.target, _versus(m),
                     str(len(m.ms)), f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}"])
    table = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] * len(header)) + " |"]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [
        "## Statuses and suggested readings",
        "",
        f"In-process under moto (`chalice.test.Client`), {WARMUPS} untimed warm-ups each; latencies in ms. "
        f"{count} active statuses over the 4 default categories (3 per client); the reader's specialties match "
        "2 of them (love, career). *Operations per request* counts every DynamoDB call (the request's own user "
        "GetItem included). Accept: each request books a new suggestion (an immediate phone call) made before "
        "it, outside the timing. moto's per-item table copy in TransactWriteItems is skipped, as in the "
        "notification figures.",
        "",
        *table,
    ]


def section(count: int, runs: int, issuer: Any) -> list[str]:
    print(f"statuses: {count} active statuses, {runs} requests per route...", file=sys.stderr)
    started = time.perf_counter()
    results = measure(count, runs, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines(results, count)


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.statuses", description=__doc__.split("\n")[0])
    parser.add_argument("--statuses", type=int, default=200, help="active statuses in the feed (default 200)")
    parser.add_argument("--runs", type=int, default=100, help="timed requests per route (default 100)")
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.statuses, args.runs, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
