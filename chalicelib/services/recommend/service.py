"""``GET /me/recommendations`` (and the client dashboard): readers ranked for one client.

Reads: the client's interactions (one Query, ``interactions.history``), the explore snapshot
(in memory, ``explore.store``) and the online overlay (cached seconds). Candidates are not
every reader (the snapshot may hold 100,000): the readers the client interacted with, the
best-rated readers of each attribute the client likes most, the best-rated readers overall
and the best-rated online ones, each list taken from the snapshot's search index; the pure
``scoring.rank`` orders them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.models.base import utcnow
from chalicelib.services import reader_cards
from chalicelib.services.explore import engine, overlay, store
from chalicelib.services.recommend import interactions, scoring

DEFAULT_LIMIT, MAX_LIMIT = 10, 50
TASTE_ATTRIBUTES = 5  # the liked attributes that each bring their own candidates
PER_ATTRIBUTE, TOP_RATED, TOP_ONLINE = 60, 150, 60


@dataclass(frozen=True)
class Recommended:
    card: dict[str, Any]  # the snapshot's card with live isOnline and isFavorite
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Recommendations:
    items: list[Recommended]
    personalized: bool  # false: a cold start (no history yet)
    generated_at: str  # when the snapshot the cards come from was built


def _search(index: engine.Index, filters: engine.Filters, *, online: frozenset[str], favorites: frozenset[str],
            role: str | None, now: datetime, limit: int) -> list[str]:
    outcome = index.search(filters, online=online, favorites=favorites, viewer_role=role, now=now, offset=0,
                           limit=limit)
    return list(outcome.reader_ids)


def _candidate_ids(loaded: store.Snapshot, history: interactions.History, taste: scoring.Taste, *,
                   online: frozenset[str], favorites: frozenset[str], role: str | None,
                   now: datetime) -> Iterator[str]:
    index = loaded.index
    yield from history.readers
    for attribute_id in taste.top(TASTE_ATTRIBUTES):
        kind = taste.kinds.get(attribute_id)
        if kind not in ("tools", "abilities", "styles"):
            continue
        only = (attribute_id,)
        filters = engine.Filters(tools=only if kind == "tools" else (), abilities=only if kind == "abilities" else (),
                                 styles=only if kind == "styles" else (), sort="rating")
        yield from _search(index, filters, online=online, favorites=favorites, role=role, now=now,
                           limit=PER_ATTRIBUTE)
    yield from _search(index, engine.Filters(sort="rating"), online=online, favorites=favorites, role=role, now=now,
                       limit=TOP_RATED)
    yield from _search(index, engine.Filters(online_now=True, sort="rating"), online=online, favorites=favorites,
                       role=role, now=now, limit=TOP_ONLINE)


def recommend(user_id: str, *, role: str | None, limit: int = DEFAULT_LIMIT,
              now: datetime | None = None) -> Recommendations:
    """The ``limit`` (1..``MAX_LIMIT``) readers to show ``user_id`` first, with reasons."""
    limit = max(1, min(limit, MAX_LIMIT))
    moment = now or utcnow()
    history = interactions.history(user_id)
    loaded = store.current()
    online = overlay.visible(overlay.online_ids(), loaded.hidden_presence)
    favorites = frozenset(reader_id for reader_id, entry in history.readers.items() if entry.is_favorite)
    taste = scoring.taste(history, loaded.card)
    cards: list[dict[str, Any]] = []
    seen: set[str] = set()
    for reader_id in _candidate_ids(loaded, history, taste, online=online, favorites=favorites, role=role,
                                    now=moment):
        if reader_id in seen:
            continue
        seen.add(reader_id)
        card = loaded.card(reader_id)
        if card is not None and reader_cards.visible_to(card, role):
            cards.append(card)
    ranked = scoring.rank(cards, history, taste, online=online, limit=limit, viewer_id=user_id)
    items = []
    for entry in ranked:
        card = loaded.card(entry.reader_id)
        if card is not None:
            items.append(Recommended(card={**card, "isOnline": entry.reader_id in online,
                                           "isFavorite": entry.reader_id in favorites},
                                     score=entry.score, reasons=entry.reasons))
    return Recommendations(items=items, personalized=not taste.is_empty, generated_at=loaded.built_at)
