"""``make run``: the whole system in one foreground process.

moto's server (local AWS, made as strict as DynamoDB by tools/strict_moto.py) on loopback,
every table/queue/bucket of infra/resources.json, demo data, the API behind a server that
answers like API Gateway (tools/local/server.py), and the background work the cloud runs
as Lambda triggers, discovered from the Chalice app (tools/local/discovery.py): SQS
consumers, ``rate(...)`` and ``cron(...)`` schedules, and DynamoDB stream consumers (the outbox relay).

Ctrl-C or SIGTERM stops everything within ``STOP_BUDGET_S`` seconds and exits 0. The signal
handler takes no lock (an ``Event.set`` there can deadlock against the ``Event.wait`` it
interrupted): while starting it aborts the startup, afterwards it only records the signal,
which the main thread polls; every part is then stopped from threads with bounded joins.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools import local_env
from tools.local.worker import Worker, log, one_line

HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 30
POLL_S = 0.1
# Each part of the shutdown gets a bounded wait; together they stay under 5 s.
WORKERS_STOP_S, HTTP_STOP_S, MOTO_STOP_S, PUSHER_STOP_S = 2.0, 1.0, 1.0, 0.5
# pusher-js's websocket port when --pusher-port is not given and it is free (soketi's default).
DEFAULT_PUSHER_PORT = 6001


class _Stop(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM while starting up. A BaseException, like
    KeyboardInterrupt: library code's ``except Exception`` (botocore's retries, the seed's
    error handling) must not swallow it and let the startup run on."""


class _Signals:
    """Records SIGINT/SIGTERM. The handler never takes a lock: it raises ``_Stop`` once while
    the runner is starting (to abort a long step), afterwards it only sets a flag."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.starting = True

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum
        if self.starting:
            self.starting = False  # once: the cleanup that follows is not interrupted again
            raise _Stop

    def check(self) -> None:
        """Between startup steps: stop now if a signal came (even one whose ``_Stop`` some
        code swallowed)."""
        if self.received is not None:
            raise _Stop

    def wait(self) -> None:
        while self.received is None:
            time.sleep(POLL_S)  # a signal interrupts the sleep; the flag is seen within POLL_S


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.run_local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    parser.add_argument("--aws-port", type=int, default=5000, help="moto server port (default 5000)")
    parser.add_argument("--pusher-port", type=int, default=None,
                        help=f"the local Pusher server's websocket port (default {DEFAULT_PUSHER_PORT}, "
                             "or a free one when that is taken)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help=f"keys and tokens (default ${local_env.STATE_DIR_ENV} or <repo>/.local)")
    return parser.parse_args(argv)


def _wait_healthy(url: str, deadline_s: float) -> int | None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + deadline_s
    status = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # loopback only
                response.read()  # a client that hangs up early breaks the server's pipe
                return int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            pass
        time.sleep(0.1)
    return status


def _pusher_lines(pusher: Any, api: str) -> list[str]:
    if pusher is None:
        return []
    connect = pusher.frontend_config(api)
    return [
        f"  Realtime   {pusher.ws_url}  (local Pusher; its HTTP API {pusher.api_url}, app {pusher.app_id})",
        f"  pusher-js  {connect[0]}",
        *(f"           {line}" for line in connect[1:]),
    ]


def _print_banner(port: int, env: local_env.LocalEnv, tokens: dict[str, dict[str, str]], workers: list[Worker],
                  seconds: float, pusher: Any = None) -> None:
    api = f"http://{HOST}:{port}"
    lines = [
        "",
        f"Auralumic is running (ready in {seconds:.1f} s)",
        f"  API        {api}",
        f"  Docs       {api}/docs",
        f"  Local AWS  {env.aws_endpoint}  (moto; AWS_ENDPOINT_URL={env.aws_endpoint})",
        f"  Workers    {', '.join(w.name for w in workers) or 'none'}",
        f"  Tokens     {env.tokens_path}  (valid {local_env.TOKEN_TTL_S // 86400} days)",
        *_pusher_lines(pusher, api),
        "",
        f"  {'handle':<10} {'userId':<24} {'role':<7} token",
    ]
    lines += [f"  {handle:<10} {info['userId']:<24} {info['role']:<7} {info['token']}"
              for handle, info in tokens.items()]
    example = tokens.get("client1") or next(iter(tokens.values()))
    lines += [
        "",
        f"  TOKEN={example['token']}",
        f'  curl -H "Authorization: Bearer $TOKEN" {api}/me',
        "",
        "Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


# Run once right after the seed: the demo's badges, warnings and quality statuses are there at
# once, awarded by the jobs themselves (their schedules' first runs come a period later).
FIRST_RUNS = ("reader_quality_recheck", "reader_insights")


def _run_once(workers: list[Worker], jobs: tuple[str, ...], why: str = "after the seed") -> dict[str, Any]:
    """Fire the schedules ``jobs`` once, in that order; returns what each returned."""
    from tools.local.schedules import ScheduleWorker

    found = {worker.job: worker for worker in workers if isinstance(worker, ScheduleWorker)}
    figures = {}
    for job in jobs:
        figures[job] = found[job].fire()
        log(f"[schedule] {job} ran {why}: {figures[job]}")
    return figures


def _within(seconds: float, what: str, action: Callable[[], Any]) -> None:
    """Run ``action`` in a daemon thread and wait at most ``seconds`` for it."""

    def run() -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - stopping goes on with the next part
            log(f"[runner] stopping {what} failed: {one_line(exc)}")

    thread = threading.Thread(target=run, name=f"stop:{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        log(f"[runner] {what} did not stop within {seconds:g} s; exiting anyway")


class _Stack:
    """What has been started so far, to stop in reverse order."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.moto: Any = None
        self.http: Any = None
        self.http_thread: threading.Thread | None = None
        self.workers: list[Worker] = []
        self.pusher: Any = None

    def stop(self) -> None:
        self.stop_event.set()  # from the main thread, never from the signal handler
        http, http_thread = self.http, self.http_thread
        if http is not None:
            def stop_http() -> None:
                if http_thread is not None and http_thread.is_alive():
                    http.shutdown()  # blocks until serve_forever has returned: never before it ran
                http.server_close()

            _within(HTTP_STOP_S, "the HTTP server", stop_http)
        deadline = time.monotonic() + WORKERS_STOP_S
        for worker in self.workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        late = [w.name for w in self.workers if w.is_alive()]
        if late:
            log(f"[runner] {', '.join(late)} did not stop within {WORKERS_STOP_S:g} s; exiting anyway")
        if self.pusher is not None:
            _within(PUSHER_STOP_S, "the Pusher server", lambda: self.pusher.stop(PUSHER_STOP_S))
        if self.moto is not None:
            _within(MOTO_STOP_S, "moto", self.moto.stop)


