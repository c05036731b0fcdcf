"""pusher-js, the library the frontend uses, against ``make run``'s local Pusher server, in a
real browser: headless Chromium loads a page (tests/e2e/pusher_js/) with pusher-js's browser
build, exactly as pinned by its lockfile, and connects with the options the banner prints.

The page is served by a small server of the test's own, under the origin the stack allows
for the frontend (``Access-Control-Allow-Origin`` of ``/realtime/auth``, ``http://localhost:3000``
locally; Chromium's host resolver maps it to the test's port), so pusher-js's authorization
request is the cross-origin call, preflight included, that the frontend makes. The page runs
the test's commands (connect, subscribe, disconnect: a long poll) and reports everything
pusher-js tells it; the test waits for each report it expects with a deadline.

Checked through pusher-js: a private channel of one's own, the presence channel (members,
``member_added``, ``member_removed``), the public ``readers`` channel, a ``reader-status`` the
product announces when a reader goes offline and online, a ``notification`` the product pushes
after a paid checkout, and the 403 of ``/realtime/auth`` for another user's private channel
as pusher-js's ``pusher:subscription_error``; ``signin()`` through ``/realtime/user-auth``, and
the signed-in connection closed (4009, no reconnection) when an admin suspends the account.

Needs node and npm (``npm ci`` into tests/e2e/pusher_js/node_modules, git-ignored) and
Debian's ``chromium`` (``CHROMIUM`` overrides the binary). Without them the test is skipped
locally, and fails in CI (``CI=true``).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import operator
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.calls import checkout_paid, demo, new_client
from tests.e2e.conftest import ROOT, LocalStack

PACKAGE = ROOT / "tests" / "e2e" / "pusher_js"
NODE_MODULES = PACKAGE / "node_modules"
PUSHER_JS = NODE_MODULES / "pusher-js" / "dist" / "web" / "pusher.min.js"
PUSHER_JS_VERSION = "8.6.0"
NPM_CI_TIMEOUT_S = 180
COMMAND_POLL_S = 5  # the page's long poll; the test's commands reach it at once
BROWSER_CHECK_S = 1  # how soon a wait notices that the browser died
# Generous: a loaded 2-core machine, and the stack may still be fanning out its seeded events.
ARRIVES_WITHIN_S = 30
PRESENCE = "presence-readers-online"
READERS = "readers"
READER = "reader1"


# -- what the test needs installed -----------------------------------------------------------


def _missing(why: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{why}; CI must install it to run pusher-js against the local Pusher server", pytrace=False)
    pytest.skip(why)


def _chromium() -> str:
    configured = os.environ.get("CHROMIUM")
    found = (
        configured or shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )
    if found and (Path(found).exists() or shutil.which(found)):
        return found
    _missing(
        f"CHROMIUM={configured} does not exist"
        if configured
        else "chromium is not installed (apt-get install -y chromium)"
    )


def _pusher_js() -> Path:
    """pusher-js's browser build, installed from the lockfile (``npm ci``) when node_modules is
    absent or was installed from another lockfile (as clients/typescript/_common.sh does)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            _missing(f"{tool} is not installed (Node.js >= 20 with npm)")
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((PACKAGE / name).read_bytes())
    stamp, want = NODE_MODULES / ".installed-from", digest.hexdigest()
    # Several xdist workers may get here at once on a fresh clone: one installs, the others
    # wait for it on the lock and then find the stamp (two npm ci in one folder collide).
    with open(PACKAGE / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == want and PUSHER_JS.exists()):
            installed = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PACKAGE,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT_S,
                check=False,
            )
            assert installed.returncode == 0, f"npm ci in {PACKAGE} failed:\n{installed.stdout}\n{installed.stderr}"
            stamp.write_text(want)
    installed_version = json.loads((NODE_MODULES / "pusher-js" / "package.json").read_text())["version"]
    assert installed_version == PUSHER_JS_VERSION, f"the lockfile pins pusher-js {installed_version}"
    return PUSHER_JS


# -- the page's server -------------------------------------------------------------------------


