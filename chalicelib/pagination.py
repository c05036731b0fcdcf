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
from typing import Any, Generic, TypeVar

from pydantic import Field, field_validator

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.schemas.common import QueryModel

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


class PageQuery(QueryModel):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1,
                       description=f"page size, default {DEFAULT_LIMIT}, clamped to {MAX_LIMIT}")
    cursor: str | None = Field(default=None, max_length=2048, description="opaque cursor from pagination.nextCursor")

    @field_validator("limit")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return min(value, MAX_LIMIT)


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
    invalid = BadRequest("cursor is invalid or belongs to another list", code="invalid_cursor")
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

    def meta(self) -> dict[str, Any]:
        return {"limit": self.limit, "nextCursor": self.next_cursor, "hasNext": self.next_cursor is not None}



def paginate(
    run_query: Callable[[int, dict[str, Any] | None], Any],
    page: PageQuery,
    scope: str,
) -> PageResult[Any]:
    """Run one Query page. ``run_query(limit, exclusive_start_key)`` returns a PynamoDB
    result iterator (it exposes ``last_evaluated_key`` once consumed)."""
    start = decode_cursor(page.cursor, scope) if page.cursor else None
    results = run_query(page.limit, start)
    items = list(results)
    last_key = results.last_evaluated_key if len(items) >= page.limit else None
    return PageResult(items=items, next_cursor=encode_cursor(last_key, scope) if last_key else None, limit=page.limit)