def _start_pusher(requested_port: int | None) -> Any:
    """The local Pusher server, with the app's settings pointed at its HTTP API (before the app
    reads them). Without a requested port: websockets on 6001 and the API on 6002 (the local
    stage's PUSHER_PORT), else any free ports."""
    from tools.local.pusher_server import PusherServer

    def server(ws_port: int, api_port: int) -> Any:
        return PusherServer(os.environ["PUSHER_APP_ID"], os.environ["PUSHER_KEY"], os.environ["PUSHER_SECRET"],
                            host=HOST, ws_port=ws_port, api_port=api_port).start()

    if requested_port is not None:
        pusher = server(requested_port, 0)
    else:
        try:
            pusher = server(DEFAULT_PUSHER_PORT, DEFAULT_PUSHER_PORT + 1)
        except RuntimeError:
            pusher = server(0, 0)  # 6001/6002 are taken (another stack, a soketi): any free ports
    os.environ.pop("PUSHER_CLUSTER", None)
    os.environ.update({"PUSHER_HOST": HOST, "PUSHER_PORT": str(pusher.api_port), "PUSHER_USE_TLS": "false"})
    return pusher


def _start(args: argparse.Namespace, stack: _Stack, signals: _Signals) -> tuple[local_env.LocalEnv, dict[str, Any]]:
    env = local_env.configure(args.aws_port, args.state_dir, api_port=args.port)
    stack.pusher = _start_pusher(args.pusher_port)
    signals.check()
    # Quiet moto's per-request access log; the API's request lines stay (as with `chalice local`).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.server import ThreadedMotoServer

    from tools import strict_moto

    strict_moto.install()
    stack.moto = ThreadedMotoServer(ip_address=HOST, port=args.aws_port, verbose=False)
    stack.moto.start()
    signals.check()

    import boto3

    from tools.resources import create_all

    create_all(env.prefix, boto3.session.Session(), env.region)
    signals.check()

    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(project_dir=str(local_env.ROOT))  # its environ is a copy: os.environ stays ours
    config = factory.create_config_obj(chalice_stage_name=local_env.STAGE)
    app = config.chalice_app  # imports app.py from the repo root
    loaded = Path(getattr(sys.modules.get("app"), "__file__", "") or ".").resolve()
    if loaded != local_env.ROOT / "app.py":
        raise RuntimeError(f"imported app from {loaded}, expected {local_env.ROOT / 'app.py'}")
    signals.check()

    from chalicelib.models.base import utcnow
    from tools.seed import seed_demo
    from tools.seed_history import AT_START, DemoHistory, count_reader_metrics, seed_history

    tokens = seed_demo(env.issuer, token_ttl_s=local_env.TOKEN_TTL_S)
    env.tokens_path.write_text(json.dumps(tokens, indent=2) + "\n")
    env.tokens_path.chmod(0o600)
    seed_history(utcnow(), AT_START)  # the part of the demo history that fits in a few seconds
    from tools.seed_payouts import seed_payouts

    seed_payouts(utcnow())  # readers' earnings in every state: pending, available, paid out, reversed, owed
    count_reader_metrics()  # the seed's events, for the insights job below (the workers find them counted)
    signals.check()

    from tools.local.discovery import discover_workers
    from tools.local.heartbeat import demo_heartbeat
    from tools.local.server import create_server

    stack.workers = [*discover_workers(app, config, env, stack.stop_event), demo_heartbeat(stack.stop_event)]
    _run_once(stack.workers, FIRST_RUNS)  # badges and quality of the demo readers now, not a period later
    signals.check()

    from chalicelib.services.explore import freshness

    freshness.rebuild()  # the explore snapshot of the seeded readers (badges included), before the first GET /readers
    signals.check()

    for worker in stack.workers:
        worker.start()

    stack.http = create_server(app, config, HOST, args.port)
    stack.http_thread = threading.Thread(target=stack.http.serve_forever, kwargs={"poll_interval": 0.2},
                                         name="http", daemon=True)
    stack.http_thread.start()
    status = _wait_healthy(f"http://{HOST}:{args.port}/health", HEALTH_TIMEOUT_S)
    if status != 200:
        log(f"[runner] warning: /health answered {status}; see http://{HOST}:{args.port}/health")

    # The rest of the history (a reader with enough readings for Silver: several seconds), once the stack is up.
    def after_history() -> Any:
        return _run_once(stack.workers, ("reader_insights",), "after the demo history")["reader_insights"]

    history = DemoHistory(stack.stop_event, then=after_history, log=log)
    stack.workers.append(history)  # stopped and joined with the workers
    history.start()
    return env, tokens


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.port == args.aws_port:
        print(f"error: --port and --aws-port are both {args.port}", file=sys.stderr)
        return 1
    ports = [(args.port, "PORT"), (args.aws_port, "AWS_PORT")]
    if args.pusher_port is not None:
        ports.append((args.pusher_port, "PUSHER_WS_PORT"))
    if len({port for port, _ in ports}) < len(ports):
        print(f"error: {', '.join(v for _, v in ports)} must be different ports", file=sys.stderr)
        return 1
    for port, variable in ports:
        if local_env.port_in_use(port, HOST):
            print(f"error: port {port} is already in use (set {variable}=...)", file=sys.stderr)
            return 1

    signals = _Signals()
    signals.install()
    stack = _Stack()
    code = 0
    try:
        started = time.monotonic()
        env, tokens = _start(args, stack, signals)
        signals.starting = False  # from here on the handler only records the signal
        _print_banner(args.port, env, tokens, stack.workers, time.monotonic() - started, stack.pusher)
        signals.wait()
    except _Stop:
        pass
    except Exception as exc:  # noqa: BLE001 - one clear line, then the stack for a bug
        signals.starting = False
        print(f"error: {one_line(exc)}", file=sys.stderr)
        if not isinstance(exc, OSError | RuntimeError):
            traceback.print_exc()
        code = 1
    finally:
        signals.starting = False
        stack.stop()
    print("stopped", flush=True)
    return code


if __name__ == "__main__":
    exit_code = main()
    # Everything is stopped (or abandoned after its bounded wait) by now. Skip the
    # interpreter's teardown of moto's large heap and of leftover daemon threads, which alone
    # takes seconds; flush what finalization would have flushed.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
