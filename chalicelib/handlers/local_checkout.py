"""Local only: the stand-in for Stripe's Checkout page, for payments without a Stripe account.

app.py registers this blueprint only when payments are local (``payments_are_local``: the
embedded default and the tests); the cloud stages neither serve nor document it
(``openapi.build_document`` leaves out ``/local/`` paths there).
"""

from __future__ import annotations

import html

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.schemas.credits import DeliveredEvent, LocalCheckoutIn, LocalCheckoutOut
from chalicelib.services import payments

local_checkout_api = Blueprint(__name__)
# Served only where payments are the local stand-in (chalicelib/route_table.py carries the condition).
ONLY_WHEN = "payments_are_local"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auralumic local checkout</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}}</style></head>
<body><h1>Local checkout</h1>
<p>No money moves here: this page stands in for Stripe Checkout on the local stack. Paying sends
signed Stripe events to <code>POST /webhooks/stripe</code>, exactly as Stripe would.</p>
<p><strong>{name}</strong><br>{amount} {currency}{interval}</p>
<p id="actions"><button id="pay" onclick="finish('paid')">Pay</button>
<button id="fail" onclick="finish('failed')">Fail the payment</button></p>
<pre id="result"></pre>
<script>
async function finish(outcome) {{
  const response = await fetch(location.pathname, {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{outcome}})}});
  const body = await response.json();
  document.getElementById("result").textContent = JSON.stringify(body, null, 2);
  if (response.ok && outcome === "paid") {{ setTimeout(() => location.href = {success}, 1500); }}
}}
</script></body></html>"""


@route(local_checkout_api, "/local/checkout/{sessionId}", "GET", access=PUBLIC, content_type="text/html",
       errors=(404,), tags=["local"], summary="Local stack only: the stand-in for Stripe's Checkout page")
def local_checkout_page(ctx: RequestContext, sessionId: str) -> str:
    """Only where payments are local (where Checkout is Stripe's own page, this route does
    not exist); 404 for an unknown session."""
    session = payments.local_session(sessionId)
    item = session["line_item"]
    success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", sessionId)
    return _PAGE.format(name=html.escape(item["name"]), amount=f"{item['amount'] / 100:.2f}",
                        currency=html.escape(session["currency"].upper()),
                        interval=f" per {html.escape(item['interval'])}" if item.get("interval") else "",
                        success=html.escape(repr(success)))


@route(local_checkout_api, "/local/checkout/{sessionId}", "POST", access=PUBLIC, body=LocalCheckoutIn,
       response=LocalCheckoutOut, errors=(404, 409), tags=["local"],
       summary="Local stack only: pay (or fail) a checkout session; delivers signed Stripe events")
def local_checkout_complete(ctx: RequestContext, sessionId: str) -> LocalCheckoutOut:
    """The events go through the real webhook path (signature, record, outbox); the local
    workers then grant the credits within a second or two. 409 when already completed."""
    body: LocalCheckoutIn = ctx.body
    delivered = payments.complete_local_checkout(sessionId, body.outcome)
    return LocalCheckoutOut(session_id=sessionId, outcome=body.outcome, events=[
        DeliveredEvent(event_id=d.event_id, type=d.type, duplicate=d.duplicate) for d in delivered])
