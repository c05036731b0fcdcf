"""The Clerk Backend API adapter deletes a user with ``DELETE /v1/users/{id}`` and the secret key
as a bearer token; Clerk's 404 (no such user: deleted before) is done, anything else is an error
the caller retries. Against a recording HTTP server of the test's own, on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.integrations.clerk_api import ClerkUnavailable, HttpClerk, LocalClerk

KEY = "sk_test_clerk_unit"


class _Clerk(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.answers: list[int] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: _Clerk

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_DELETE(self) -> None:
        self.server.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        status = self.server.answers.pop(0) if self.server.answers else 200
        user_id = self.path.rsplit("/", 1)[-1]
        body = (
            f'{{"object":"user","id":"{user_id}","deleted":true}}'
            if status == 200
            else f'{{"errors":[{{"code":"status_{status}"}}]}}'
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def clerk_server() -> Iterator[_Clerk]:
    server = _Clerk()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_user_is_deleted_with_the_secret_key(clerk_server):
    assert HttpClerk(KEY, base_url=clerk_server.base_url).delete_user("user_2b8kQleSRNmcOSCdJ1Y8pSRr4mK") is True

    [(method, path, headers)] = clerk_server.requests
    assert (method, path) == ("DELETE", "/v1/users/user_2b8kQleSRNmcOSCdJ1Y8pSRr4mK")
    assert headers["authorization"] == f"Bearer {KEY}"


def test_a_user_clerk_does_not_know_is_already_deleted(clerk_server):
    clerk_server.answers = [404]

    assert HttpClerk(KEY, base_url=clerk_server.base_url).delete_user("user_gone") is False


@pytest.mark.parametrize("status", [401, 429, 500, 503])
def test_any_other_answer_is_an_error_to_retry(clerk_server, status):
    clerk_server.answers = [status]

    with pytest.raises(ClerkUnavailable, match=f"Clerk answered {status} to deleting user user_x"):
        HttpClerk(KEY, base_url=clerk_server.base_url).delete_user("user_x")


def test_no_answer_is_an_error_to_retry(clerk_server):
    closed = clerk_server.base_url
    clerk_server.shutdown()
    clerk_server.server_close()

    with pytest.raises(ClerkUnavailable, match="Clerk did not answer"):
        HttpClerk(KEY, base_url=closed, timeout_s=2).delete_user("user_x")


@pytest.mark.parametrize("user_id", ["../users", "user x", "", "a/b"])
def test_only_a_user_id_goes_in_the_path(user_id):
    with pytest.raises(ValueError):
        HttpClerk(KEY).delete_user(user_id)


def test_the_local_stand_in_records_and_answers_a_second_deletion_as_clerks_404():
    local = LocalClerk()

    assert (local.delete_user("ann"), local.delete_user("ann"), local.deleted) == (True, False, ["ann"])


@pytest.mark.parametrize(
    ("module", "not_loaded"),
    [
        ("chalicelib.integrations.clerk_api", ("urllib.request", "http.client")),
        ("chalicelib.services.privacy", ("stripe", "pusher")),
    ],
)
def test_importing_loads_no_client_until_a_call_needs_it(module, not_loaded):
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = f"import sys, {module}; print(sorted(m for m in {not_loaded!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=dict(os.environ),
        cwd=Path(__file__).resolve().parents[2],
    )

    assert loaded.stdout.strip() == "[]", loaded.stderr
