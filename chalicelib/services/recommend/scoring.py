"""Ranking readers for one client: pure functions over cards and the client's history, no I/O.

1. **Taste** (``taste``): how much the client likes each attribute (tool, ability, style),
   learnt from the readers they interacted with, each weighted by what they did
   (rated 4-5 stars > favorited > completed a reading > booked > viewed; a reader rated 1-2
   stars counts against their attributes), and from the topics they asked about, through
   a curated map of the attributes that suit each topic (``TOPIC_HINTS``). Every weight keeps
   the reason it came from ("Tarot, like readers you rated 5 stars").
2. **Score** of a card: ``PERSONAL`` x its taste match (``personal_match``, -1..1) +
   ``QUALITY`` x its quality (a rating shrunk towards ``PRIOR_RATING`` until it has reviews,
   the completion rate, experience) + ``ONLINE_BOOST`` when online now. A new client has no
   taste: quality and availability alone (the cold start).
3. **Pick** greedily: each next reader is the best score after a penalty for sharing the main
   tool or the style of readers already picked, so the list is not ten tarot readers.
   Readers the client knows already (favorites, readers rated or read with) take at most
   ``favorite_slots(limit)`` places: the list is for discovery. Readers the client rated 1-2
   stars and the client themself never appear.

Cards are the explore snapshot's card dicts (only readers that may be shown are there).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.services.catalog_defaults import ATTRIBUTES, slug
from chalicelib.services.recommend.interactions import History, ReaderHistory

PERSONAL, QUALITY, ONLINE_BOOST = 0.6, 0.4, 0.15
PRIOR_RATING, PRIOR_REVIEWS = 4.0, 5  # a reader with few reviews is rated near the prior
DIVERSITY_TOOL, DIVERSITY_STYLE = 0.12, 0.05
MAX_REASONS = 3
FAMILIAR_MATCH = 0.4  # the share of the taste match a reader the client knows already keeps
DISLIKED = 2.0  # an average rating at or below this: never recommended again

# Topic (catalog id) -> attributes that suit it: curated, by the default catalog's ids.
# Unknown ids (an admin renamed the catalog) simply match no reader.
TOPIC_HINTS: dict[str, tuple[str, ...]] = {
    "career-work": ("astrology", "numerology", "tarot", "straightforward"),
    "lost-seeking": ("pendulum", "clairvoyant", "dream-analysis", "scrying"),
    "love-relationships": ("tarot", "oracle-cards", "empath", "compassionate"),
    "past-life": ("medium", "channeling", "clairvoyant", "crystal-energy"),
    "life-path": ("astrology", "numerology", "i-ching", "inspirational"),
    "future-life": ("clairvoyant", "tarot", "runes", "astrology"),
}
KIND_OF: dict[str, str] = {slug(name): kind for kind, names in ATTRIBUTES.items() for name in names}


@dataclass(frozen=True)
class Affinity:
    weight: float
    reason: str  # "like readers you rated 5 stars": follows the attribute's name
    strength: float  # the largest single contribution: the one the reason names


@dataclass(frozen=True)
class Taste:
    attributes: dict[str, Affinity] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # attribute id -> display name
    kinds: dict[str, str] = field(default_factory=dict)  # attribute id -> tools | abilities | styles

    @property
    def is_empty(self) -> bool:
        return not any(a.weight > 0 for a in self.attributes.values())

    def top(self, count: int) -> list[str]:
        """The ``count`` attribute ids the client likes most (positive weights only)."""
        liked = [(a.weight, attribute_id) for attribute_id, a in self.attributes.items() if a.weight > 0]
        return [attribute_id for _, attribute_id in sorted(liked, key=lambda p: (-p[0], p[1]))[:count]]


@dataclass(frozen=True)
class Recommendation:
    reader_id: str
    score: float
    reasons: tuple[str, ...]


def card_attributes(card: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(attribute id, kind) of a card: its tools, abilities and style."""
    attributes = card.get("attributes") or {}
    pairs = [(a, "tools") for a in attributes.get("tools") or []]
    pairs += [(a, "abilities") for a in attributes.get("abilities") or []]
    if attributes.get("style"):
        pairs.append((attributes["style"], "styles"))
    return pairs


def _stars(count: float) -> str:
    return f"{count:g} star" + ("" if count == 1 else "s")


