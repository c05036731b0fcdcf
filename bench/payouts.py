"""Reader payouts for ``make bench``: DynamoDB calls (and in-process latency under moto) of a
payout on request, of its transfer, of the weekly payout run per reader and of the hourly
maturation per reading (issue 18's figures).

The world: the default catalog; ``readers`` approved readers (default 100), each with an
enabled payout account and 200 credits available for payout (paid and matured through the
ledger's own movements), the local payments gateway (a transfer is recorded, not sent).

* ``POST /reader/payouts``: a reader pays out 100 credits (a different reader each request).
* ``payout.requested`` consumer: the transfer of one of those payouts and the payout marked
  paid (the lock released, ``payout.sent`` emitted).
* weekly run (``scheduled.pay_due``): every reader paid what is left; calls per reader.
* maturation (``maturity.mature_due``): ``readers`` readings due; calls per reading.

Run alone: ``.venv/bin/python -m bench.payouts [--readers 100] [--runs 50]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import counting

NAME = "payouts"  # what ``bench.run --scenario`` matches to run this section alone
READER = "user_bench_payee_{:04d}"
PAYABLE = 200
WARMUPS = 3


@dataclass
class Measured:
    name: str
    target: str
    per: str = "request"
    calls: list[Counter[tuple[str, str]]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    units: int = 0  # readers or readings a batch covered (per-unit figures), 0: one per measure

    def dynamodb(self) -> list[int]:
        return [sum(n for (service, _), n in c.items() if service == "dynamodb") for c in self.calls]


def _readers(count: int) -> list[str]:
    """``count`` approved readers, each with an enabled payout account and ``PAYABLE`` credits
    available for payout (a reading's pay, then its maturation, through the ledger)."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.payouts import STATUS_ENABLED, PayoutAccountItem
    from chalicelib.models.users import User

    now = iso(utcnow())
    ids = []
    for n in range(count):
        reader_id = READER.format(n)
        User(
            user_id=reader_id, role="reader", status="active", display_name=f"Payee {n}", created_at=now, updated_at=now
        ).save()
        PayoutAccountItem(
            reader_id=reader_id,
            account_id=f"acct_local_bench_{n}",
            status=STATUS_ENABLED,
            details_submitted=True,
            payouts_enabled=True,
            requirements_due=[],
            created_at=now,
            updated_at=now,
        ).save()
        _earn(reader_id, PAYABLE, f"bench:{reader_id}")
        ids.append(reader_id)
    return ids


def _earn(reader_id: str, credits: int, ref: str, *, mature: bool = True) -> None:
    """``credits`` earned by ``reader_id`` (platform revenue paid to earnings), matured unless told."""
    from chalicelib.services import ledger
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    ledger.post(
        tx,
        ledger.Movement(
            entry_id=f"{ref}:revenue",
            kind="capture",
            ref=ref,
            postings=(("external:promotions", -credits), ("platform:revenue", credits)),
        ),
    )
    tx.commit()
    ledger.apply(lambda tx: ledger.pay_reader(tx, reader_id, credits, fee=0, entry_id=f"{ref}:pay", ref=ref))
    if mature:
        ledger.apply(
            lambda tx: ledger.mature(tx, ledger.read_user(reader_id), credits, entry_id=f"{ref}:mature", ref=ref),
            retry_on=ledger.balance_moved(reader_id),
        )


def _due_rows(readers: list[str], at: datetime) -> None:
    """One pending reading per reader whose dispute window closed by ``at``."""
    from chalicelib.services.payouts import maturity
    from chalicelib.services.tx import Transaction

    for n, reader_id in enumerate(readers):
        ref = f"bench-due-{n}"
        _earn(reader_id, 30, ref, mature=False)
        tx = Transaction()
        maturity.schedule(
            tx, ref, reader_id, 30, completed_at=(at - timedelta(days=15)).isoformat().replace("+00:00", "Z")
        )
        tx.commit()


def _measure(measured: Measured, work: Any, units: int = 0) -> Any:
    counting.start()
    began = time.perf_counter_ns()
    result = work()
    measured.ms.append((time.perf_counter_ns() - began) / 1e6)
    measured.calls.append(counting.stop().calls)
    measured.units += units
    return result


def measure(readers: int, runs: int, issuer: Any) -> list[Measured]:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import environment
    from bench.notifications import _one_rollback_copy
    from bench.scenarios import Harness
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.integrations import payments
    from chalicelib.services import catalog, catalog_defaults
    from chalicelib.services.payouts import maturity, scheduled, transfers
    from tools.resources import create_all

    request = Measured("POST /reader/payouts", "1 transaction + reads (auth GetItem, payout state, payout account)")
    transfer = Measured(
        "payout.requested consumer (the transfer, the payout marked paid)",
        "payout GetItem + 1 transaction (+ 1 GetItem of the result)",
    )
    weekly = Measured(
        "weekly payout run, per reader paid",
        "per page: 1 Query + 2 BatchGetItem; 1 transaction per reader",
        per="reader",
    )
    matured = Measured(
        "maturation job, per reading due",
        "1 Query per due shard; per reading: 3 GetItem + 1 transaction",
        per="reading",
    )
    runs = min(runs, readers - WARMUPS)
    with mock_aws(), _one_rollback_copy():
        aws_clients.reset()
        catalog.forget_cached()
        payments.gateway.cache_clear()
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            catalog.upsert(catalog_defaults.default_items())
            ids = _readers(readers)
            with Client(app) as client:
                harness = Harness(client, issuer)
                made = []
                for n in range(runs + WARMUPS):
                    harness.token(ids[n])
                    response = _measure(
                        request,
                        lambda n=n: harness.request("POST", "/reader/payouts", as_user=ids[n], body={"credits": 100}),
                    )
                    if response.status_code != 201:
                        raise RuntimeError(f"POST /reader/payouts: {response.status_code} {response.body[:300]!r}")
                    made.append(response.json_body["id"])
                for payout_id in made:
                    _measure(transfer, lambda payout_id=payout_id: transfers.send_transfer(payout_id))
                for m in (request, transfer):
                    del m.calls[:WARMUPS], m.ms[:WARMUPS]
                # Monday: the default schedule's day. Every reader has 100 or 200 credits left.
                monday = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
                run = _measure(weekly, lambda: scheduled.pay_due(now=monday, force=True))
                weekly.units = int(run["paid"])
                due_at = monday + timedelta(hours=1)
                _due_rows(ids, due_at)
                figures = _measure(matured, lambda: maturity.mature_due(now=due_at))
                matured.units = int(figures["matured"])
        finally:
            aws_clients.reset()
            catalog.forget_cached()
            payments.gateway.cache_clear()
    return [request, transfer, weekly, matured]


def _operations(calls: list[Counter[tuple[str, str]]], units: int) -> str:
    total: Counter[tuple[str, str]] = Counter()
    for c in calls:
        total.update(c)
    per = units or len(calls)
    return ", ".join(f"{op} x{n / per:.3g}" for (service, op), n in sorted(total.items()) if service == "dynamodb")


def lines(results: list[Measured], readers: int) -> list[str]:
    header = ["Measure", "DynamoDB calls per unit", "Operations per unit", "Target", "n", "p50 ms", "p99 ms"]
    rows = []
    for m in results:
        total = sum(m.dynamodb())
        per_unit = total / (m.units or len(m.calls))
        if m.units:
            n, p50, p99 = f"{m.units} {m.per}s", f"{m.ms[0] / m.units:.2f} per {m.per}", "-"
        else:
            cuts = statistics.quantiles(m.ms, n=100, method="inclusive") if len(m.ms) > 1 else [m.ms[0]] * 99
            n, p50, p99 = str(len(m.ms)), f"{cuts[49]:.2f}", f"{cuts[98]:.2f}"
        rows.append([f"`{m.name}`", f"{per_unit:.2f}", _operations(m.calls, m.units), m.target, n, p50, p99])
    table = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] * len(header)) + " |"]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [
        "## Reader payouts",
        "",
        f"In-process under moto (`chalice.test.Client`; the local payments gateway records transfers). "
        f"{readers} readers with an enabled payout account and {PAYABLE} credits available each. The payout and "
        "its transfer are per request (the request's own user GetItem included); the weekly run and the "
        "maturation are one run each, divided by the readers paid or the readings matured. moto's per-item "
        "table copy in TransactWriteItems is skipped, as in the notification figures.",
        "",
        *table,
    ]


def section(readers: int, runs: int, issuer: Any) -> list[str]:
    print(f"payouts: {readers} readers, {runs} payout requests...", file=sys.stderr)
    started = time.perf_counter()
    results = measure(readers, runs, issuer)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines(results, readers)


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(prog="python -m bench.payouts", description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=100, help="readers with payouts enabled (default 100)")
    parser.add_argument("--runs", type=int, default=50, help="timed payout requests (default 50)")
    args = parser.parse_args(argv)
    counting.install()
    issuer = environment.prepare(environment.keys_dir())
    print("\n".join(section(args.readers, args.runs, issuer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
