"""``import app`` is the API function's cold start: it registers every route from the
generated table and imports no handler; a request imports only the module that serves it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tools import route_table

_PROBE = """
import json, sys
import app
from chalice.test import Client

before = sorted(m for m in sys.modules if m.startswith("chalicelib.handlers."))
heavy = sorted(m for m in ("pydantic", "pynamodb", "stripe", "jwt", "chalicelib.api") if m in sys.modules)
routes = sum(len(methods) for methods in app.app.routes.values())
with Client(app.app) as client:
    response = client.http.get("/me")
after = sorted(m for m in sys.modules if m.startswith("chalicelib.handlers."))
print(json.dumps({"before": before, "heavy": heavy, "routes": routes, "status": response.status_code,
                  "error": json.loads(response.body)["error"]["code"], "after": after}))
"""


def _probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_app_imports_no_handler_and_a_request_only_its_own():
    seen = _probe()
    assert seen["before"] == []
    assert seen["heavy"] == []
    assert seen["routes"] == len(route_table.rows())  # the test stage serves the local stand-ins too
    assert (seen["status"], seen["error"]) == (401, "missing_token")
    assert seen["after"] == ["chalicelib.handlers.me"]


def test_the_committed_route_table_is_current():
    assert route_table.TABLE.read_text() == route_table.render(), (
        "chalicelib/route_table.py is stale: run `make client` (python -m tools.route_table)"
    )


_CONSUMERS = """
import importlib, json, pkgutil, sys
import {entry}
{load}
from chalicelib.services import events
print(json.dumps(sorted(f"{{t}} {{c.__module__}}.{{c.__name__}}" for t, cs in events.CONSUMERS.items() for c in cs)))
"""


def _consumers(entry: str, load: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _CONSUMERS.format(entry=entry, load=load)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_event_consumers_function_registers_every_consumer_there_is():
    """The domain_events Lambda imports only chalicelib.jobs.events: a consumer module it
    does not load would silently never run in the cloud (it would in a test importing all)."""
    in_the_lambda = _consumers("chalicelib.jobs.events", "chalicelib.jobs.events.consumers()")
    everything = _consumers(
        "chalicelib.services",
        "\n".join(
            [
                "import chalicelib.services as root",
                "for info in pkgutil.walk_packages(root.__path__, prefix='chalicelib.services.'):",
                "    importlib.import_module(info.name)",
            ]
        ),
    )
    assert len(everything) > 20
    assert in_the_lambda == everything
