"""Optimistic locking over HTTP: a versioned resource answers its version as ``ETag: "<n>"``,
and a write that sends ``If-Match: "<n>"`` applies to that version only (a stale one is a 409
``version_mismatch`` from the service, with ``details.currentVersion``).

One parser for every route that honours ``If-Match`` (the catalog, legal documents, statuses,
the reader profile), so they all accept the same spellings and refuse the same way.
"""

from __future__ import annotations

from chalicelib.api import RequestContext
from chalicelib.errors import BadRequest


def etag(version: int) -> str:
    """The ``ETag`` header value of a resource at ``version`` (a strong tag: ``"3"``)."""
    return f'"{version}"'


def if_match(ctx: RequestContext, *, noun: str = "version") -> int | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``); ``*`` or none: any.
    ``noun`` names it in the 400 for anything else (``revision`` for a legal document)."""
    raw = (ctx.request.headers.get("if-match") or "").strip()
    if not raw or raw == "*":
        return None
    text = raw.removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # "²".isdigit(); int() caps at 4300 digits
        raise BadRequest(
            f'If-Match must be the {noun} its ETag gives (e.g. "3").', code="invalid_if_match", details={"ifMatch": raw}
        )
    return int(text)
