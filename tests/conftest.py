"""Shared fixtures: moto in-process, the app under chalice.test.Client, signed tokens.

The environment is set before the app is imported (settings are read at import), and
``AWS_ENDPOINT_URL`` is removed so moto intercepts every call.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_KEYS = Path(tempfile.mkdtemp(prefix="auralumic-test-keys-"))
ISSUER = "https://clerk.test.auralumic.example"
AZP = "https://app.test.auralumic.example"
PREFIX = "auralumic-test"
REGION = "us-east-1"

os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({
    "STAGE": "test",
    "RESOURCE_PREFIX": PREFIX,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "CLERK_ISSUER": ISSUER,
    "CLERK_JWKS_URL": (_KEYS / "jwks.json").resolve().as_uri(),
    "CLERK_AUTHORIZED_PARTIES": f"{AZP},http://localhost:3000",
    "CURSOR_SECRET": "test-cursor-secret",
    "CLERK_WEBHOOK_SECRET": "whsec_dGVzdC1vbmx5LWNsZXJrLXdlYmhvb2stc2lnbmluZy1rZXk=",
    "CORS_ALLOW_ORIGIN": "https://app.test.auralumic.example",
    "STRIPE_SECRET_KEY": "local",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_only_stripe_signing_secret",
    "API_BASE_URL": "http://api.test.auralumic.example",
    "LIVE_SESSIONS": "local",
    "EMAIL_SENDER": "Auralumic <notifications@test.auralumic.example>",
    # Real time: no server listens here unless a test starts tools/local/pusher_server.py and
    # points PUSHER_PORT at it; a push with none is refused at once and only logged.
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "test-pusher-key",
    "PUSHER_SECRET": "test-only-pusher-secret",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_PORT": "9",
    "PUSHER_USE_TLS": "false",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "auralumic-test",
    # botocore would route ARN-addressed calls (DynamoDB streams) to account-based hosts
    # that moto's in-process mock does not recognise.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # Every limited route counts (one UpdateItem per request) against a limit no test reaches;
    # tests/api/test_rate_limits.py sets its own.
    "RATE_LIMITS": "*=1000000/86400",
})

from tests.support import iam_recording  # noqa: E402

# Which AWS operations each function makes (checked against infra/iam/groups.json at the end
# of a full run): installed before the first botocore session is created.
iam_recording.install(PREFIX, os.environ.get("APP_SECRET_ID") or "auralumic/test/app", os.environ["EMAIL_SENDER"])

from tests.support import moto_sqs  # noqa: E402
from tests.support import pusher as _pusher_support  # noqa: E402,F401 - reads the real Pusher termination first
from tests.support.aws import MotoAccount  # noqa: E402
from tools import strict_moto  # noqa: E402
from tools.local_issuer import LocalIssuer  # noqa: E402

# DynamoDB's guarantees in moto (atomic requests, cancelled transactions undone in place),
# as in the server `make run` starts.
strict_moto.install()
moto_sqs.install()  # moto's SQS without its O(messages) clock readings per message sent or received

# The API imports a handler module on the first request it serves (chalicelib/routing.py);
# tests walk the whole route registry (chalicelib.api.REGISTRY), so every one is loaded now.
import app as _app  # noqa: E402,F401
from chalicelib import routing as _routing  # noqa: E402
from chalicelib.route_table import ROUTES as _ROUTES  # noqa: E402

_routing.load_all(_ROUTES)
# Every event consumer registered, as the domain_events function does on its first batch
# (tests/unit/test_lazy_wiring.py checks that list is complete).
from chalicelib.jobs.events import consumers as _consumers  # noqa: E402

_consumers()

ISSUER_KEYS = LocalIssuer(_KEYS, ISSUER, AZP)
ISSUER_KEYS.write_jwks()
# The resources are created once per process; every test starts with them empty.
MOTO = MotoAccount(PREFIX, REGION)


@pytest.fixture()
def aws() -> Iterator[None]:
    """moto with every resource of infra/resources.json, empty: what a fresh account gives."""
    from chalicelib.services import catalog, legal
    from chalicelib.services.explore import service as explore
    from chalicelib.services.moderation import rules as moderation_rules

    catalog.forget_cached()  # per-container caches start empty too
    explore.forget_cached()
    moderation_rules.forget_cached()
    legal.forget_cached()
    with MOTO.fresh():
        yield


@pytest.fixture()
def issuer() -> LocalIssuer:
    return ISSUER_KEYS


class Api:
    """chalice.test.Client with ``as_user`` and JSON conveniences."""

    def __init__(self, client: Any, issuer: LocalIssuer):
        self.client = client
        self.issuer = issuer

    def request(self, method: str, path: str, *, as_user: str | None = None, token: str | None = None,
                json_body: Any = None, body: str | bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = dict(headers or {})
        if as_user is not None:
            token = self.issuer.token(as_user)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        response = self.client.http.request(method=method, path=path, headers=all_headers, body=body or b"")
        response.json = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else None
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(autouse=True)
def pusher_terminations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The users whose Pusher connections the app terminated: recorded, not sent (no Pusher
    listens at the tests' address; tests/support/pusher.py's ``point_pusher_at`` sends them)."""
    from tests.support.pusher import record_terminations

    return record_terminations(monkeypatch)


