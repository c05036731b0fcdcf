"""Opaque, signed cursors and clamped page sizes for every list.

A cursor is ``base64url(json({"k": last_evaluated_key, "p": page})) "." base64url(hmac)``:
the key the next page starts after and the number of that page (a request without a cursor
is page 1). The HMAC covers both *and* the list's scope (route plus owner), so a tampered
cursor (or page number), or one taken from another list or another user's list, is a 400
rather than a peek elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.models.base import iso, utcnow

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


class PageRequest(Protocol):
    """What a list route's query carries (schemas.common.PageQuery); services take the two
    plain values instead (``query_page``)."""

    @property
    def limit(self) -> int: ...

    @property
    def cursor(self) -> str | None: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, scope: str) -> str:
    key = get_settings().cursor_secret.encode()
    mac = hmac.new(key, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
    return _b64(mac[:18])


def encode_cursor(last_key: dict[str, Any], scope: str, page: int) -> str:
    """The cursor of page ``page`` (2 or more), which starts after ``last_key``."""
    body = {"k": last_key, "p": page}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(payload, scope)}"


def decode_cursor(cursor: str, scope: str) -> tuple[dict[str, Any], int]:
    """The key a cursor starts after and the number of the page it leads to."""
    invalid = BadRequest("The cursor is invalid or belongs to another list.", code="invalid_cursor")
    payload, _, signature = cursor.partition(".")
    if not cursor.isascii():  # ours always is; compare_digest raises TypeError on non-ASCII str
        raise invalid
    if not payload or not signature or not hmac.compare_digest(signature, _sign(payload, scope)):
        raise invalid
    try:
        body = json.loads(_unb64(payload))
    except ValueError as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise invalid from exc
    if not isinstance(body, dict) or set(body) != {"k", "p"}:
        raise invalid
    key, page = body["k"], body["p"]
    if not isinstance(key, dict) or type(page) is not int or page < 2:
        raise invalid
    return key, page


def _read_at() -> datetime:
    return utcnow()


@dataclass
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None
    limit: int
    # The exact number of items of the whole list, where it is kept beside them (never counted
    # by reading them all): None where it is not.
    total: int | None = None
    # This page's number: 1 without a cursor, else the number the cursor carries.
    page: int = 1
    # When the page was read from its table (every list is read, not cached, for now).
    generated_at: datetime = field(default_factory=_read_at)

    @property
    def total_pages(self) -> int | None:
        """How many pages the list has: from ``total`` where it is kept (at least 1 and never
        fewer than this page's number, so an empty list is one empty page); else this page's
        number once it is the last; else None (unknown without reading the rest)."""
        if self.total is not None:
            return max(self.page, math.ceil(self.total / self.limit))
        return self.page if self.next_cursor is None else None

    def meta(self) -> dict[str, Any]:
        """The ``pagination`` object of the response."""
        meta: dict[str, Any] = {"page": self.page, "limit": self.limit, "nextCursor": self.next_cursor,
                                "hasNext": self.next_cursor is not None, "hasPrev": self.page > 1,
                                "totalPages": self.total_pages}
        if self.total is not None:
            meta["total"] = self.total
        return meta

    def page_meta(self) -> dict[str, Any]:
        """The ``meta`` object of the response: lists are served from their tables, uncached."""
        return {"cached": False, "generatedAt": iso(self.generated_at)}

    def body(self, data: list[Any]) -> dict[str, Any]:
        """``{"data", "pagination", "meta"}``: the response of a list route."""
        return {"data": data, "pagination": self.meta(), "meta": self.page_meta()}


def paginate(
    run_query: Callable[[int, dict[str, Any] | None], Any],
    page: PageRequest,
    scope: str,
) -> PageResult[Any]:
    """Run one Query page. ``run_query(limit, exclusive_start_key)`` returns a PynamoDB
    result iterator (it exposes ``last_evaluated_key`` once consumed)."""
    return query_page(run_query, limit=page.limit, cursor=page.cursor, scope=scope)


def query_page(
    run_query: Callable[[int, dict[str, Any] | None], Any], *, limit: int, cursor: str | None, scope: str,
) -> PageResult[Any]:
    """``paginate`` over plain values (for services, which never see a request schema);
    the limit is clamped to 1..MAX_LIMIT here too."""
    limit = max(1, min(limit, MAX_LIMIT))
    start, page = decode_cursor(cursor, scope) if cursor else (None, 1)
    results = run_query(limit, start)
    items = list(results)
    last_key = results.last_evaluated_key if len(items) >= limit else None
    return PageResult(items=items, next_cursor=encode_cursor(last_key, scope, page + 1) if last_key else None,
                      limit=limit, page=page)
