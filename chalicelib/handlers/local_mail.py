"""Local only: the mail viewer, every email the app sent, newest first.

app.py registers this blueprint only when ``settings.mail_viewer`` is on (the local stage
and the tests), where the email service keeps a copy of each email it sends
(services/notifications/mailbox.py). The cloud stages neither serve nor document it.
"""

from __future__ import annotations

import html

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.errors import NotFound
from chalicelib.schemas.email import LocalMailItem, LocalMailList, LocalMailQuery
from chalicelib.services.notifications import mailbox

local_mail_api = Blueprint(__name__)
# Served only where the local mail viewer is on (chalicelib/route_table.py carries the condition).
ONLY_WHEN = "mail_viewer"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auralumic local mail</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#2a2340}}table{{border-collapse:collapse}}
td,th{{padding:.35rem .7rem;border-bottom:1px solid #ddd;text-align:left}}</style></head>
<body><h1>Local mail</h1>
<p>Every email the local stack sent through SES (moto's), newest first. Nothing here left this machine.
As JSON: <a href="/local/mail/messages">/local/mail/messages</a>.</p>
<table><thead><tr><th>Sent</th><th>To</th><th>Subject</th><th>Type</th><th>View</th></tr></thead>
<tbody>{rows}</tbody></table></body></html>"""
_ROW = ("<tr><td>{sent}</td><td>{to}</td><td>{subject}</td><td>{type}</td>"
        "<td><a href=\"{html_url}\">HTML</a> · <a href=\"{text_url}\">text</a></td></tr>")
_EMPTY = "<tr><td colspan=\"5\">No email was sent yet.</td></tr>"


def _item(kept: mailbox.KeptEmail) -> LocalMailItem:
    return LocalMailItem(id=kept.mail_id, to=kept.to, subject=kept.subject, type=kept.type, sent_at=kept.sent_at,
                         user_id=kept.user_id, event_id=kept.event_id, headers=kept.headers,
                         html_url=f"/local/mail/{kept.mail_id}/html", text_url=f"/local/mail/{kept.mail_id}/text")


@route(local_mail_api, "/local/mail", "GET", access=PUBLIC, query=LocalMailQuery, content_type="text/html",
       tags=["local"], summary="Local stack only: the mail viewer (every email sent, newest first)")
def local_mail_page(ctx: RequestContext) -> str:
    items = [_item(kept) for kept in mailbox.recent(ctx.query.limit)]
    rows = "".join(_ROW.format(sent=html.escape(i.sent_at), to=html.escape(i.to), subject=html.escape(i.subject),
                               type=html.escape(i.type), html_url=html.escape(i.html_url),
                               text_url=html.escape(i.text_url)) for i in items)
    return _PAGE.format(rows=rows or _EMPTY)


@route(local_mail_api, "/local/mail/messages", "GET", access=PUBLIC, query=LocalMailQuery, response=LocalMailList,
       tags=["local"], summary="Local stack only: the emails sent, newest first, as JSON")
def local_mail_list(ctx: RequestContext) -> LocalMailList:
    return LocalMailList(messages=[_item(kept) for kept in mailbox.recent(ctx.query.limit)])


@route(local_mail_api, "/local/mail/{mailId}/html", "GET", access=PUBLIC, content_type="text/html", errors=(404,),
       tags=["local"], summary="Local stack only: an email's HTML part, as its recipient sees it")
def local_mail_html(ctx: RequestContext, mailId: str) -> str:
    kept = mailbox.get(mailId)
    if kept is None:
        raise NotFound("email")
    return kept.html


@route(local_mail_api, "/local/mail/{mailId}/text", "GET", access=PUBLIC, content_type="text/plain; charset=utf-8",
       errors=(404,), tags=["local"], summary="Local stack only: an email's text part")
def local_mail_text(ctx: RequestContext, mailId: str) -> str:
    kept = mailbox.get(mailId)
    if kept is None:
        raise NotFound("email")
    return kept.text