def _signals(entry: ReaderHistory) -> list[tuple[float, str]]:
    """(weight, reason) of what the client did with one reader."""
    signals: list[tuple[float, str]] = []
    average = entry.average_rating
    if average is not None:
        if average <= DISLIKED:
            signals.append((-1.5, ""))
        elif average >= 4:
            stars = round(average)
            signals.append((3.0 if stars >= 5 else 2.0, f"like readers you rated {_stars(stars)}"))
    if entry.is_favorite:
        signals.append((2.0, "like readers in your favorites"))
    if entry.completions:
        signals.append((1.0 + 0.5 * min(entry.completions, 3), "like readers you had readings with"))
    elif entry.bookings:
        signals.append((0.75, "like readers you booked"))
    if entry.views:
        signals.append((0.15 * min(entry.views, 4), "like readers you viewed"))
    return signals


def taste(history: History, card_of: Callable[[str], Mapping[str, Any] | None]) -> Taste:
    """The client's attribute affinities (see the module docstring). ``card_of`` looks a
    reader up in the snapshot: a reader no longer shown teaches nothing."""
    weights: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    names: dict[str, str] = {}
    kinds: dict[str, str] = dict(KIND_OF)

    def add(attribute_id: str, weight: float, reason: str) -> None:
        weights[attribute_id] = weights.get(attribute_id, 0.0) + weight
        if reason and weight > best.get(attribute_id, (0.0, ""))[0]:
            best[attribute_id] = (weight, reason)

    for reader_id, entry in history.readers.items():
        card = card_of(reader_id)
        if card is None:
            continue
        signals = _signals(entry)
        if not signals:
            continue
        card_names = card.get("attributeNames") or {}
        for attribute_id, kind in card_attributes(card):
            kinds[attribute_id] = kind
            names.setdefault(attribute_id, card_names.get(attribute_id) or attribute_id.replace("-", " ").title())
            for weight, reason in signals:
                add(attribute_id, weight, reason)
    for topic_id, (topic_name, asked) in history.topics.items():
        for attribute_id in TOPIC_HINTS.get(topic_id, ()):
            add(attribute_id, 0.8 * min(asked, 3), f"often chosen for {topic_name} questions")
    affinities = {attribute_id: Affinity(weight=weight, reason=best.get(attribute_id, (0.0, ""))[1],
                                         strength=best.get(attribute_id, (0.0, ""))[0])
                  for attribute_id, weight in weights.items()}
    return Taste(attributes=affinities, names=names, kinds=kinds)


def quality(card: Mapping[str, Any]) -> float:
    """0..1: the rating shrunk towards the prior by its number of reviews, the completion
    rate (neutral until the reader has completed a few readings) and experience."""
    count = int(card.get("ratingCount") or 0)
    average = float(card.get("ratingAverage") or 0)
    shrunk = (average * count + PRIOR_RATING * PRIOR_REVIEWS) / (count + PRIOR_REVIEWS)
    rating = min(1.0, max(0.0, (shrunk - 3.0) / 2.0))
    readings = int(card.get("totalReadings") or 0)
    rate = (card.get("stats") or {}).get("completionRate")
    completion = float(rate) / 100 if isinstance(rate, int | float) and readings >= 5 else 0.8
    experience = min(1.0, math.log1p(readings) / math.log1p(200))
    return 0.6 * rating + 0.25 * completion + 0.15 * experience


def _name(card: Mapping[str, Any], attribute_id: str, taste_: Taste) -> str:
    return ((card.get("attributeNames") or {}).get(attribute_id) or taste_.names.get(attribute_id)
            or attribute_id.replace("-", " ").title())


def reasons(card: Mapping[str, Any], taste_: Taste, *, online: bool,
            history: ReaderHistory | None = None) -> tuple[str, ...]:
    """Why this reader is recommended, strongest first, as sentences a client reads."""
    found: list[str] = []
    average = history.average_rating if history is not None else None
    if average is not None and average >= 4:
        found.append(f"You rated them {_stars(round(average))}")
    if history is not None and history.completions:
        found.append(f"You had {history.completions} reading{'' if history.completions == 1 else 's'} with them")
    liked = [(taste_.attributes[a].strength, a) for a, _ in card_attributes(card)
             if a in taste_.attributes and taste_.attributes[a].weight > 0 and taste_.attributes[a].reason]
    if liked and not familiar(history):  # a known reader is there for themself, not for their tarot
        _, attribute_id = max(liked, key=lambda p: (p[0], p[1]))
        found.append(f"{_name(card, attribute_id, taste_)}, {taste_.attributes[attribute_id].reason}")
    if history is not None and history.is_favorite:
        found.append("In your favorites")
    if online:
        found.append("Online now")
    count, average = int(card.get("ratingCount") or 0), float(card.get("ratingAverage") or 0)
    if count >= 3 and average >= 4.0:
        found.append(f"Rated {average:.1f} from {count} reviews")
    readings = int(card.get("totalReadings") or 0)
    rate = (card.get("stats") or {}).get("completionRate")
    if isinstance(rate, int | float) and rate >= 90 and readings >= 10:
        found.append(f"Completes {rate:g}% of the readings they accept")
    if not found:
        found.append("New on Auralumic" if readings == 0 else
                     f"{readings} reading{'' if readings == 1 else 's'} completed")
    return tuple(found[:MAX_REASONS])


