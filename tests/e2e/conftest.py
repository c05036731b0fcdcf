"""The e2e harness: ``make run``'s real runner (``tools.run_local``) as a subprocess on free
ports with its own state directory.

``local_stack`` is session scoped: every e2e module probes the same running system, which
is started once (on first use) and stopped with SIGINT (killed if it does not stop in
time) at the end of the session, whatever happens. Tests that need a runner of their own
(SIGINT, taken ports) start one with ``start_runner``. The fuzzing module writes through
every route, so it is moved after every other test of the session.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 180  # a loaded 2-core CI machine: the seed alone can take a minute
# What tests/conftest.py sets for the in-process tests; the runner sets its own.
_TEST_ONLY_ENV = ("STAGE", "RESOURCE_PREFIX", "CURSOR_SECRET", "JWT_LEEWAY_SECONDS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The stack's rate limits (RATE_LIMITS; the local stage sets none of its own): none any test
# reaches, but checkout's, which the concurrent burst of test_concurrency.py exceeds. Every other
# buyer is a fresh user who checks out once or twice; the fuzzing's client3 sees 429s (declared)
# after the limit. A day's window: a burst in progress never straddles one (the test checks).
E2E_CHECKOUT_LIMIT, E2E_CHECKOUT_WINDOW_S = 20, 86_400
E2E_RATE_LIMITS = f"*=1000000/86400,checkout={E2E_CHECKOUT_LIMIT}/{E2E_CHECKOUT_WINDOW_S}"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in _TEST_ONLY_ENV and not k.startswith(("AWS_", "CLERK_", "POWERTOOLS_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["RATE_LIMITS"] = E2E_RATE_LIMITS
    return env


@dataclass
class Runner:
    process: subprocess.Popen[bytes]
    port: int
    aws_port: int
    state_dir: Path
    out: Path
    err: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tokens(self) -> dict[str, dict[str, str]]:
        return json.loads((self.state_dir / "dev-tokens.json").read_text())

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 10) -> int | None:
        """Signal it and wait; kill it if it does not stop in time (returns None then)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return None


def start(state_dir: Path, port: int | None = None, aws_port: int | None = None) -> Runner:
    port, aws_port = port or free_port(), aws_port or free_port()
    state_dir.mkdir(parents=True, exist_ok=True)
    out, err = state_dir / "runner.out", state_dir / "runner.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            # Its own Pusher port: two stacks (one per xdist worker) never race for the default 6001/6002.
            [sys.executable, "-m", "tools.run_local", "--port", str(port), "--aws-port", str(aws_port),
             "--pusher-port", str(free_port()), "--state-dir", str(state_dir)],
            cwd=ROOT, env=child_env(), stdout=stdout, stderr=stderr)
    return Runner(process, port, aws_port, state_dir, out, err)


def wait_ready(runner: Runner) -> float:
    """Seconds until /health answers 200 and the banner is out; fails with the output otherwise."""
    started = time.monotonic()
    deadline = started + START_DEADLINE_S
    while time.monotonic() < deadline:
        if runner.process.poll() is not None:
            pytest.fail(f"runner exited with {runner.process.returncode}:\n{runner.stdout()}\n{runner.stderr()}")
        try:
            if (requests.get(f"{runner.url}/health", timeout=10).status_code == 200
                    and "Ctrl-C to stop." in runner.stdout()):
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"/health not 200 within {START_DEADLINE_S} s:\n{runner.stdout()}\n{runner.stderr()}")


SETTLE_DEADLINE_S = 300  # the demo history's background part and its events, on a loaded machine
HISTORY_DONE = ("[history] demo history ready", "[history] the demo history failed")


def _queued(runner: Runner) -> int:
    """Messages waiting or in flight over every queue of the stack's local AWS."""
    import boto3

    from tools.local_env import DEFAULT_REGION

    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{runner.aws_port}", region_name=DEFAULT_REGION,
                       aws_access_key_id="local", aws_secret_access_key="local")
    total = 0
    for url in sqs.list_queues().get("QueueUrls", []):
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        total += int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])
    return total


def wait_settled(runner: Runner) -> float:
    """Seconds until the demo history's background part is done and the queues are empty, so
    that what a test triggers is not queued behind the seed's own events (a probe that waits
    for its event would otherwise measure the seed's backlog)."""
    started = time.monotonic()
    deadline = started + SETTLE_DEADLINE_S
    while time.monotonic() < deadline:
        if runner.process.poll() is not None:
            pytest.fail(f"runner exited with {runner.process.returncode}:\n{runner.stdout()}\n{runner.stderr()}")
        if any(line in runner.stderr() for line in HISTORY_DONE) and _queued(runner) == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    pytest.fail(f"the demo history and its events did not settle within {SETTLE_DEADLINE_S} s "
                f"({_queued(runner)} messages queued):\n{runner.stderr()[-3000:]}")


# Writes through every route (catalog, applications, profiles): runs after every other test.
_RUNS_LAST = "tests.e2e.test_fuzz_schemathesis"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fuzzing runs last, so the other probes of the shared stack see the seeded data."""
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", "") == _RUNS_LAST)


@dataclass(frozen=True)
class LocalStack:
    """The running system: base URL, the demo tokens ``{handle: {userId, role, token}}``,
    its state directory and ports, and the runner (for its output)."""

    url: str
    tokens: dict[str, dict[str, str]]
    state_dir: Path
    port: int
    aws_port: int
    runner: Runner

    def token(self, handle: str) -> str:
        return self.tokens[handle]["token"]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One running system shared by every e2e module; stopped at the end of the session."""
    running = start(tmp_path_factory.mktemp("local-stack"))
    try:
        wait_ready(running)
        wait_settled(running)
        yield LocalStack(url=running.url, tokens=running.tokens(), state_dir=running.state_dir,
                         port=running.port, aws_port=running.aws_port, runner=running)
    finally:
        running.stop()  # SIGINT; killed if it does not stop in time


@pytest.fixture()
def start_runner(tmp_path: Path) -> Iterator[Callable[..., Runner]]:
    """Start runners of a test's own on demand; every one is stopped (or killed) at teardown."""
    started: list[Runner] = []

    def start_one(name: str = "state", **ports: int) -> Runner:
        runner = start(tmp_path / name, **ports)
        started.append(runner)
        return runner

    yield start_one
    for runner in started:
        runner.stop(signal.SIGINT, timeout_s=10)  # killed if it does not stop in time
