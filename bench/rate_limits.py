"""The rate limiter's cost for ``make bench`` (issue 16): DynamoDB calls and latency added to a
limited request, in-process under moto through ``chalice.test.Client``.

The rest of the bench runs with ``RATE_LIMITS=*=off`` (bench/environment.py), so its rows
show each route's own work; here the same requests run with the limiter off and on, in
alternation (request ``n`` off, ``n + 1`` on, so a change in the machine's load hits both
alike), for a light public read and for the issue's checkout:

* ``GET /readers/{readerId}``, anonymous (``public_reads``, counted per IP address);
* ``POST /credits/checkout``, signed in (``checkout``, counted per user);
* the same checkout once the caller is over the limit (the 429: authentication, the refused
  conditional write, nothing else);
* ``rate_limits.admit`` alone, the service call (one UpdateItem).

"On" is a limit no request reaches; the counter is the same single UpdateItem either way.

Run alone: ``.venv/bin/python -m bench.rate_limits [--runs 200]``, or
``bench.run --scenario rate-limits``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import counting

NAME = "rate-limits"  # what ``bench.run --scenario`` matches to run this section alone
WARMUPS = 3
OFF = "*=off"
ON = "*=1000000000/86400"
REFUSING = "*=off,checkout=1/86400"
BUYER = "user_bench_rate_limited"
OVER = "user_bench_over_the_limit"  # a counter of its own: the refused requests


@dataclass
class Measured:
    name: str
    status: int
    calls: list[Counter[tuple[str, str]]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def dynamodb(self) -> list[int]:
        return [sum(n for (service, _), n in c.items() if service == "dynamodb") for c in self.calls]

    def p(self, q: int) -> float:
        if len(self.ms) == 1:
            return self.ms[0]
        return statistics.quantiles(self.ms, n=100, method="inclusive")[q - 1]


def _limits(value: str) -> None:
    """RATE_LIMITS for the next requests: settings are read again here, outside a request
    (chalice's test client swaps the environment while it serves one)."""
    from chalicelib.config import get_settings

    os.environ["RATE_LIMITS"] = value
    get_settings.cache_clear()
    get_settings()


def _once(measured: Measured, request: Callable[[], Any], timed: bool) -> None:
    counting.start()
    began = time.perf_counter_ns()
    response = request()
    elapsed = time.perf_counter_ns() - began
    calls = counting.stop().calls
    if response.status_code != measured.status:
        raise RuntimeError(
            f"{measured.name}: {response.status_code} (expected {measured.status}) "
            f"{getattr(response, 'body', b'')[:300]!r}"
        )
    if timed:
        measured.calls.append(calls)
        measured.ms.append(elapsed / 1e6)


def _alternating(off: Measured, on: Measured, runs: int, request: Callable[[], Any]) -> None:
    for n in range(WARMUPS + runs):
        for measured, limits in ((off, OFF), (on, ON)) if n % 2 == 0 else ((on, ON), (off, OFF)):
            _limits(limits)
            _once(measured, request, timed=n >= WARMUPS)


class _Admitted:
    status_code = 200


def measure(runs: int, issuer: Any) -> list[Measured]:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import environment
    from bench.scenarios import BENCH_READER, Harness, approved_reader
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User
    from chalicelib.services import catalog, rate_limits
    from tools.resources import create_all

    card_off, card_on = (
        Measured("GET /readers/{readerId} (anonymous), limiter off", 200),
        Measured("GET /readers/{readerId} (anonymous), limiter on", 200),
    )
    buy_off, buy_on = (
        Measured("POST /credits/checkout, limiter off", 201),
        Measured("POST /credits/checkout, limiter on", 201),
    )
    refused = Measured("POST /credits/checkout over the limit (429)", 429)
    alone = Measured("rate_limits.admit alone (service call)", 200)
    saved = os.environ.get("RATE_LIMITS")
    with mock_aws():
        aws_clients.reset()
        catalog.forget_cached()
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            with Client(app) as client:
                harness = Harness(client, issuer)
                approved_reader(harness, None)  # type: ignore[arg-type]  # (with the default catalog)
                now = iso(utcnow())
                for user_id in (BUYER, OVER):
                    User(user_id=user_id, role="client", status="active", created_at=now, updated_at=now).save()
                    harness.token(user_id)

                def card() -> Any:
                    return harness.request("GET", f"/readers/{BENCH_READER}")

                def checkout(user_id: str = BUYER) -> Any:
                    return harness.request("POST", "/credits/checkout", as_user=user_id, body={"packageId": "seeker"})

                _alternating(card_off, card_on, runs, card)
                _alternating(buy_off, buy_on, runs, checkout)
                _limits(REFUSING)
                if checkout(OVER).status_code != 201:  # the one request the window admits
                    raise RuntimeError("the first checkout under a limit of 1 was refused")
                for n in range(WARMUPS + runs):
                    _once(refused, lambda: checkout(OVER), timed=n >= WARMUPS)
                _limits(ON)

                def admit() -> _Admitted:
                    rate_limits.admit("public_reads", user_id=None, source_ip="203.0.113.7")
                    return _Admitted()

                for n in range(WARMUPS + runs):
                    _once(alone, admit, timed=n >= WARMUPS)
        finally:
            if saved is None:
                os.environ.pop("RATE_LIMITS", None)
            else:
                os.environ["RATE_LIMITS"] = saved
            from chalicelib.config import get_settings

            get_settings.cache_clear()
            get_settings()  # read outside a request (see _limits)
            aws_clients.reset()
            catalog.forget_cached()
    return [card_off, card_on, buy_off, buy_on, refused, alone]


def _operations(calls: list[Counter[tuple[str, str]]]) -> str:
    total: Counter[tuple[str, str]] = Counter()
    for c in calls:
        total.update(c)
    return ", ".join(f"{op} x{n / len(calls):g}" for (_service, op), n in sorted(total.items())) or "none"


def _count(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high} (mean {statistics.fmean(values):.2f})"


def lines(results: list[Measured]) -> list[str]:
    card_off, card_on, buy_off, buy_on, refused, alone = results
    rows = [
        [
            f"`{m.name}`",
            _count(m.dynamodb()),
            _operations(m.calls),
            str(len(m.ms)),
            f"{m.p(50):.2f}",
            f"{m.p(95):.2f}",
            f"{m.p(99):.2f}",
        ]
        for m in results
    ]
    table = [
        "| Request | DynamoDB calls | Operations per request | n | p50 | p95 | p99 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]

    def added(off: Measured, on: Measured) -> str:
        calls = statistics.fmean(on.dynamodb()) - statistics.fmean(off.dynamodb())
        return f"{calls:+g} DynamoDB call, p50 {on.p(50) - off.p(50):+.2f} ms, p99 {on.p(99) - off.p(99):+.2f} ms"

    return [
        "## Rate limiter",
        "",
        "In-process under moto (`chalice.test.Client`), the limiter off and on in alternation, "
        f"{WARMUPS} untimed warm-ups each; latencies in ms. The other sections run with the limiter off "
        "(`RATE_LIMITS=*=off`); in a deployed stage every limited request pays the difference below.",
        "",
        *table,
        "",
        f"- Added by the limiter to `GET /readers/{{readerId}}`: {added(card_off, card_on)}.",
        f"- Added to `POST /credits/checkout`: {added(buy_off, buy_on)}.",
        f"- The limiter alone: p50 {alone.p(50):.2f} ms, p99 {alone.p(99):.2f} ms for its one UpdateItem "
        f"({_operations(alone.calls)}); a refused request costs {_count(refused.dynamodb())} DynamoDB calls "
        f"(p50 {refused.p(50):.2f} ms) and creates nothing.",
    ]


def section(runs: int, issuer: Any) -> list[str]:
    print(f"rate limiter: {runs} requests per route and mode...", file=sys.stderr)
    started = time.perf_counter()
    results = measure(runs, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines(results)


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.rate_limits", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed requests per route and mode (default 200)")
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.runs, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
