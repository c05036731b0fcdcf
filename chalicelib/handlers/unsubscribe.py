"""The unsubscribe link of every email: public, authorized by its signed token alone.

``GET`` shows a confirmation page with a button (a GET never changes anything: mail
scanners and link previews fetch links); ``POST`` turns email off for that notification
type. The POST is also RFC 8058's one-click unsubscribe: mail clients that read the
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` header POST that body to the link.
A token that was not signed here, or was altered, is a 400.
"""

from __future__ import annotations

import html

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.schemas.email import UnsubscribeQuery
from chalicelib.services.notifications import email, links, templates

unsubscribe_api = Blueprint(__name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Auralumic email settings</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#2a2340}}
button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>
<body><h1>{heading}</h1>{body}
<p><a href="{settings}">Choose which emails you get</a></p></body></html>"""


def _label(type_: str) -> str:
    return templates.topic(type_)


@route(unsubscribe_api, links.UNSUBSCRIBE_PATH, "GET", access=PUBLIC, query=UnsubscribeQuery,
       content_type="text/html", errors=(400,), tags=["notifications"],
       summary="The unsubscribe link of an email: a confirmation page (changes nothing)")
def unsubscribe_page(ctx: RequestContext) -> str:
    """The page asks to confirm; its button POSTs to the same link. 400 for a token that was
    not signed by this service or was altered."""
    _, type_ = links.read_unsubscribe_token(ctx.query.token)
    # No action: the form posts to this page's own URL, token included, wherever the API is mounted.
    body = (f"<p>Stop emails about <strong>{html.escape(_label(type_))}</strong>? You will still see these "
            "notifications in the app.</p>\n<form method=\"post\">"
            "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
            "<button type=\"submit\">Unsubscribe</button></form>")
    return _PAGE.format(heading="Unsubscribe", body=body, settings=html.escape(links.settings_url()))


@route(unsubscribe_api, links.UNSUBSCRIBE_PATH, "POST", access=PUBLIC, query=UnsubscribeQuery,
       content_type="text/html", errors=(400,), tags=["notifications"],
       summary="Unsubscribe: email off for the notification type the link names (RFC 8058 one-click)")
def unsubscribe(ctx: RequestContext) -> str:
    """Idempotent: a second POST succeeds and changes nothing. The body (RFC 8058's
    ``List-Unsubscribe=One-Click``) is not needed: the token says who and what."""
    _, type_ = email.unsubscribe(ctx.query.token)
    body = (f"<p>You will no longer get emails about <strong>{html.escape(_label(type_))}</strong>. "
            "You can turn them on again in your settings.</p>")
    return _PAGE.format(heading="You are unsubscribed", body=body, settings=html.escape(links.settings_url()))