@pytest.fixture()
def chalice_app() -> Any:
    from app import app

    return app


@pytest.fixture()
def api(aws: None, issuer: LocalIssuer, chalice_app: Any) -> Iterator[Api]:
    from chalice.test import Client

    with Client(chalice_app) as client:
        yield Api(client, issuer)


@pytest.fixture()
def make_user(aws: None) -> Any:
    """Create a user with a role directly in the table (as an admin action would)."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User

    def _make(user_id: str, role: str = "client", status: str = "active", **fields: Any) -> User:
        now = iso(utcnow())
        user = User(user_id=user_id, role=role, status=status, created_at=now, updated_at=now,
                    email=f"{user_id}@example.com", **fields)
        user.save()
        return user

    return _make


@pytest.fixture()
def default_catalog(aws: None) -> None:
    """The default catalog (packages, plans, topics...) as `make run` seeds it."""
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())


@pytest.fixture()
def drain(aws: None) -> Any:
    """Run the outbox as the workers would: relay every pending event and hand it to its
    consumers (the domain_events job's dispatch), until nothing is pending. Returns the
    messages delivered."""
    from chalicelib.jobs.events import consumers
    from chalicelib.services import outbox

    events = consumers()  # every consumer registered, as in the domain_events function

    def _drain(rounds: int = 10) -> list[dict[str, Any]]:
        delivered: list[dict[str, Any]] = []
        for _ in range(rounds):
            ids = outbox.stale_pending(older_than_s=-60)
            if not ids:
                break
            messages: list[dict[str, Any]] = []
            outbox.relay(ids, messages.append)
            for message in messages:
                events.dispatch(message)
            delivered += messages
        return delivered

    return _drain


_E2E = str(ROOT / "tests" / "e2e")


def pytest_configure(config: pytest.Config) -> None:
    """The IAM check of a full run (tests/support/iam_recording.py)."""
    config.pluginmanager.register(iam_recording.Plugin(config), "auralumic-iam")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): the whole suite (``make test``, no paths given) runs
    on two workers; a run of chosen files or tests stays in one process (``-s``, ``--pdb``
    and quick reruns keep working). PYTEST_XDIST_AUTO_NUM_WORKERS or ``-n N`` override."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return 0
    return min(2, os.cpu_count() or 1)


@pytest.hookimpl(trylast=True)  # after tests/e2e/conftest.py has put the fuzzing last
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) every e2e test runs on one worker, which
    starts the one shared ``local_stack``; the other tests spread over the workers. The e2e
    group, the longest, is handed out first so that no worker waits for it at the end."""
    e2e = [item for item in items if str(item.path).startswith(_E2E)]
    for item in e2e:
        item.add_marker(pytest.mark.xdist_group("e2e"))
    if hasattr(config, "workerinput"):  # an xdist worker: the order it collects is the schedule
        items[:] = e2e + [item for item in items if not str(item.path).startswith(_E2E)]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its report lines to the controller (pytest_testnodedown)."""
    from tests.report import LINES

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["report_lines"] = list(LINES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.report import report

    for line in getattr(node, "workeroutput", {}).get("report_lines", []):
        report(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.report import LINES

    for line in LINES:
        terminalreporter.write_line(line)
