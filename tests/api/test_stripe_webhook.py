"""POST /webhooks/stripe and POST /credits/checkout against Stripe's wire formats.

- Only deliveries signed with the endpoint secret within 300 s count; a forgery is a 400
  and leaves no trace (the genuine event with the same id is still accepted afterwards).
- The same event delivered many times, at once or later, and its outbox message handed to
  the worker more than once, grants once.
- A failure to record is a 5xx (Stripe retries) and grants nothing; the retry then works.
- Checkout goes through the real StripeGateway to a recording stand-in of Stripe's API.
- A paid session grants what was recorded when it was opened (buyer, package, credits),
  only when Stripe collected the package's price; the event's metadata decides nothing.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes import stripe_events as se
from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.fakes.stripe_api import stripe_api  # noqa: F401 - a fixture
from tests.report import report

pytestmark = pytest.mark.usefixtures("default_catalog")

NOW = 1_780_000_000  # the frozen clock of the signature tests


@pytest.fixture()
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> int:
    """The webhook's notion of now (``receive_webhook`` reads ``utcnow``)."""
    from chalicelib.services.payments import stripe_events

    monkeypatch.setattr(stripe_events, "utcnow", lambda: datetime.fromtimestamp(NOW, UTC))
    return NOW


def balance(api: Any, user: str) -> dict[str, Any]:
    return api.get("/credits", as_user=user).json_body["balance"]


def history(api: Any, user: str) -> list[tuple[str, dict[str, int]]]:
    return [(line["kind"], line["changes"]) for line in api.get("/credits", as_user=user).json_body["data"]]


def recorded_event_ids() -> set[str]:
    from chalicelib.models.webhooks import ProcessedWebhook

    return {item.event_key for item in ProcessedWebhook.scan(consistent_read=True)}


def grants_for(user: str) -> int:
    from chalicelib.models.ledger import LedgerLine

    return sum(1 for line in LedgerLine.query(user, consistent_read=True) if line.kind.startswith("grant."))


# --- signatures -----------------------------------------------------------------------------

def test_our_signature_scheme_is_stripes():
    """The header the app (and its local stand-in) produces is the one Stripe's own library
    verifies, and the one these tests compute."""
    import stripe

    from chalicelib.integrations import stripe_signature

    body = se.body_of(se.event("checkout.session.completed", se.paid_checkout("u1")))
    timestamp = int(datetime.now(UTC).timestamp())
    header = stripe_signature.header(se.webhook_secret(), timestamp, body)
    assert header == se.sign(body, timestamp=timestamp)
    assert stripe.WebhookSignature.verify_header(body.decode(), header, se.webhook_secret(), tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), se.sign(body, timestamp=timestamp, secret="whsec_other"),
                                              se.webhook_secret(), tolerance=300)


def _flip_one_byte(body: bytes) -> bytes:
    """The forger's edit: the package's 60 credits become 90 (one byte)."""
    needle = b'"credits":"60"'
    at = body.index(needle) + len(b'"credits":"')
    return body[:at] + b"9" + body[at + 1:]


