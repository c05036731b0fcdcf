"""The local stand-in for Stripe Checkout exists only where payments are local.

Where payments are local (the embedded default, these tests) the page is served and its
"pay" button delivers signed events through the real webhook; where Stripe is real (the
cloud stages), the app neither registers nor documents any ``/local/`` route.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.stripe_api import stripe_api  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("default_catalog")

ROOT = Path(__file__).resolve().parents[2]


def test_the_cloud_openapi_document_has_no_local_path(chalice_app, stripe_api):  # noqa: F811
    """With a real Stripe key (the stripe_api fixture sets one), the document leaves the
    local routes out; with the local stand-in it documents them."""
    from chalicelib.config import get_settings
    from chalicelib.openapi import build_document

    assert not get_settings().payments_are_local
    cloud = build_document()
    assert cloud["paths"] and not [path for path in cloud["paths"] if path.startswith("/local/")]
    assert "local" not in {tag["name"] for tag in cloud["tags"]}


def test_the_local_document_has_the_checkout_page(chalice_app):
    from chalicelib.openapi import build_document

    assert set(build_document()["paths"]["/local/checkout/{sessionId}"]) == {"get", "post"}


def test_an_app_with_real_stripe_registers_no_local_route():
    """app.py imported as a cloud stage would (its own process: settings are read at import)."""
    env = {**os.environ, "STAGE": "dev", "STRIPE_SECRET_KEY": "sk_test_cloud", "PYTHONPATH": str(ROOT)}
    probe = ("import json, app; from chalicelib.openapi import build_document; "
             "print(json.dumps({'routes': sorted(app.app.routes), 'documented': sorted(build_document()['paths'])}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "/webhooks/stripe" in found["routes"] and "/webhooks/stripe" in found["documented"]
    assert [path for path in found["routes"] + found["documented"] if path.startswith("/local/")] == []


def test_locally_the_page_is_served_and_paying_delivers_the_events(api, make_user, drain):
    make_user("buyer")
    opened = api.post("/credits/checkout", as_user="buyer", json_body={"packageId": "seeker"}).json_body
    page = api.get(f"/local/checkout/{opened['sessionId']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Seeker" in page.body.decode() and "17.99 USD" in page.body.decode()
    # A page for one buyer's session: never cached, never framed.
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"

    paid = api.post(f"/local/checkout/{opened['sessionId']}", json_body={"outcome": "paid"})
    assert paid.status_code == 200, paid.body
    assert paid.json_body["sessionId"] == opened["sessionId"] and paid.json_body["outcome"] == "paid"
    [delivered] = paid.json_body["events"]
    assert delivered["type"] == "checkout.session.completed" and delivered["duplicate"] is False
    drain()
    assert api.get("/credits", as_user="buyer").json_body["balance"]["available"] == 60
    assert api.get("/local/checkout/cs_local_unknown").status_code == 404