def favorite_slots(limit: int) -> int:
    """How many places of a list of ``limit`` readers the client knows already (``familiar``:
    favorites, readers rated or read with) may take: the list is for finding new ones."""
    return max(1, limit // 5)


def rank(candidates: Iterable[Mapping[str, Any]], history: History, taste_: Taste, *, online: frozenset[str],
         limit: int, viewer_id: str | None = None) -> list[Recommendation]:
    """The best ``limit`` candidates for the client, each with its reasons."""
    pool: dict[str, Mapping[str, Any]] = {}
    for card in candidates:
        reader_id = card.get("id")
        if not isinstance(reader_id, str) or reader_id == viewer_id or reader_id in pool:
            continue
        entry = history.readers.get(reader_id)
        average = entry.average_rating if entry is not None else None
        if average is not None and average <= DISLIKED:
            continue
        pool[reader_id] = card
    # A known reader matches the taste they taught perfectly: only part of it counts for them.
    base = {reader_id: PERSONAL * personal_match(card, taste_)
            * (FAMILIAR_MATCH if familiar(history.readers.get(reader_id)) else 1.0)
            + QUALITY * quality(card) + (ONLINE_BOOST if reader_id in online else 0.0)
            for reader_id, card in pool.items()}
    return _pick(pool, base, history, taste_, online=online, limit=limit)


def personal_match(card: Mapping[str, Any], taste_: Taste) -> float:
    """-1..1: the sum of the client's weights for the card's attributes, saturating at about
    the weight of the client's favourite attribute (one strong match is most of the score)."""
    scale = max((abs(a.weight) for a in taste_.attributes.values()), default=0.0)
    if not scale:
        return 0.0
    raw = sum(taste_.attributes[a].weight for a, _ in card_attributes(card) if a in taste_.attributes)
    return math.copysign(1 - math.exp(-abs(raw) / scale), raw)


def familiar(entry: ReaderHistory | None) -> bool:
    """The client knows this reader already: a favorite, rated, or had a reading with them."""
    return entry is not None and (entry.is_favorite or entry.rating_count > 0 or entry.completions > 0)


def _main_tool(card: Mapping[str, Any]) -> str | None:
    tools = (card.get("attributes") or {}).get("tools") or []
    return tools[0] if tools else None


def _pick(pool: dict[str, Mapping[str, Any]], base: dict[str, float], history: History, taste_: Taste, *,
          online: frozenset[str], limit: int) -> list[Recommendation]:
    picked: list[Recommendation] = []
    tools: dict[str, int] = {}
    styles: dict[str, int] = {}
    familiar_places = favorite_slots(limit)
    remaining = dict(base)

    def adjusted(reader_id: str) -> float:
        card = pool[reader_id]
        tool, style = _main_tool(card), (card.get("attributes") or {}).get("style")
        return (remaining[reader_id] - DIVERSITY_TOOL * tools.get(tool or "", 0)
                - DIVERSITY_STYLE * styles.get(style or "", 0))

    while remaining and len(picked) < limit:
        reader_id = max(remaining, key=lambda rid: (adjusted(rid), rid))
        score = adjusted(reader_id)
        del remaining[reader_id]
        entry = history.readers.get(reader_id)
        if familiar(entry):
            if familiar_places == 0:
                continue
            familiar_places -= 1
        card = pool[reader_id]
        tool, style = _main_tool(card), (card.get("attributes") or {}).get("style")
        if tool:
            tools[tool] = tools.get(tool, 0) + 1
        if style:
            styles[style] = styles.get(style, 0) + 1
        picked.append(Recommendation(reader_id=reader_id, score=round(score, 4),
                                     reasons=reasons(card, taste_, online=reader_id in online, history=entry)))
    return picked
