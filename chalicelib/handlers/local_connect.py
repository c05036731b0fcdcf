"""Local only: the stand-in for Stripe's Connect onboarding, for payouts without a Stripe account.

Registered only when payments are local (``payments_are_local``: the embedded default and the
tests); the cloud stages neither serve nor document it (``openapi.build_document`` leaves out
``/local/`` paths there). The local gateway's account link points here.
"""

from __future__ import annotations

import html
import json

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.schemas.credits import DeliveredEvent
from chalicelib.schemas.payout_accounts import LocalConnectIn, LocalConnectOut
from chalicelib.services.payouts import local

local_connect_api = Blueprint(__name__)
# Served only where payments are the local stand-in (chalicelib/route_table.py carries the condition).
ONLY_WHEN = "payments_are_local"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auralumic local payout onboarding</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin:0 .5rem .5rem 0}}</style></head>
<body><h1>Local payout onboarding</h1>
<p>No bank is involved: this page stands in for Stripe's Connect onboarding on the local stack.
Submitting sends a signed <code>account.updated</code> to <code>POST /webhooks/stripe</code>,
exactly as Stripe would.</p>
<p>Account <code>{account_id}</code>{email}<br>Details submitted: {details}; payouts enabled: {payouts}</p>
<p><button id="complete" onclick="finish('complete')">Submit details (payouts enabled)</button>
<button id="due" onclick="finish('requirements_due')">Submit, identity document still due</button></p>
<pre id="result"></pre>
<script>
async function finish(outcome) {{
  const response = await fetch(location.pathname, {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{outcome}})}});
  const body = await response.json();
  document.getElementById("result").textContent = JSON.stringify(body, null, 2);
  const back = {back};
  if (response.ok && back) {{ setTimeout(() => location.href = back, 1500); }}
}}
</script></body></html>"""


@route(
    local_connect_api,
    "/local/connect/{accountId}",
    "GET",
    access=PUBLIC,
    content_type="text/html",
    errors=(404,),
    tags=["local"],
    summary="Local stack only: the stand-in for Stripe's Connect onboarding page",
)
def local_connect_page(ctx: RequestContext, accountId: str) -> str:
    """Only where payments are local (where onboarding is Stripe's own page, this route does
    not exist); 404 for an unknown account."""
    account = local.local_account(accountId)
    email = f" ({html.escape(account['email'])})" if account.get("email") else ""
    return _PAGE.format(
        account_id=html.escape(accountId),
        email=email,
        details="yes" if account["details_submitted"] else "no",
        payouts="yes" if account["payouts_enabled"] else "no",
        # A JS string literal inside <script> (where entities are not decoded).
        back=json.dumps(account.get("_return_url") or "").replace("<", "\\u003c"),
    )


@route(
    local_connect_api,
    "/local/connect/{accountId}",
    "POST",
    access=PUBLIC,
    body=LocalConnectIn,
    response=LocalConnectOut,
    errors=(404,),
    tags=["local"],
    summary="Local stack only: finish a payout onboarding; delivers a signed account.updated",
)
def local_connect_complete(ctx: RequestContext, accountId: str) -> LocalConnectOut:
    """The event goes through the real webhook path (signature, record, outbox); the local
    workers then update the reader's payout account within a second or two. Submitting again
    (e.g. the document that was due) sends a new event."""
    body: LocalConnectIn = ctx.body
    delivered = local.finish_local_onboarding(accountId, body.outcome)
    return LocalConnectOut(
        account_id=accountId,
        outcome=body.outcome,
        events=[DeliveredEvent(event_id=d.event_id, type=d.type, duplicate=d.duplicate) for d in delivered],
    )
