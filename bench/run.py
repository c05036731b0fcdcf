"""``make bench``: cold start and per-request figures, printed as Markdown and written to bench/results.md.

Usage: ``.venv/bin/python -m bench.run [--runs N] [--max-seconds S] [--cold-runs N] [--no-cold-start]
[--scenario NAME ...] [--explore-sizes N,N] [--notification-recipients N] [--statuses N] [--output PATH]``.
Performance is measured and reported, never asserted; the exit status is non-zero only when
the bench itself could not run a scenario (an error or an unexpected response status).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import analytics as analytics_bench  # noqa: F401 - adds the POST /events scenarios
from bench import coldstart, counting, environment
from bench import dashboard as dashboard_bench  # noqa: F401 - adds the GET /dashboard scenarios
from bench import explore as explore_bench
from bench import metrics as metrics_bench
from bench import notifications as notifications_bench
from bench import payouts as payouts_bench
from bench import platform_metrics as platform_metrics_bench  # noqa: F401 - adds the GET /admin/metrics scenarios
from bench import rate_limits as rate_limits_bench
from bench import statuses as statuses_bench
from bench.scenarios import SCENARIOS, Harness, Scenario

WARMUP_REQUESTS = 3
APP_TO_BOTO3_TARGET = 1.5
TOP_PACKAGES = 8
IMPORTTIME_RUNS = 3
VERSIONS_OF = ("boto3", "botocore", "pynamodb", "moto", "chalice", "pydantic")
LATENCY_NOTE = ("Latency is measured in-process with `chalice.test.Client` under moto's `mock_aws`: it covers the "
                "app's code, token verification, botocore serialisation and moto's emulation of AWS, not network "
                "round trips. Compare figures from the same machine only.")


@dataclass
class ScenarioResult:
    scenario: Scenario
    latencies_ms: list[float] = field(default_factory=list)
    aws_ms: list[float] = field(default_factory=list)  # of each latency, the time inside AWS calls
    calls: list[Counter[tuple[str, str]]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    error: str | None = None

    def per_request(self, service: str) -> list[int]:
        return [sum(n for (svc, _), n in calls.items() if svc == service) for calls in self.calls]

    @property
    def failed(self) -> bool:
        return self.error is not None or set(self.statuses) - {self.scenario.status} != set()


# --- measuring -----------------------------------------------------------------------------------


def run_scenario(scenario: Scenario, issuer: Any, runs: int, max_seconds: float) -> ScenarioResult:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.integrations import aws as aws_clients
    from tools.resources import create_all

    result = ScenarioResult(scenario)

    counter = iter(range(1 << 30))

    def call(harness: Harness) -> Any:
        if scenario.operation is not None:
            return scenario.operation(harness, next(counter))
        return harness.request(scenario.method, scenario.path, as_user=scenario.as_user, body=scenario.body,
                               headers=scenario.headers)

    with mock_aws():
        aws_clients.reset()
        try:
            create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
            with Client(app) as client:
                harness = Harness(client, issuer)
                if scenario.as_user:
                    harness.token(scenario.as_user)  # minted outside the timed loop
                if scenario.setup is not None:
                    scenario.setup(harness, scenario)
                for _ in range(WARMUP_REQUESTS):
                    response = call(harness)
                    if response.status_code != scenario.status:
                        raise RuntimeError(f"warm-up got {response.status_code}, expected {scenario.status}: "
                                           f"{response.body[:300]!r}")
                deadline = time.perf_counter() + max_seconds if max_seconds > 0 else None
                for _ in range(runs):
                    counting.start()
                    started = time.perf_counter_ns()
                    response = call(harness)
                    elapsed = time.perf_counter_ns() - started
                    recording = counting.stop()
                    result.calls.append(recording.calls)
                    result.aws_ms.append(recording.aws_ms)
                    result.latencies_ms.append(elapsed / 1e6)
                    result.statuses[response.status_code] += 1
                    if deadline is not None and time.perf_counter() > deadline:
                        break
        except Exception as exc:  # noqa: BLE001 - one broken scenario is reported, the others still run
            counting.stop()
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            aws_clients.reset()
    return result


# --- rendering -------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    body = [[cell.replace("|", "\\|").replace("\n", " ") for cell in cells] for cells in [header, *rows]]
    return ["| " + " | ".join(cells) + " |" for cells in [body[0], rule, *body[1:]]]


def _count(values: list[int]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high} (mean {statistics.fmean(values):.2f})"


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _operations(result: ScenarioResult) -> str:
    total: Counter[tuple[str, str]] = Counter()
    for calls in result.calls:
        total.update(calls)
    runs = len(result.calls)
    parts = []
    for (service, operation), n in sorted(total.items()):
        per = n / runs
        parts.append(f"{service}.{operation} x{per:g}" if per == int(per) else f"{service}.{operation} x{per:.2f}")
    return ", ".join(parts) or "none"


def _versus_target(result: ScenarioResult) -> str:
    target = result.scenario.dynamodb_target
    if target is None or not result.calls:
        return "-"
    worst = max(result.per_request("dynamodb"))
    return "ok" if worst <= target else f"**over by {worst - target}**"


def scenario_rows(results: list[ScenarioResult]) -> list[list[str]]:
    rows = []
    for r in results:
        name = f"`{r.scenario.name}`"
        if r.error or not r.latencies_ms:
            rows.append([name, "-", "-", "-", "-", r.scenario.target or "-", "-", "-", "-", "-", "-", "-",
                         f"**error**: {r.error or 'no runs'}"])
            continue
        p50, p95, p99 = _percentiles(r.latencies_ms)
        statuses = ", ".join(f"{code} x{n}" for code, n in sorted(r.statuses.items()))
        if r.failed:
            statuses = f"**{statuses}** (expected {r.scenario.status})"
        rows.append([name, _count(r.per_request("dynamodb")), _count(r.per_request("s3")),
                     _count(r.per_request("sqs")), _operations(r), r.scenario.target or "-", _versus_target(r),
                     str(len(r.latencies_ms)), f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}",
                     f"{statistics.median(r.aws_ms):.2f}", statuses])
    return rows


def _git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=environment.ROOT, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=environment.ROOT, capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class ColdStartFigures:
    timed: coldstart.ColdStart
    packages: list[coldstart.PackageCost]
    importtime_total_ms: float
    first_party_ms: float
    groups: dict[str, list[float]] = field(default_factory=dict)


def _load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def header_lines(elapsed_s: float, load_at_start: str) -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        "# Auralumic bench results",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: nproc {usable} ({os.cpu_count()} CPUs), {_cpu_model()}, {platform.system()} "
        f"{platform.release()}; load average at start {load_at_start}",
        f"- Python {platform.python_version()} ({sys.executable})",
        "- Versions: " + ", ".join(f"{p} {_version(p)}" for p in VERSIONS_OF),
        f"- Commit: {_git_revision()}",
        f"- Bench runtime: {elapsed_s:.1f} s",
    ]


def cold_start_lines(cold: ColdStartFigures) -> list[str]:
    timed = cold.timed
    lines = [
        "## Cold start",
        "",
        f"Median of {len(timed.runs['app'])} fresh interpreters each, `time.perf_counter()` around the import only "
        "(interpreter start-up excluded), bytecode caches warm.",
        "",
    ]
    boto3_ms, app_ms = timed.median("boto3"), timed.median("app")
    ratio = app_ms / boto3_ms
    verdict = "ok" if ratio <= APP_TO_BOTO3_TARGET else "**over target**"
    runs_text = {m: ", ".join(f"{v:.0f}" for v in values) for m, values in timed.runs.items()}
    lines += _table(
        ["Measure", "Median", "Runs (ms)", "Target"],
        [["`import boto3`", f"{boto3_ms:.0f} ms", runs_text["boto3"], "baseline"],
         ["`import app`", f"{app_ms:.0f} ms", runs_text["app"],
          f"<= {APP_TO_BOTO3_TARGET}x boto3 (<= {boto3_ms * APP_TO_BOTO3_TARGET:.0f} ms)"],
         ["Ratio app / boto3", f"{ratio:.2f}x", "", f"<= {APP_TO_BOTO3_TARGET}x: {verdict}"]],
        "lrll",
    )
    if cold.groups:
        lines += [
            "",
            "### Import time per function group",
            "",
            "What each Lambda's cold start imports: the API function imports `app` (routes from a table, no "
            "handler: chalicelib/routing.py) and its first request adds the injected services and the handler "
            "module that serves it; a job's function imports its own module, then what the job imports as it runs "
            "(bench/coldstart.py `function_groups`). Median of fresh interpreters, against `import boto3`.",
            "",
        ]
        lines += _table(
            ["Function group", "Median", "x boto3"],
            [[label, f"{statistics.median(values):.0f} ms", f"{statistics.median(values) / boto3_ms:.2f}x"]
             for label, values in cold.groups.items()],
            "lrr",
        )
    lines += [
        "",
        f"### Heaviest packages imported by `app` (top {TOP_PACKAGES}, `-X importtime`, median of "
        f"{IMPORTTIME_RUNS} runs)",
        "",
        "*Cumulative* is the time spent importing the package wherever it was imported from outside itself, "
        "including whatever it pulled in that was not loaded yet (so rows overlap); *self* is its own modules only; "
        "*imported by* names the (up to 3) costliest importing modules: where to look to make an import lazy. "
        f"`-X importtime` adds overhead (median total {cold.importtime_total_ms:.0f} ms); first-party code "
        f"(`app`, `chalicelib`) took {cold.first_party_ms:.0f} ms self.",
        "",
    ]
    lines += _table(
        ["#", "Package", "Cumulative ms", "Self ms", "Modules", "Imported by (cumulative ms)"],
        [[str(i), f"`{c.package}`" + (" (stdlib)" if c.is_stdlib else ""), f"{c.cumulative_ms:.0f}",
          f"{c.self_ms:.0f}", str(c.modules),
          ", ".join(f"`{name}` ({ms:.0f})" for name, ms in c.top_importers())]
         for i, c in enumerate(cold.packages[:TOP_PACKAGES], 1)],
        "rlrrrl",
    )
    return lines


def request_lines(results: list[ScenarioResult], runs: int, max_seconds: float) -> list[str]:
    budget = f"fewer when the scenario hit its {max_seconds:g} s budget" if max_seconds > 0 else "no time budget"
    lines = [
        "## Requests",
        "",
        f"Up to {runs} warm requests per scenario (*n*: {budget}), after {WARMUP_REQUESTS} untimed warm-ups, each "
        "scenario in a fresh moto account. Calls are AWS API calls per request (boto3 and PynamoDB alike, counted "
        "with botocore `before-call` hooks). Latencies in ms; *in AWS calls* is the median time per request spent "
        "between `before-call` and `after-call`, i.e. in botocore and moto rather than in the app.",
        "",
        f"> {LATENCY_NOTE}",
        "",
    ]
    lines += _table(
        ["Scenario", "DynamoDB", "S3", "SQS", "Operations per request", "Target", "vs target", "n", "p50", "p95",
         "p99", "in AWS calls (p50)", "Status"],
        scenario_rows(results),
        "lrrrlllrrrrrl",
    )
    return lines


def render(cold: ColdStartFigures | None, results: list[ScenarioResult], runs: int, max_seconds: float,
           elapsed_s: float, load_at_start: str, explore: list[str] | None = None,
           notifications: list[str] | None = None, statuses: list[str] | None = None) -> str:
    sections = [header_lines(elapsed_s, load_at_start)]
    if cold is not None:
        sections.append(cold_start_lines(cold))
    if results:
        sections.append(request_lines(results, runs, max_seconds))
    if explore:
        sections.append(explore)
    if notifications:
        sections.append(notifications)
    if statuses:
        sections.append(statuses)
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


# --- entry point -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed warm requests per scenario (default 200)")
    parser.add_argument("--max-seconds", type=float, default=8.0,
                        help="time budget per scenario; stops before --runs when exceeded (default 8, 0: none)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters per import (default 5)")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the cold start section")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME",
                        help="only scenarios whose name contains NAME (repeatable)")
    parser.add_argument("--explore-sizes", default="10000,100000", metavar="N,N",
                        help="generated readers for the explore figures (default 10000,100000; '' skips them)")
    parser.add_argument("--notification-recipients", type=int, default=10_000, metavar="N",
                        help="admins one event fans out to in the notification figures (default 10000, about "
                             "2 min under moto; 0 skips them)")
    parser.add_argument("--metrics-readings", type=int, default=1_000, metavar="N",
                        help="generated readings applied to the reader metrics (the 100,000 figure is "
                             "extrapolated from them; 0 skips)")
    parser.add_argument("--statuses", type=int, default=200, metavar="N",
                        help="active statuses in the statuses figures (default 200; 0 skips them; "
                             "--scenario statuses runs them alone)")
    parser.add_argument("--rate-limit-runs", type=int, default=200, metavar="N",
                        help="requests per route and mode in the rate limiter figures (default 200, at most --runs; "
                             "0 skips them; --scenario rate-limits runs them alone)")
    parser.add_argument("--payout-readers", type=int, default=100, metavar="N",
                        help="readers with payouts enabled in the payout figures (default 100; 0 skips them; "
                             "--scenario payouts runs them alone)")
    parser.add_argument("--output", type=Path, default=environment.ROOT / "bench" / "results.md",
                        help="where to write the Markdown (default bench/results.md)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_at_start = _load_average()
    counting.install()  # before any botocore session exists, so it sees PynamoDB's and boto3's clients
    keys = environment.keys_dir()
    issuer = environment.prepare(keys)

    cold = None
    if not args.no_cold_start:
        print(f"cold start: {args.cold_runs} runs each of `import boto3` and `import app`...", file=sys.stderr)
        env = environment.subprocess_env(keys)
        timed = coldstart.measure(env, args.cold_runs)
        cold = ColdStartFigures(timed, *coldstart.heaviest_packages(env, runs=IMPORTTIME_RUNS),
                                groups=coldstart.measure_groups(env, args.cold_runs))
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    selected = [s for s in SCENARIOS if not args.scenario or any(f in s.name for f in args.scenario)]
    results = []
    for scenario in selected:
        print(f"scenario {scenario.name}: {args.runs} requests...", file=sys.stderr)
        phase = time.perf_counter()
        results.append(run_scenario(scenario, issuer, args.runs, args.max_seconds))
        print(f"  done in {time.perf_counter() - phase:.1f} s", file=sys.stderr)

    sizes = [int(size) for size in args.explore_sizes.split(",") if size.strip()]
    explore = explore_bench.section(sizes, min(args.runs, 200)) if sizes and not args.scenario else None

    notifications = None
    if args.notification_recipients > 0 and not args.scenario:
        notifications = notifications_bench.section(args.notification_recipients, min(args.runs, 100), issuer)
    if args.metrics_readings > 0 and not args.scenario:  # reader metrics: 100,000 extrapolated (bench/metrics.py)
        notifications = [*(notifications or []), "", *metrics_bench.section(args.metrics_readings, 200, issuer)]

    statuses = None
    if args.statuses > 0 and (not args.scenario or any(f in statuses_bench.NAME for f in args.scenario)):
        statuses = statuses_bench.section(args.statuses, min(args.runs, 100), issuer)
    if args.rate_limit_runs > 0 and (not args.scenario or any(f in rate_limits_bench.NAME for f in args.scenario)):
        limiter = rate_limits_bench.section(min(args.runs, args.rate_limit_runs), issuer)
        statuses = [*statuses, "", *limiter] if statuses else limiter
    if args.payout_readers > 0 and (not args.scenario or any(f in payouts_bench.NAME for f in args.scenario)):
        paid = payouts_bench.section(args.payout_readers, min(args.runs, 50), issuer)
        statuses = [*statuses, "", *paid] if statuses else paid

    text = render(cold, results, args.runs, args.max_seconds, time.perf_counter() - started, load_at_start, explore,
                  notifications, statuses)
    print(text, end="")
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