FORGERIES = {
    "one byte of the body changed": lambda body: (_flip_one_byte(body), se.sign(body, timestamp=NOW)),
    "signed with another secret": lambda body: (body, se.sign(body, timestamp=NOW, secret="whsec_not_ours")),
    "no Stripe-Signature header": lambda body: (body, None),
    "only a v0 signature": lambda body: (body, f"t={NOW},v0={se.v1(se.webhook_secret(), NOW, body)}"),
    "timestamp 301 s old": lambda body: (body, se.sign(body, timestamp=NOW - 301)),
    "timestamp 301 s in the future": lambda body: (body, se.sign(body, timestamp=NOW + 301)),
    "valid v1 under another timestamp": lambda body: (
        body, f"t={NOW},v1={se.v1(se.webhook_secret(), NOW - 1, body)}"),
    "two timestamps": lambda body: (body, f"t={NOW - 5000},{se.sign(body, timestamp=NOW)}"),
    "empty header": lambda body: (body, ""),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_delivery_is_rejected_and_leaves_no_trace(api, make_user, drain, frozen_clock, forgery):
    make_user("buyer")
    genuine = se.event("checkout.session.completed", se.ordered_checkout(api, "buyer"))
    body, header = FORGERIES[forgery](se.body_of(genuine))

    response = se.deliver(api, body=body, signature=header, omit_signature=header is None)
    assert response.status_code == 400, response.body
    assert response.json["error"]["code"] == "invalid_signature"
    assert drain() == []
    assert recorded_event_ids() == set()
    assert balance(api, "buyer")["available"] == 0

    # The forgery did not burn the event id: Stripe's genuine delivery still counts.
    accepted = se.deliver(api, genuine, timestamp=NOW)
    assert accepted.status_code == 200, accepted.body
    assert accepted.json_body == {"received": True, "duplicate": False, "handled": True}
    drain()
    assert balance(api, "buyer")["available"] == 60


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_the_300_second_tolerance_is_inclusive_both_ways(api, make_user, drain, frozen_clock, offset):
    make_user("buyer")
    response = se.deliver(api, se.event("checkout.session.completed", se.ordered_checkout(api, "buyer")),
                          timestamp=NOW + offset)
    assert response.status_code == 200, response.body
    drain()
    assert balance(api, "buyer")["available"] == 60


def test_the_clock_is_injectable_for_the_signature_window(aws):
    """``receive_webhook(now=...)``: the same signed body is fresh at t+300 and stale at t+301."""
    from chalicelib.errors import BadRequest
    from chalicelib.services import payments

    body = se.body_of(se.event("customer.created", {"id": "cus_1", "object": "customer"}))
    header = se.sign(body, timestamp=NOW)
    with pytest.raises(BadRequest) as stale:
        payments.receive_webhook(body, header, now=datetime.fromtimestamp(NOW + 301, UTC))
    assert stale.value.code == "invalid_signature"
    assert payments.receive_webhook(body, header, now=datetime.fromtimestamp(NOW + 300, UTC)) == \
        payments.WebhookReceipt(duplicate=False, handled=False)


def test_a_header_with_two_v1_signatures_is_accepted_when_one_matches(api, make_user, drain, frozen_clock):
    """While the endpoint secret is rotated Stripe signs with both: one match is enough,
    whichever position it has."""
    make_user("buyer")
    for order in ("stale first", "valid first"):
        evt = se.event("checkout.session.completed", se.ordered_checkout(api, "buyer"))
        body = se.body_of(evt)
        old, new = se.v1("whsec_previous_secret", NOW, body), se.v1(se.webhook_secret(), NOW, body)
        pair = f"v1={old},v1={new}" if order == "stale first" else f"v1={new},v1={old}"
        response = se.deliver(api, body=body, signature=f"t={NOW},{pair},v0={old}")
        assert response.status_code == 200, (order, response.body)
    drain()
    assert balance(api, "buyer")["available"] == 120


def test_signed_bodies_that_are_not_stripe_events_are_refused(api, frozen_clock):
    for body in (b"not json", b"[]", b'{"id":"evt_1","type":"charge.refunded"}',
                 b'{"id":"nope","type":"invoice.paid","data":{"object":{}}}'):
        response = se.deliver(api, body=body, timestamp=NOW)
        assert response.status_code == 400, body
        assert response.json["error"]["code"] == "invalid_event"
    assert recorded_event_ids() == set()


def test_event_types_we_do_not_use_are_acknowledged_and_ignored(api, drain):
    response = se.deliver(api, se.event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert response.json_body == {"received": True, "duplicate": False, "handled": False}
    assert drain() == []


# --- duplicates -----------------------------------------------------------------------------

def test_the_same_event_delivered_ten_times_at_once_and_replayed_later_grants_once(api, make_user, drain,
                                                                                   atomic_dynamodb):  # noqa: F811
    from chalicelib.services import events

    make_user("buyer")
    evt = se.event("checkout.session.completed", se.ordered_checkout(api, "buyer"))
    body = se.body_of(evt)
    header = se.sign(body)
    start = threading.Barrier(10)
    answers: list[Any] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait()
        response = se.deliver(api, body=body, signature=header)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(10)]
    environ = os.environ
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        # chalice.test.Client swaps os.environ for the stage's variables around each request;
        # overlapping requests can leave the swapped copy in place.
        os.environ = environ
    assert [r.status_code for r in answers] == [200] * 10, [r.body for r in answers]
    messages = [m for m in drain() if m["type"] == "stripe.event_received"]
    assert len(messages) == 1
    replay = se.deliver(api, evt)  # a day later Stripe (or an attacker with a copy) sends it again
    assert replay.status_code == 200 and replay.json_body["duplicate"] is True, replay.body
    assert drain() == []

    # At-least-once delivery to the worker: the same message again, twice.
    events.dispatch(messages[0])
    events.dispatch(messages[0])
    duplicates = sum(1 for r in [*answers, replay] if r.json_body["duplicate"])
    grants = grants_for("buyer")
    assert grants == 1 and duplicates == 10
    assert balance(api, "buyer") == {"available": 60, "held": 0, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}
    assert history(api, "buyer") == [("grant.purchase", {"available": 60})]
    report(f"stripe webhook: same event x10 concurrently + 1 replay -> {grants} grant, {duplicates} duplicates")


def test_two_events_for_one_checkout_session_grant_once(api, make_user, drain):
    """checkout.session.completed and a later async_payment_succeeded for the same session
    (different event ids) are one purchase."""
    make_user("buyer")
    session = se.ordered_checkout(api, "buyer")
    se.deliver(api, se.event("checkout.session.completed", session))
    se.deliver(api, se.event("checkout.session.async_payment_succeeded", session))
    drain()
    assert history(api, "buyer") == [("grant.purchase", {"available": 60})]


def test_an_unpaid_session_grants_only_when_the_delayed_payment_succeeds(api, make_user, drain):
    make_user("buyer")
    session = se.ordered_checkout(api, "buyer", package_id="mystic", payment_status="unpaid")
    se.deliver(api, se.event("checkout.session.completed", session))
    drain()
    assert balance(api, "buyer")["available"] == 0
    se.deliver(api, se.event("checkout.session.async_payment_failed", session))
    drain()
    assert balance(api, "buyer")["available"] == 0
    se.deliver(api, se.event("checkout.session.async_payment_succeeded", {**session, "payment_status": "paid"}))
    drain()
    assert balance(api, "buyer")["available"] == 120


# --- recording failures -----------------------------------------------------------------------

@pytest.mark.parametrize("failure", ["transaction cancelled", "dynamodb unreachable"])
def test_a_failure_to_record_is_a_5xx_and_stripes_retry_then_grants(api, make_user, drain, monkeypatch, failure):
    from pynamodb.exceptions import PynamoDBConnectionError, TransactWriteError

    from chalicelib.services.tx import Transaction

    error = TransactWriteError("simulated cancel") if failure == "transaction cancelled" else \
        PynamoDBConnectionError("simulated outage")

    def failing(self: Transaction) -> Any:
        raise error

    commit = Transaction._commit
    make_user("buyer")
    evt = se.event("checkout.session.completed", se.ordered_checkout(api, "buyer"))
    monkeypatch.setattr(Transaction, "_commit", failing)
    response = se.deliver(api, evt)
    assert response.status_code >= 500, response.body
    assert response.json["error"]["code"] == "not_recorded"
    assert drain() == [] and recorded_event_ids() == set()
    assert balance(api, "buyer")["available"] == 0

    monkeypatch.setattr(Transaction, "_commit", commit)
    retry = se.deliver(api, evt)
    assert retry.status_code == 200 and retry.json_body["duplicate"] is False
    drain()
    assert balance(api, "buyer")["available"] == 60


# --- checkout through StripeGateway ----------------------------------------------------------

def _checkout(api: Any, user: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post("/credits/checkout", as_user=user, json_body={"packageId": "seeker"} if body is None else body,
                    headers=headers)


def test_buying_a_package_creates_a_stripe_checkout_session_with_our_metadata(api, make_user, stripe_api):  # noqa: F811
    from chalicelib.integrations.payments import API_VERSION

    make_user("buyer")
    response = _checkout(api, "buyer", {"packageId": "seeker"}, key="click-1")
    assert response.status_code == 201, response.body
    [sent] = stripe_api.calls("POST", "/v1/checkout/sessions")
    out = response.json_body
    assert out["checkoutUrl"] == f"https://checkout.stripe.com/c/pay/{out['sessionId']}"
    assert out["sessionId"].startswith("cs_test_")
    assert (out["credits"], out["amount"], out["currency"]) == (60, 1799, "usd")

    assert sent.headers["authorization"] == "Bearer sk_test_x"
    assert sent.stripe_version == API_VERSION
    assert sent.form["mode"] == "payment"
    ours = {"userId": "buyer", "kind": "credits", "packageId": "seeker", "credits": "60"}
    assert sent.under("metadata") == ours
    assert sent.under("payment_intent_data[metadata]") == ours  # refunds and disputes carry it
    assert sent.form["client_reference_id"] == "buyer"
    assert sent.form["customer_email"] == "buyer@example.com"
    assert sent.form["line_items[0][price_data][unit_amount]"] == "1799"
    assert sent.form["line_items[0][price_data][currency]"] == "usd"
    assert sent.form["line_items[0][quantity]"] == "1"
    assert "recurring" not in "".join(sent.form)
    assert "{CHECKOUT_SESSION_ID}" in sent.form["success_url"]
    assert sent.idempotency_key and "click-1" in sent.idempotency_key


def test_the_checkout_idempotency_key_follows_the_clients(api, make_user, stripe_api):  # noqa: F811
    make_user("buyer")
    make_user("other")
    first = _checkout(api, "buyer", key="click-1")
    again = _checkout(api, "buyer", key="click-1")  # a double click / retried request
    assert first.status_code == again.status_code == 201
    assert again.json_body["sessionId"] == first.json_body["sessionId"]
    other_package = _checkout(api, "buyer", {"packageId": "oracle"}, key="click-1")
    other_user = _checkout(api, "other", key="click-1")
    no_key = [_checkout(api, "buyer"), _checkout(api, "buyer")]
    for response in (other_user, *no_key):
        assert response.status_code == 201, response.body
    # The same key for another purchase is a client bug, not a retry: refused, nothing created.
    assert other_package.status_code == 409, other_package.body
    assert other_package.json_body["error"]["code"] == "idempotency_key_reused"

    keys = [r.idempotency_key for r in stripe_api.calls("POST", "/v1/checkout/sessions")]
    assert len(keys) == 5 and keys[0] == keys[1]  # the retry reaches Stripe with the same key: the same session
    assert len(set(keys)) == 4  # a key never reaches across users or key-less requests
    sessions = {r.json_body["sessionId"] for r in (first, other_user, *no_key)}
    assert len(sessions) == 4


@pytest.mark.parametrize(("body", "key", "status", "code"), [
    ({"packageId": "no-such-package"}, None, 404, "not_found"),
    ({"packageId": "seeker", "credits": 100000}, None, 400, None),
    ({"packageId": "seeker", "price": 1}, None, 400, None),
    ({}, None, 400, None),
    ({"packageId": "seeker"}, "has spaces in it", 400, "invalid_idempotency_key"),
    ({"packageId": "seeker"}, "k" * 201, 400, "invalid_idempotency_key"),
])
def test_a_checkout_stripe_would_not_get_is_refused_before_calling_it(api, make_user, stripe_api,  # noqa: F811
                                                                      body, key, status, code):
    make_user("buyer")
    response = _checkout(api, "buyer", body, key=key)
    assert response.status_code == status, response.body
    if code:
        assert response.json["error"]["code"] == code
    assert stripe_api.requests == []


def test_a_stripe_outage_at_checkout_is_a_503(api, make_user, stripe_api):  # noqa: F811
    make_user("buyer")
    stripe_api.fail_next(500)
    response = _checkout(api, "buyer", key="k1")
    assert response.status_code == 503, response.body
    assert _checkout(api, "buyer", key="k1").status_code == 201  # the retry works


def test_paying_the_session_stripe_created_grants_its_package(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("buyer")
    out = _checkout(api, "buyer", {"packageId": "oracle"}).json_body
    [sent] = stripe_api.calls("POST", "/v1/checkout/sessions")
    session = se.paid_checkout("buyer", package_id="oracle", credits=int(sent.form["metadata[credits]"]),
                               amount=out["amount"], session_id=out["sessionId"])
    se.deliver(api, se.event("checkout.session.completed", session))
    drain()
    assert balance(api, "buyer")["available"] == 300
    [line] = api.get("/credits", as_user="buyer").json_body["data"]
    assert line["reference"] == out["sessionId"] and line["kind"] == "grant.purchase"


# --- what a paid session grants ----------------------------------------------------------------

def test_forged_metadata_grants_only_the_package_to_its_buyer(api, make_user, drain):
    """A session's metadata claiming another user and 10000 credits changes nothing: the
    order recorded when the buyer opened the session decides who gets what."""
    make_user("buyer")
    make_user("thief")
    session = se.ordered_checkout(api, "buyer")  # seeker: 60 credits for 1799
    session["metadata"].update(userId="thief", credits="10000", packageId="oracle")
    session["client_reference_id"] = "thief"

    se.deliver(api, se.event("checkout.session.completed", session))
    drain()
    assert balance(api, "buyer")["available"] == 60
    assert balance(api, "thief")["available"] == 0
    assert history(api, "buyer") == [("grant.purchase", {"available": 60})]


@pytest.mark.parametrize(("amount", "currency"), [(1, "usd"), (1798, "usd"), (1799, "eur")])
def test_a_paid_amount_other_than_the_price_grants_nothing_and_the_worker_goes_on(api, make_user, drain,
                                                                                 amount, currency):
    make_user("buyer")
    session = {**se.ordered_checkout(api, "buyer"), "amount_total": amount, "currency": currency}
    se.deliver(api, se.event("checkout.session.completed", session))
    assert [m["type"] for m in drain()] == ["stripe.event_received"]  # consumed, not failed
    assert balance(api, "buyer")["available"] == 0 and grants_for("buyer") == 0

    # The worker is not stuck: the next genuine payment is granted.
    se.deliver(api, se.event("checkout.session.completed", se.ordered_checkout(api, "buyer")))
    drain()
    assert balance(api, "buyer")["available"] == 60


def test_a_paid_session_we_never_opened_grants_nothing(api, make_user, drain):
    make_user("buyer")
    se.deliver(api, se.event("checkout.session.completed", se.paid_checkout("buyer", credits=60)))
    drain()
    assert balance(api, "buyer")["available"] == 0 and grants_for("buyer") == 0
