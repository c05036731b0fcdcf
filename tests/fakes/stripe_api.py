"""A recording stand-in for Stripe's HTTP API, for the real ``StripeGateway`` (the stripe
package's ``StripeClient``) to talk to.

It listens on 127.0.0.1 (a free port), records every request (method, path, query, headers
including ``Idempotency-Key`` and ``Stripe-Version``, the form-decoded body) and answers
like Stripe's API for what the services call:

- ``POST /v1/checkout/sessions``      a new ``checkout.session`` (replayed for a repeated
  ``Idempotency-Key`` with the same parameters, 400 ``idempotency_error`` with other ones)
- ``GET  /v1/subscriptions/{id}``     from ``subscriptions`` (set by the test), else 404
- ``POST /v1/subscriptions/{id}``     ``cancel_at_period_end`` (and ``metadata[...]``)
  updates the stored object, which is returned
- ``GET  /v1/refunds?charge=...``     a list object over ``refunds[charge]``
- ``GET  /v1/disputes/{id}``         from ``disputes`` (the most advanced state put), else 404
- ``DELETE /v1/customers/{id}``       a customer put with ``put_customer``: deleted (answered as
  Stripe's deleted object); unknown or already deleted: 404 ``resource_missing``
- ``POST /v1/accounts``               a new Connect ``account`` (nothing submitted), kept in ``accounts``
- ``GET  /v1/accounts/{id}``          from ``accounts``, else 404
- ``POST /v1/account_links``          an ``account_link`` to a known account (else 404)

``fail_next(status)`` makes the next request(s) answer a Stripe error instead.

The ``stripe_api`` fixture starts it and points the app at it (``STRIPE_SECRET_KEY``,
``STRIPE_API_BASE``), clearing the cached settings and gateway before and after. Import
it into a test module: ``from tests.fakes.stripe_api import stripe_api  # noqa: F401``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

SECRET_KEY = "sk_test_x"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    form: dict[str, str]  # Stripe's bracketed keys as sent: "metadata[userId]", "line_items[0][quantity]"

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def stripe_version(self) -> str | None:
        return self.headers.get("stripe-version")

    def under(self, prefix: str) -> dict[str, str]:
        """The form fields under ``prefix[...]`` with the prefix removed: ``under("metadata")``."""
        return {key[len(prefix) + 1:-1]: value for key, value in self.form.items()
                if key.startswith(prefix + "[") and key.endswith("]") and "[" not in key[len(prefix) + 1:-1]}


@dataclass
class _Failure:
    status: int
    times: int
    error_type: str


@dataclass
class StripeApi:
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by charge id
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # deleted ones: "deleted": True
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # Connect accounts, by id
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._idempotent: dict[tuple[str, str], tuple[dict[str, str], int, dict[str, Any]]] = {}
        self._failures: list[_Failure] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> StripeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                api._handle(self)

            def do_POST(self) -> None:
                api._handle(self)

            def do_DELETE(self) -> None:
                api._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- test controls -----------------------------------------------------------------

    def fail_next(self, status: int = 500, times: int = 1, error_type: str = "api_error") -> None:
        with self._lock:
            self._failures.append(_Failure(status, times, error_type))

    def calls(self, method: str, path: str | None = None, prefix: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and (path is None or r.path == path)
                    and (prefix is None or r.path.startswith(prefix))]

    def put_subscription(self, subscription: dict[str, Any]) -> None:
        with self._lock:
            self.subscriptions[subscription["id"]] = copy.deepcopy(subscription)

    def put_customer(self, customer_id: str) -> None:
        with self._lock:
            self.customers[customer_id] = {"id": customer_id, "object": "customer"}

    def put_dispute(self, dispute: dict[str, Any]) -> None:
        """Record a dispute as Stripe holds it: its current state is the most advanced one
        seen (an opening delivered after the closing does not reopen it)."""
        with self._lock:
            held = self.disputes.get(dispute["id"])
            if held is None or _DISPUTE_RANK.get(dispute.get("status"), 0) >= _DISPUTE_RANK.get(held.get("status"), 0):
                self.disputes[dispute["id"]] = copy.deepcopy(dispute)

    def put_refund(self, refund: dict[str, Any]) -> None:
        """Add (or replace, by id) a refund of ``refund["charge"]``."""
        with self._lock:
            listed = self.refunds.setdefault(refund["charge"], [])
            listed[:] = [r for r in listed if r["id"] != refund["id"]] + [copy.deepcopy(refund)]

    # --- the API -----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        recorded = Recorded(
            method=handler.command, path=parts.path, query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in handler.headers.items()},
            form=dict(parse_qsl(raw.decode(), keep_blank_values=True)),
        )
        with self._lock:
            self.requests.append(recorded)
            status, body = self._answer(recorded)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_fake_{next(self._ids)}")
        if status >= 400:
            handler.send_header("Stripe-Should-Retry", "false")  # no client back-off sleeps in tests
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return failure.status, _error(failure.error_type, "simulated failure")
        if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return 401, _error("invalid_request_error", "Invalid API Key provided")
        key = request.idempotency_key
        if request.method == "POST" and key:
            cached = self._idempotent.get((key, request.path))
            if cached is not None:
                form, status, body = cached
                if form != request.form:
                    return 400, _error("idempotency_error", "Keys for idempotent requests can only be used with "
                                                            "the same parameters they were first used with.")
                return status, copy.deepcopy(body)
        status, body = self._route(request)
        if request.method == "POST" and key and status < 500:
            self._idempotent[(key, request.path)] = (request.form, status, copy.deepcopy(body))
        return status, body

    def _route(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        path, method = request.path, request.method
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._new_session(request)
        found = re.fullmatch(r"/v1/subscriptions/([A-Za-z0-9_]+)", path)
        if found:
            subscription = self.subscriptions.get(found.group(1))
            if subscription is None:
                return 404, _error("invalid_request_error", f"No such subscription: '{found.group(1)}'",
                                   code="resource_missing")
            if method == "POST":
                if "cancel_at_period_end" in request.form:
                    subscription["cancel_at_period_end"] = request.form["cancel_at_period_end"] == "true"
                subscription.setdefault("metadata", {}).update(request.under("metadata"))
            if method in ("GET", "POST"):
                return 200, copy.deepcopy(subscription)
        found = re.fullmatch(r"/v1/customers/([A-Za-z0-9_]+)", path)
        if found and method == "DELETE":
            customer = self.customers.get(found.group(1))
            if customer is None or customer.get("deleted"):
                return 404, _error("invalid_request_error", f"No such customer: '{found.group(1)}'",
                                   code="resource_missing")
            customer["deleted"] = True
            return 200, {"id": customer["id"], "object": "customer", "deleted": True}
        found = re.fullmatch(r"/v1/disputes/([A-Za-z0-9_]+)", path)
        if found and method == "GET":
            dispute = self.disputes.get(found.group(1))
            if dispute is None:
                return 404, _error("invalid_request_error", f"No such dispute: '{found.group(1)}'",
                                   code="resource_missing")
            return 200, copy.deepcopy(dispute)
        if method == "POST" and path == "/v1/accounts":
            account_id = f"acct_fake{next(self._ids):08d}"
            self.accounts[account_id] = {
                "id": account_id, "object": "account", "type": request.form.get("type"),
                "email": request.form.get("email"), "metadata": request.under("metadata"),
                "details_submitted": False, "payouts_enabled": False, "charges_enabled": False,
                "requirements": {"currently_due": ["external_account"], "past_due": [], "disabled_reason": None}}
            return 200, copy.deepcopy(self.accounts[account_id])
        found = re.fullmatch(r"/v1/accounts/([A-Za-z0-9_]+)", path)
        if found and method == "GET":
            account = self.accounts.get(found.group(1))
            if account is None:
                return 404, _error("invalid_request_error", f"No such account: '{found.group(1)}'",
                                   code="resource_missing")
            return 200, copy.deepcopy(account)
        if method == "POST" and path == "/v1/account_links":
            if request.form.get("account") not in self.accounts:
                return 404, _error("invalid_request_error", "No such account.", code="resource_missing")
            return 200, {"object": "account_link", "created": 1796119000, "expires_at": 1796119300,
                         "url": f"https://connect.stripe.com/setup/e/{request.form['account']}/fake{next(self._ids)}"}
        if method == "GET" and path == "/v1/refunds":
            charge = request.query.get("charge")
            listed = [copy.deepcopy(r) for r in self.refunds.get(charge or "", [])]
            listed.sort(key=lambda r: r.get("created", 0), reverse=True)  # newest first, as Stripe lists
            return 200, {"object": "list", "url": "/v1/refunds", "has_more": False, "data": listed}
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})")

    def _new_session(self, request: Recorded) -> dict[str, Any]:
        session_id = f"cs_test_fake{next(self._ids):06d}"
        form = request.form
        return {
            "id": session_id, "object": "checkout.session", "mode": form.get("mode"), "status": "open",
            "payment_status": "unpaid", "metadata": request.under("metadata"),
            "client_reference_id": form.get("client_reference_id"), "customer_email": form.get("customer_email"),
            "success_url": form.get("success_url"), "cancel_url": form.get("cancel_url"),
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]") or 0),
            "currency": form.get("line_items[0][price_data][currency]"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }


_DISPUTE_RANK = {"warning_needs_response": 0, "needs_response": 0, "warning_under_review": 1, "under_review": 1,
                 "warning_closed": 2, "won": 2, "lost": 2}
CURRENT: list[StripeApi] = []  # the running server, for helpers that mirror what they send


def _error(error_type: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


def _reload_settings() -> None:
    """Drop the cached settings and gateway and read the settings again *now*.

    Reading them here matters: chalice.test.Client replaces os.environ with the chalice
    stage's variables (.chalice/config.json, "dev") for the duration of each request, so
    settings first read inside a request would be the dev stage's, not the test's."""
    from chalicelib.config import get_settings
    from chalicelib.integrations import payments

    get_settings.cache_clear()
    payments.gateway.cache_clear()
    get_settings()


@pytest.fixture()
def stripe_api() -> Iterator[StripeApi]:
    """The recording Stripe API, with the app's gateway pointed at it (StripeGateway)."""
    # The app registers its routes at import with the settings of that moment: import it
    # with the tests' own (payments local, the local checkout page served) before they point
    # at Stripe, whichever fixture a test happens to request first.
    import app  # noqa: F401

    server = StripeApi().start()
    CURRENT[:] = [server]
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
            patch.setenv("STRIPE_API_BASE", server.url)
            _reload_settings()
            yield server
    finally:
        CURRENT.clear()
        server.stop()
        _reload_settings()  # the environment is restored by now
