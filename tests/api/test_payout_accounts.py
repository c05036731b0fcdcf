"""A reader's payout account (issue 18): Stripe Connect Express onboarding and its state.

``POST /reader/payout-account`` creates the account once (concurrent starts too) and returns
a fresh onboarding link each time; Stripe's signed ``account.updated`` moves the state that
``GET /reader/payout-account`` shows, once per event and never backwards; the local
onboarding page drives the whole flow through the real webhook.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from tests.fakes import stripe_events as se
from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.fakes.stripe_api import stripe_api  # noqa: F401 - a fixture
from tests.support.readings import make_reader, race

READER = "rdr_payout"
PATH = "/reader/payout-account"


@pytest.fixture(autouse=True)
def local_gateway() -> Any:
    """A fresh local gateway per test (its Connect accounts live in memory)."""
    from chalicelib.integrations import payments

    payments.gateway.cache_clear()
    yield payments.gateway()
    payments.gateway.cache_clear()


@pytest.fixture()
def reader(api: Any) -> str:
    make_reader(READER)
    return READER


def _account_event(
    account_id: str,
    *,
    details: bool,
    payouts: bool,
    due: list[str],
    created: int,
    reader_id: str | None = READER,
    event_id: str | None = None,
) -> dict[str, Any]:
    account = {
        "id": account_id,
        "object": "account",
        "type": "express",
        "details_submitted": details,
        "payouts_enabled": payouts,
        "charges_enabled": False,
        "metadata": {"readerId": reader_id} if reader_id else {},
        "requirements": {
            "currently_due": due,
            "eventually_due": due,
            "past_due": [],
            "disabled_reason": None if payouts else "requirements.past_due",
        },
    }
    return {**se.event("account.updated", account, created=created, event_id=event_id), "account": account_id}


def _started(api: Any, user: str = READER, status: int | None = None) -> dict[str, Any]:
    """POST: 201 when it created the account, 200 when it resumed (``status``: the one expected)."""
    response = api.post(PATH, as_user=user)
    assert response.status_code in ((status,) if status else (200, 201)), response.body
    return response.json_body


def _state(api: Any, user: str = READER) -> dict[str, Any]:
    response = api.get(PATH, as_user=user)
    assert response.status_code == 200, response.body
    return response.json_body


def test_before_onboarding_the_account_is_not_started(api, reader):
    assert _state(api) == {
        "accountId": None,
        "status": "not_started",
        "detailsSubmitted": False,
        "payoutsEnabled": False,
        "requirementsDue": [],
        "disabledReason": None,
        "updatedAt": None,
    }


def test_starting_creates_the_account_and_resuming_returns_a_fresh_link_to_the_same_one(api, reader, local_gateway):
    first = _started(api, status=201)  # created; resuming (below) is 200
    assert first["created"] is True
    account_id = first["account"]["accountId"]
    assert account_id.startswith("acct_local_")
    assert first["url"] == f"http://api.test.auralumic.example/local/connect/{account_id}"
    # An ISO-8601 instant like every other date, in the future.
    assert datetime.fromisoformat(first["expiresAt"]).timestamp() > time.time()
    assert first["account"]["status"] == "pending" and first["account"]["detailsSubmitted"] is False
    assert "external_account" in first["account"]["requirementsDue"]
    # The account as Stripe creates it: Express, for this reader, its email prefilled; the
    # link returns to the frontend's payouts page.
    created = local_gateway.account(account_id)
    assert created["type"] == "express" and created["metadata"] == {"readerId": READER}
    assert created["email"] == f"{READER}@example.com"
    assert created["_return_url"] == "https://app.test.auralumic.example/reader/payouts?onboarding=return"

    resumed = _started(api, status=200)
    assert resumed["created"] is False and resumed["account"]["accountId"] == account_id
    assert resumed["url"].endswith(account_id)
    assert len(local_gateway.accounts) == 1
    assert _state(api)["accountId"] == account_id


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_starts_make_one_account(api, reader, local_gateway):
    from chalicelib.models.payouts import PayoutAccountItem
    from chalicelib.services.payouts import accounts

    PayoutAccountItem._get_connection().connection.client  # built before the race
    results = race([lambda: accounts.start_onboarding(READER, "r@example.com") for _ in range(10)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.account.account_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(local_gateway.accounts) == 1
    assert [item.reader_id for item in PayoutAccountItem.scan()] == [READER]


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_starts_keep_one_account_even_when_stripe_makes_several(api, reader, local_gateway, monkeypatch):
    """Were Stripe to create an account per request (its idempotency key forgotten after 24
    hours), the conditional put still keeps one: every caller gets the stored one."""
    from chalicelib.models.payouts import PayoutAccountItem
    from chalicelib.services.payouts import accounts

    create = local_gateway.create_connect_account
    calls = iter(range(100))
    monkeypatch.setattr(
        local_gateway,
        "create_connect_account",
        lambda **kw: create(**{**kw, "idempotency_key": f"{kw['idempotency_key']}#{next(calls)}"}),
    )
    PayoutAccountItem._get_connection().connection.client
    results = race([lambda: accounts.start_onboarding(READER, None) for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    stored = PayoutAccountItem.get(READER).account_id
    assert {r.account.account_id for r in results} == {stored}
    assert sum(r.created for r in results) == 1


def test_a_signed_account_updated_moves_the_state_and_a_replay_changes_nothing(api, reader, drain):
    account_id = _started(api)["account"]["accountId"]
    now = int(time.time())
    submitted = _account_event(
        account_id, details=True, payouts=False, due=["individual.verification.document"], created=now - 60
    )
    ack = se.deliver(api, submitted)
    assert ack.status_code == 200 and ack.json_body == {"received": True, "duplicate": False, "handled": True}
    messages = [m for m in drain() if m["type"] == "stripe.event_received"]
    state = _state(api)
    assert state["status"] == "restricted" and state["detailsSubmitted"] is True
    assert state["payoutsEnabled"] is False
    assert state["requirementsDue"] == ["individual.verification.document"]

    # The same delivery again: recorded before, nothing queued.
    replay = se.deliver(api, submitted)
    assert replay.json_body["duplicate"] is True
    assert drain() == []
    # The same message consumed again (SQS delivers at least once): nothing changes.
    from chalicelib.services import events

    for message in messages:
        events.dispatch(message)
    assert _state(api) == state

    enabled = _account_event(account_id, details=True, payouts=True, due=[], created=now)
    se.deliver(api, enabled)
    drain()
    state = _state(api)
    assert (state["status"], state["payoutsEnabled"], state["requirementsDue"]) == ("enabled", True, [])

    from chalicelib.services.payouts import accounts

    assert [a.reader_id for a in accounts.enabled_accounts(10, None).items] == [READER]


def test_an_older_event_after_a_newer_one_changes_nothing(api, reader, drain):
    account_id = _started(api)["account"]["accountId"]
    now = int(time.time())
    se.deliver(api, _account_event(account_id, details=True, payouts=True, due=[], created=now))
    drain()
    newest = _state(api)
    assert newest["status"] == "enabled"

    stale = _account_event(account_id, details=True, payouts=False, due=["external_account"], created=now - 30)
    assert se.deliver(api, stale).json_body["duplicate"] is False
    drain()
    assert _state(api) == newest


def test_two_events_of_the_same_second_keep_what_stripe_holds(api, reader, drain, local_gateway):
    """``created`` cannot order them: the second to arrive asks Stripe for the account."""
    account_id = _started(api)["account"]["accountId"]
    # What Stripe holds now: submitted, an identity document due.
    local_gateway.finish_onboarding(account_id, "requirements_due", int(time.time()))
    now = int(time.time())
    se.deliver(api, _account_event(account_id, details=True, payouts=True, due=[], created=now))
    se.deliver(api, _account_event(account_id, details=False, payouts=False, due=["external_account"], created=now))
    drain()
    state = _state(api)
    assert (state["status"], state["requirementsDue"]) == ("restricted", ["individual.verification.document"])


def test_an_event_that_overtakes_the_creating_request_stores_the_account(api, reader, drain):
    """Stripe's first event can be processed before our item is written: it creates the item
    from the event, and the start that follows finds it."""
    now = int(time.time())
    se.deliver(api, _account_event("acct_early1", details=False, payouts=False, due=["external_account"], created=now))
    drain()
    assert _state(api)["accountId"] == "acct_early1"


def test_an_event_for_an_account_of_no_reader_is_ignored(api, reader, drain):
    se.deliver(
        api,
        _account_event("acct_stranger1", details=True, payouts=True, due=[], created=int(time.time()), reader_id=None),
    )
    drain()
    assert _state(api)["status"] == "not_started"


def test_the_connect_endpoint_secret_is_accepted(api, reader, drain, monkeypatch):
    """In the cloud the Connect webhook endpoint signs with its own secret."""
    from chalicelib import config

    monkeypatch.setenv("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_test_only_connect_secret")
    config.get_settings.cache_clear()
    config.get_settings()  # read now: inside a request chalice's test client swaps the environment
    try:
        account_id = _started(api)["account"]["accountId"]
        event = _account_event(account_id, details=True, payouts=True, due=[], created=int(time.time()))
        assert se.deliver(api, event, secret="whsec_test_only_connect_secret").status_code == 200
        forged = _account_event(account_id, details=True, payouts=True, due=[], created=int(time.time()))
        refused = se.deliver(api, forged, secret="whsec_someone_else")
        assert refused.status_code == 400 and refused.json_body["error"]["code"] == "invalid_signature"
        drain()
        assert _state(api)["status"] == "enabled"
    finally:
        monkeypatch.delenv("STRIPE_CONNECT_WEBHOOK_SECRET")
        config.get_settings.cache_clear()
        config.get_settings()


@pytest.mark.parametrize("who", ["client", "pending_reader", "suspended_reader"])
def test_only_approved_readers_have_a_payout_account(api, make_user, who, local_gateway):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile

    if who == "client":
        make_user("someone")
    else:
        make_user("someone", role="reader")
        now = iso(utcnow())
        ReaderProfile(
            reader_id="someone",
            status="pending" if who == "pending_reader" else "suspended",
            created_at=now,
            updated_at=now,
        ).save()
    for method in ("POST", "GET"):
        response = api.request(method, PATH, as_user="someone")
        assert response.status_code == 403, (method, response.body)
    assert local_gateway.accounts == {}


def test_the_local_page_completes_onboarding_through_the_webhook(api, reader, drain):
    started = _started(api)
    account_id = started["account"]["accountId"]
    page_path = started["url"].removeprefix("http://api.test.auralumic.example")
    page = api.get(page_path)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert account_id in page.body.decode() and "Details submitted: no" in page.body.decode()
    assert page.headers["Cache-Control"] == "no-store"

    due = api.post(page_path, json_body={"outcome": "requirements_due"})
    assert due.status_code == 200, due.body
    assert [e["type"] for e in due.json_body["events"]] == ["account.updated"]
    drain()
    state = _state(api)
    assert (state["status"], state["requirementsDue"]) == ("restricted", ["individual.verification.document"])

    done = api.post(page_path, json_body={"outcome": "complete"})
    assert done.status_code == 200 and done.json_body["events"][0]["duplicate"] is False
    drain()
    state = _state(api)
    assert (state["status"], state["detailsSubmitted"], state["payoutsEnabled"], state["requirementsDue"]) == (
        "enabled",
        True,
        True,
        [],
    )

    assert api.get("/local/connect/acct_local_unknown").status_code == 404
    assert api.post("/local/connect/acct_local_unknown", json_body={"outcome": "complete"}).status_code == 404


def test_with_stripe_the_account_is_express_and_the_link_returns_to_payouts(api, reader, stripe_api):  # noqa: F811
    started = _started(api)
    [create] = stripe_api.calls("POST", "/v1/accounts")
    assert create.form["type"] == "express" and create.form["capabilities[transfers][requested]"] == "true"
    assert create.under("metadata") == {"readerId": READER} and create.form["email"] == f"{READER}@example.com"
    assert create.idempotency_key == f"connect-account:{READER}"
    [link] = stripe_api.calls("POST", "/v1/account_links")
    assert link.form == {
        "account": started["account"]["accountId"],
        "type": "account_onboarding",
        "refresh_url": "https://app.test.auralumic.example/reader/payouts?onboarding=refresh",
        "return_url": "https://app.test.auralumic.example/reader/payouts?onboarding=return",
    }
    assert started["url"].startswith("https://connect.stripe.com/setup/e/")
    # Resuming makes a new link, never a second account.
    _started(api)
    assert len(stripe_api.calls("POST", "/v1/accounts")) == 1
    assert len(stripe_api.calls("POST", "/v1/account_links")) == 2
    # Where Stripe is real there is no local onboarding page.
    assert api.get(f"/local/connect/{started['account']['accountId']}").status_code == 404


def test_earnings_show_the_money_value_of_credits(api, reader):
    """PAYOUT_MINOR_PER_CREDIT (20 by default: $0.20) beside every count of credits."""
    from chalicelib.services import ledger
    from chalicelib.services.tx import atomically

    # A completed reading's payout (50 credits, 10 the fee), drawing on the captured revenue.
    atomically(
        lambda tx: ledger.post(
            tx,
            ledger.Movement(
                entry_id="capture:rdg_1",
                kind="capture",
                ref="rdg_1",
                postings=(("external:promotions", -50), ("platform:revenue", 50)),
            ),
        )
    )
    atomically(
        lambda tx: ledger.post(
            tx,
            ledger.Movement(
                entry_id="payout:rdg_1",
                kind="payout",
                ref="rdg_1",
                memo="Reading completed",
                postings=(
                    ("platform:revenue", -50),
                    (ledger.user_account(READER, "earnings"), 40),
                    ("platform:fees", 10),
                ),
            ),
        )
    )
    body = api.get("/reader/earnings", as_user=READER).json_body
    assert (body["currency"], body["minorPerCredit"]) == ("usd", 20)
    assert body["balance"] == 40 and body["balanceAmount"] == 800
    week = body["thisWeek"]
    assert week["amount"] == week["credits"] * 20 and week["currency"] == "usd"
    assert [(line["credits"], line["amount"], line["currency"]) for line in body["data"]] == [(40, 800, "usd")]