class _PageServer(ThreadingHTTPServer):
    """Serves the page and pusher-js, hands the page the test's commands (``GET /command``, a
    long poll) and collects its reports (``POST /report``)."""

    daemon_threads = True

    def __init__(self, pusher_js: Path):
        super().__init__(("127.0.0.1", 0), _PageHandler)
        self.files = {
            "/": (PACKAGE / "index.html", "text/html; charset=utf-8"),
            "/driver.js": (PACKAGE / "driver.js", "text/javascript; charset=utf-8"),
            "/pusher.min.js": (pusher_js, "text/javascript; charset=utf-8"),
        }
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.reports: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.closing = False

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def add_report(self, report: dict[str, Any]) -> None:
        with self.changed:
            self.reports.append(report)
            self.changed.notify_all()


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the reports are the record

    def _answer(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/command":
            if self.server.closing:
                self._answer(410)
                return
            try:
                command = self.server.commands.get(timeout=COMMAND_POLL_S)
            except queue.Empty:
                self._answer(204)
                return
            self._answer(200, json.dumps(command).encode())
        elif path in self.server.files:
            file, content_type = self.server.files[path]
            self._answer(200, file.read_bytes(), content_type)
        else:
            self._answer(404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path != "/report":
            self._answer(404)
            return
        self.server.add_report(json.loads(body))
        self._answer(204)


@dataclass
class Page:
    """The page in the browser, as the test drives it, and the stack it talks to."""

    stack: LocalStack
    server: _PageServer
    browser: subprocess.Popen[bytes]
    log: Path

    def do(self, command: str, **arguments: Any) -> None:
        self.server.commands.put({"do": command, **arguments})

    def wait(
        self, what: str, matches: Callable[[dict[str, Any]], bool], within_s: float = ARRIVES_WITHIN_S
    ) -> dict[str, Any]:
        """The first report (event) for which ``matches`` is true; fails after ``within_s``
        with every report seen and the browser's log."""
        deadline = time.monotonic() + within_s
        with self.server.changed:
            while True:
                found = next((report for report in self.server.reports if matches(report)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.browser.poll() is not None:
                    pytest.fail(
                        f"pusher-js did not report {what} within {within_s:g} s"
                        f"{'' if self.browser.poll() is None else ' (the browser exited)'}; reports:\n"
                        + "\n".join(json.dumps(r) for r in self.server.reports)
                        + f"\nchromium: {self.log.read_text(errors='replace')[-3000:]}",
                        pytrace=False,
                    )
                self.server.changed.wait(min(remaining, BROWSER_CHECK_S))

    def event(
        self, client: str | None, channel: str | None, event: str, data: Callable[[Any], bool] = lambda _: True
    ) -> Any:
        """The data of the first ``event`` that ``client``'s pusher-js emitted on ``channel``."""
        return self.wait(
            f"{event} on {channel} for {client}",
            lambda r: (r["client"], r["channel"], r["event"]) == (client, channel, event) and data(r["data"]),
        )["data"]

    def connect(self, client: str, key: str, options: dict[str, Any]) -> str:
        """A pusher-js instance for ``client``; its socket id once connected."""
        self.do("connect", client=client, key=key, options=options)
        socket_id = self.event(client, None, "connected")
        assert re.fullmatch(r"\d+\.\d+", socket_id), socket_id
        return str(socket_id)

    def subscribe(self, client: str, channel: str) -> None:
        self.do("subscribe", client=client, channel=channel)


def _frontend_origin(stack: LocalStack) -> str:
    """The origin the stack's CORS lets call the API: where the frontend runs."""
    preflight = requests.options(
        f"{stack.url}/realtime/auth",
        timeout=10,
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    origin = preflight.headers.get("Access-Control-Allow-Origin", "")
    assert preflight.status_code == 200 and origin.startswith("http://"), (preflight.status_code, preflight.headers)
    return origin


@pytest.fixture()
def page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """The page in headless Chromium, ready for commands. Chromium and pusher-js are checked
    before the stack is started (a missing tool skips or fails at once)."""
    chromium, pusher_js = _chromium(), _pusher_js()
    local_stack: LocalStack = request.getfixturevalue("local_stack")
    origin = urlsplit(_frontend_origin(local_stack))
    server = _PageServer(pusher_js)
    threading.Thread(target=server.serve_forever, name="pusher-js-page", daemon=True).start()
    log = tmp_path / "chromium.log"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        # The page's origin is the frontend's; its requests go to the test's server.
        f"--host-resolver-rules=MAP {origin.netloc} 127.0.0.1:{server.port}",
        f"{origin.scheme}://{origin.netloc}/",
    ]
    with log.open("wb") as output:
        browser = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    driven = Page(local_stack, server, browser, log)
    try:
        ready = driven.event(None, None, "driver:ready")
        assert ready == {"origin": f"{origin.scheme}://{origin.netloc}"}, ready
        yield driven
    finally:
        server.closing = True
        if browser.poll() is None:
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(timeout=10)
        server.shutdown()
        server.server_close()


# -- the test ----------------------------------------------------------------------------------


def _options(stack: LocalStack, token: str) -> tuple[str, dict[str, Any]]:
    """pusher-js's key and options, as the banner prints them, for a user's token."""
    banner = stack.runner.stdout()
    match = re.search(
        r"new Pusher\('(?P<key>[^']+)', \{ cluster: '(?P<cluster>[^']+)', wsHost: '(?P<host>[^']+)', "
        r"wsPort: (?P<port>\d+), forceTLS: false, enabledTransports: \['ws'\],\s+channelAuthorization: "
        r"\{ endpoint: '(?P<endpoint>[^']+)'",
        banner,
    )
    assert match, f"no pusher-js line in the banner:\n{banner}"
    assert match["endpoint"] == f"{stack.url}/realtime/auth", match["endpoint"]
    signin = re.search(r"userAuthentication: \{ endpoint: '(?P<endpoint>[^']+)'", banner)
    assert signin and signin["endpoint"] == f"{stack.url}/realtime/user-auth", banner
    return match["key"], {
        "cluster": match["cluster"],
        "wsHost": match["host"],
        "wsPort": int(match["port"]),
        "forceTLS": False,
        "enabledTransports": ["ws"],
        "channelAuthorization": {"endpoint": match["endpoint"], "headers": {"Authorization": f"Bearer {token}"}},
        "userAuthentication": {"endpoint": signin["endpoint"], "headers": {"Authorization": f"Bearer {token}"}},
    }


def test_pusher_js_in_a_browser_receives_what_the_product_publishes(page: Page) -> None:
    local_stack = page.stack
    client = new_client(local_stack, "pusherjs")
    reader = demo(local_stack, READER)
    own, readers_own = f"private-user-{client.user_id}", f"private-user-{reader.user_id}"

    # The client: its own channel, the presence channel, and (refused) the reader's channel.
    page.connect("client", *_options(local_stack, client.token))
    # The browser build of the pinned version is what connected.
    page.wait(
        f"pusher-js {PUSHER_JS_VERSION} connecting",
        lambda r: (
            r["event"] == "pusher:log"
            and "Connecting" in r["data"]
            and f"client=js&version={PUSHER_JS_VERSION}" in r["data"]
        ),
    )
    page.subscribe("client", own)
    page.event("client", own, "pusher:subscription_succeeded")
    page.subscribe("client", readers_own)
    refused = page.event("client", readers_own, "pusher:subscription_error")
    assert (refused["type"], refused["status"]) == ("AuthError", 403), refused
    page.subscribe("client", PRESENCE)
    joined = page.event("client", PRESENCE, "pusher:subscription_succeeded")
    assert joined["me"]["id"] == client.user_id, joined
    assert client.user_id in joined["members"], joined

    # The reader joins too: both see each other, with the public identity /realtime/auth signed.
    page.connect("reader", *_options(local_stack, reader.token))
    page.subscribe("reader", READERS)
    page.event("reader", READERS, "pusher:subscription_succeeded")
    page.subscribe("reader", PRESENCE)
    members = page.event("reader", PRESENCE, "pusher:subscription_succeeded")
    assert {client.user_id, reader.user_id} <= set(members["members"]), members
    added = page.event("client", PRESENCE, "pusher:member_added", lambda d: d["id"] == reader.user_id)
    assert added["info"]["role"] == "reader" and added["info"]["name"], added
    assert added["info"] == members["members"][reader.user_id], (added, members)

    # The reader goes offline and online over HTTP: the product announces it on `readers`.
    headers = {"Authorization": f"Bearer {reader.token}"}
    for online in (False, True):
        changed = requests.put(f"{local_stack.url}/reader/online", headers=headers, json={"online": online}, timeout=30)
        assert changed.status_code == 200, changed.text
        expected = {"readerId": reader.user_id, "isOnline": online, "lastSeenAt": changed.json()["lastSeenAt"]}
        page.event("reader", READERS, "reader-status", functools.partial(operator.eq, expected))

    # A paid checkout: the product's notification arrives on the client's private channel.
    session, credits = checkout_paid(client, "starter")
    note = page.event("client", own, "notification", lambda d: d.get("type") == "credits_purchased")
    wanted = {"userId": client.user_id, "title": "Credits added", "relatedId": session, "actionUrl": "/credits"}
    assert {name: note.get(name) for name in wanted} == wanted and note["data"]["credits"] == credits, note

    # The reader leaves: the client's presence channel says so.
    page.do("disconnect", client="reader")
    page.event("client", PRESENCE, "pusher:member_removed", lambda d: d["id"] == reader.user_id)


def test_pusher_js_signed_in_is_disconnected_when_an_admin_suspends_the_account(page: Page) -> None:
    local_stack = page.stack
    client = new_client(local_stack, "signin")
    admin = demo(local_stack, "admin")
    own = f"private-user-{client.user_id}"

    page.connect("client", *_options(local_stack, client.token))
    page.subscribe("client", own)
    page.event("client", own, "pusher:subscription_succeeded")
    page.do("signin", client="client")
    signed = page.event("client", None, "signin_success")
    assert json.loads(signed["user_data"]) == {"id": client.user_id}, signed

    suspended = admin.call("PATCH", f"/admin/users/{client.user_id}", {"suspend": {"reason": "Abusive messages."}})
    assert suspended.status_code == 200, suspended.text

    # Pusher's pusher:error 4009, then the close with 4009: pusher-js gives up (no reconnection).
    error = page.event("client", None, "connection:error", lambda e: (e.get("data") or {}).get("code") == 4009)
    assert error["type"] == "PusherError", error
    page.event("client", None, "state", lambda state: state == "disconnected")
