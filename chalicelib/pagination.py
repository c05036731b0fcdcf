"""Opaque, signed cursors and clamped page sizes for every list.

A cursor is ``base64url(json(last_evaluated_key)) "." base64url(hmac)``; the HMAC covers
the key *and* the list's scope (route plus owner), so a tampered cursor, or one taken
from another list or another user's list, is a 400 rather than a peek elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest

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


def encode_cursor(last_key: dict[str, Any], scope: str) -> str:
    payload = _b64(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(payload, scope)}"


def decode_cursor(cursor: str, scope: str) -> dict[str, Any]:
    invalid = BadRequest("The cursor is invalid or belongs to another list.", code="invalid_cursor")
    payload, _, signature = cursor.partition(".")
    if not cursor.isascii():  # ours always is; compare_digest raises TypeError on non-ASCII str
        raise invalid
    if not payload or not signature or not hmac.compare_digest(signature, _sign(payload, scope)):
        raise invalid
    try:
        key = json.loads(_unb64(payload))
    except ValueError as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise invalid from exc
    if not isinstance(key, dict):
        raise invalid
    return key


@dataclass
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None
    limit: int
    # The exact number of items of the whole list, where it is kept beside them (never counted
    # by reading them all): None where it is not.
    total: int | None = None

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"limit": self.limit, "nextCursor": self.next_cursor,
                                "hasNext": self.next_cursor is not None}
        if self.total is not None:
            meta["total"] = self.total
        return meta



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
    start = decode_cursor(cursor, scope) if cursor else None
    results = run_query(limit, start)
    items = list(results)
    last_key = results.last_evaluated_key if len(items) >= limit else None
    return PageResult(items=items, next_cursor=encode_cursor(last_key, scope) if last_key else None, limit=limit)
