"""``GET /readers``: a page of the explore snapshot for one caller.

A warm request reads nothing from DynamoDB but the online overlay's Query (itself cached a
few seconds) and, for a signed-in caller, one Query of their favorites (``favorites_of``):
the snapshot is in memory (``store``), the catalog ids the filters are checked against are
cached ``CATALOG_TTL_S`` per container.
Pages are offsets into the filtered, sorted list, carried in a signed cursor scoped to the
route and the filters (a cursor of another search is a 400).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.models.base import utcnow
from chalicelib.pagination import PageResult, decode_cursor, encode_cursor
from chalicelib.services import catalog, favorites, readers
from chalicelib.services.explore import engine, overlay, store
from chalicelib.ttl_cache import TtlCache

ROUTE_SCOPE = "GET /readers"
CATALOG_TTL_S = 60.0
_NOUNS = {"abilities": "ability", "tools": "tool", "styles": "style", "readingTypes": "reading type",
          "badges": "badge"}


def favorites_of(user_id: str) -> frozenset[str]:
    """The reader ids ``user_id`` favorited: one Query of their favorites (a signed-in caller
    only; the route's one DynamoDB read besides the overlay)."""
    return favorites.ids_of(user_id)


# --- the catalog ids a filter may name, cached per container ------------------------------------

# The clock the cache reads (tests replace it).
monotonic: Callable[[], float] = time.monotonic
def _load_catalog_ids() -> dict[str, frozenset[str]]:
    loaded = catalog.load()
    ids = {"abilities": loaded["attributes"].get("abilities", []), "tools": loaded["attributes"].get("tools", []),
           "styles": loaded["attributes"].get("styles", []), "readingTypes": loaded.get("readingTypes", []),
           "badges": loaded.get("badges", [])}
    return {key: frozenset(entry["id"] for entry in entries) for key, entries in ids.items()}


_catalog_ids = TtlCache(_load_catalog_ids, CATALOG_TTL_S)


def catalog_ids(*, clock: Callable[[], float] | None = None) -> dict[str, frozenset[str]]:
    """{filter field: active catalog ids}: one catalog Query per ``CATALOG_TTL_S``."""
    return _catalog_ids.get(clock=clock or monotonic)


def forget_cached() -> None:
    """Drop every per-container explore cache: the snapshot, the overlay, the catalog ids
    (between tests)."""
    _catalog_ids.forget()
    store.forget()
    overlay.forget()


def check_catalog(values: dict[str, tuple[str, ...]]) -> None:
    """A 400 naming each filter id the active catalog does not offer (``values``: {query
    field: ids})."""
    if not any(values.values()):
        return
    known = catalog_ids()
    errors = [readers.field_error(name, f"{value!r} is not an active {_NOUNS[name]} in the catalog.",
                                  "not_in_catalog")
              for name, ids in values.items() for value in ids if value not in known.get(name, frozenset())]
    if errors:
        raise readers.invalid(errors)


# --- the search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who asks: anonymous (``user_id`` None) or a signed-in user and their role."""

    user_id: str | None = None
    role: str | None = None


@dataclass
class Found:
    cards: list[dict[str, Any]]
    page: PageResult[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    total: int
    suggestions: list[str]
    built_at: str

    def body(self) -> dict[str, Any]:
        return {"data": self.cards, "pagination": self.page.meta(), "facets": self.facets, "totalCount": self.total,
                "suggestions": self.suggestions, "meta": {"cached": True, "generatedAt": self.built_at}}


def _scope(filters: engine.Filters) -> str:
    digest = hashlib.sha256(json.dumps(asdict(filters), sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{ROUTE_SCOPE}?{digest}"


def _offset(cursor: str | None, scope: str) -> tuple[int, int]:
    """(offset, page number) a cursor leads to; (0, 1) without one."""
    if not cursor:
        return 0, 1
    key, page = decode_cursor(cursor, scope)
    offset = key.get("o")
    if set(key) != {"o"} or type(offset) is not int or offset < 1:
        raise BadRequest("The cursor is invalid or belongs to another list.", code="invalid_cursor")
    return offset, page


def search(filters: engine.Filters, viewer: Viewer, *, limit: int, cursor: str | None = None,
           now: datetime | None = None) -> Found:
    """One page of readers matching ``filters``, as ``viewer`` may see them."""
    if filters.favorites_only and viewer.user_id is None:
        raise Unauthorized("Sign in to list your favorite readers.", code="sign_in_required")
    check_catalog({"abilities": filters.abilities, "tools": filters.tools, "styles": filters.styles,
                   "readingTypes": filters.reading_types, "badges": filters.badges})
    scope = _scope(filters)
    offset, page = _offset(cursor, scope)
    loaded = store.current()
    online = overlay.visible(overlay.online_ids(), loaded.hidden_presence)
    favorites = favorites_of(viewer.user_id) if viewer.user_id is not None else frozenset()
    outcome = loaded.index.search(filters, online=online, favorites=favorites, viewer_role=viewer.role,
                                  now=now or utcnow(), offset=offset, limit=limit)
    cards = []
    for reader_id in outcome.reader_ids:
        card = loaded.card(reader_id)
        if card is not None:
            cards.append({**card, "isOnline": reader_id in online, "isFavorite": reader_id in favorites})
    following = offset + limit
    next_cursor = encode_cursor({"o": following}, scope, page + 1) if following < outcome.total else None
    result: PageResult[dict[str, Any]] = PageResult(items=cards, next_cursor=next_cursor, limit=limit,
                                                    total=outcome.total, page=page)
    return Found(cards=cards, page=result, facets=outcome.facets, total=outcome.total,
                 suggestions=outcome.suggestions, built_at=loaded.built_at)
