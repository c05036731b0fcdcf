"""Local only: the transfers the local payments stand-in made for payouts, and what Stripe
would report about them later (a reversal, a payout the reader's bank refused).

Registered only when payments are local (``payments_are_local``: the embedded default and the
tests); the cloud stages neither serve nor document it.
"""

from __future__ import annotations

import html

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.schemas.credits import DeliveredEvent
from chalicelib.schemas.payouts import LocalTransferIn, LocalTransferOut
from chalicelib.services.payouts import local_transfers

local_transfers_api = Blueprint(__name__)
# Served only where payments are the local stand-in (chalicelib/route_table.py carries the condition).
ONLY_WHEN = "payments_are_local"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auralumic local transfers</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem}}
td,th{{padding:.3rem .6rem;text-align:left}}button{{margin-right:.3rem}}</style></head>
<body><h1>Local transfers</h1>
<p>No money moves here: the transfers the local payments stand-in made for readers' payouts.
The buttons send the signed Stripe events a reversal or a refused bank payout would send to
<code>POST /webhooks/stripe</code>.</p>
<table><tr><th>Transfer</th><th>Payout</th><th>Amount</th><th>Account</th><th>State</th><th></th></tr>
{rows}</table>
<pre id="result"></pre>
<script>
async function act(id, action) {{
  const response = await fetch("/local/transfers/" + id, {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{action}})}});
  document.getElementById("result").textContent = JSON.stringify(await response.json(), null, 2);
}}
</script></body></html>"""

_ROW = (
    "<tr><td><code>{id}</code></td><td><code>{payout}</code></td><td>{amount} {currency}</td>"
    "<td><code>{destination}</code></td><td>{state}</td><td>{buttons}</td></tr>"
)
_BUTTONS = (
    "<button onclick=\"act('{id}', 'reverse')\">Reverse</button>"
    "<button onclick=\"act('{id}', 'fail_payout')\">Bank refuses the payout</button>"
)


@route(
    local_transfers_api,
    "/local/transfers",
    "GET",
    access=PUBLIC,
    content_type="text/html",
    tags=["local"],
    summary="Local stack only: the transfers made for payouts, to reverse or fail one",
)
def local_transfers_page(ctx: RequestContext) -> str:
    """Only where payments are local (this route does not exist elsewhere)."""
    rows = []
    for transfer in local_transfers.local_transfers():
        transfer_id = html.escape(transfer["id"])
        rows.append(
            _ROW.format(
                id=transfer_id,
                payout=html.escape(transfer["transfer_group"]),
                amount=f"{transfer['amount'] / 100:.2f}",
                currency=html.escape(transfer["currency"].upper()),
                destination=html.escape(transfer["destination"]),
                state="reversed" if transfer["reversed"] else "transferred",
                buttons="" if transfer["reversed"] else _BUTTONS.format(id=transfer_id),
            )
        )
    return _PAGE.format(rows="\n".join(rows) or "<tr><td colspan=6>No transfers yet.</td></tr>")


@route(
    local_transfers_api,
    "/local/transfers/{transferId}",
    "POST",
    access=PUBLIC,
    body=LocalTransferIn,
    response=LocalTransferOut,
    errors=(404, 409),
    tags=["local"],
    summary="Local stack only: reverse a transfer, or have the reader's bank refuse its payout",
)
def local_transfer_action(ctx: RequestContext, transferId: str) -> LocalTransferOut:
    """Delivers the signed events through the real webhook path; the payment workers return
    the payout's credits to the reader's available earnings, once. 404 for an unknown
    transfer, 409 for one reversed already."""
    body: LocalTransferIn = ctx.body
    delivered = local_transfers.act_on_transfer(transferId, body.action)
    return LocalTransferOut(
        transfer_id=transferId,
        action=body.action,
        events=[DeliveredEvent(event_id=d.event_id, type=d.type, duplicate=d.duplicate) for d in delivered],
    )
