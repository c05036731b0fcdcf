"""Buying credits end to end on the local payments stand-in: checkout, the signed
webhook, the worker's grant, the balance and history a user sees."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("default_catalog")


def _checkout(api, user, package="seeker", key=None):
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/credits/checkout", as_user=user, json_body={"packageId": package}, headers=headers)


def test_paying_a_package_grants_its_credits_once_through_the_webhook(api, make_user, drain):
    make_user("buyer")
    response = _checkout(api, "buyer")
    assert response.status_code == 201, response.body
    body = response.json_body
    assert body["credits"] == 60 and body["checkoutUrl"].endswith(f"/local/checkout/{body['sessionId']}")

    # Returning to the success page grants nothing: only Stripe's event does.
    assert api.get("/credits", as_user="buyer").json_body["balance"]["available"] == 0

    paid = api.post(f"/local/checkout/{body['sessionId']}", json_body={"outcome": "paid"})
    assert paid.status_code == 200, paid.body
    assert [e["type"] for e in paid.json_body["events"]] == ["checkout.session.completed"]
    drain()
    drain()  # a second worker pass changes nothing
    credits = api.get("/credits", as_user="buyer").json_body
    assert credits["balance"] == {"available": 60, "held": 0, "earnings": 0, "payable": 0, "owed": 0,
                                 "restricted": False}
    assert [(line["kind"], line["changes"]) for line in credits["data"]] == [("grant.purchase", {"available": 60})]
    assert api.get("/me", as_user="buyer").json_body["credits"] == 60

    again = api.post(f"/local/checkout/{body['sessionId']}", json_body={"outcome": "paid"})
    assert again.status_code == 409


def test_a_failed_payment_grants_nothing(api, make_user, drain):
    make_user("buyer")
    session = _checkout(api, "buyer").json_body["sessionId"]
    failed = api.post(f"/local/checkout/{session}", json_body={"outcome": "failed"})
    assert [e["type"] for e in failed.json_body["events"]] == [
        "checkout.session.completed", "checkout.session.async_payment_failed"]
    drain()
    credits = api.get("/credits", as_user="buyer").json_body
    assert credits["balance"]["available"] == 0 and credits["data"] == []


def test_no_subscription_is_an_explicit_null(api, make_user):
    make_user("nosub")
    response = api.get("/subscriptions/me", as_user="nosub")
    assert response.status_code == 200 and response.json_body == {"subscription": None}
    assert api.delete("/subscriptions/me", as_user="nosub").status_code == 404
