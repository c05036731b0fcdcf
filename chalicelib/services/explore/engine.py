"""The explore search engine: filters, sorts, facets and text search over a snapshot of
reader cards, in memory, with no I/O.

Every reader gets an index: their position in the recommended order. Every filterable
value (attribute, reading type, badge, language, experience, rating step, price bucket,
hour of the week, visibility) keeps the set of its readers as a bitset (``bits``), so a
filter is a few big-integer ANDs and ORs and a facet count is ``(filtered & value).bit_count()``,
all in C. A page walks the chosen order keeping members of the filtered set.

Filter semantics (a filter left empty does not constrain):
* ``query``: every query token matches some token of the reader's name, tagline, location
  or attribute names (``text``: prefix and typo tolerant).
* ``abilities``/``tools``/``styles``: any of the ids within a kind, all the kinds given.
* ``reading_types``, ``badges``, ``languages``: any of (languages case-insensitive).
* ``price_min``/``price_max``: some listed total (any duration of any option) within
  [price_min, price_max], both inclusive.
* ``min_rating`` (> 0): rated readers (ratingCount > 0) with ratingAverage >= min_rating.
* ``availability``: ``now`` = online (the overlay) or instant booking inside a schedule
  slot; ``today`` = a slot ending after now within the reader's local day; ``this_week`` =
  any slot (the week repeats); ``flexible`` = no constraint (``schedule`` explains time).
* ``location``: the text, case/accent-insensitive, is a substring of the reader's location.
* ``experience``: equal (case-insensitive). ``online_now``: in the overlay.
  ``favorites_only``: in ``favorites``.
* Visibility follows ``domain.readers.VISIBLE_TO`` (``may_see``), the rule of the single
  card: ``readers_only`` cards only for signed-in readers and admins (not anonymous viewers,
  ``viewer_role`` None, nor clients); cards of a visibility not in it are never indexed.
Unknown ids simply match nobody (the route validates them against the catalog).

Sorts (ties by reader id): ``recommended`` by ``quality_score`` desc; ``rating`` rated
first by average desc then count desc; ``price`` by the lowest listed total asc, readers
without prices last; ``newest`` by createdDate desc; ``online`` the online readers first,
each part in recommended order.

Facets count the filtered set (the filters of a kind included): abilities/tools/styles
with a count > 0, by count desc then name; ``priceRanges`` (fixed, a reader counts in
every range where it has a total, ranges are [min, max)); ``ratings`` rated readers with an
average >= 5, 4, 3, 2, 1.
"""

from __future__ import annotations

import heapq
import json
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any

from chalicelib.domain.readers import VISIBLE_TO, may_see
from chalicelib.services.explore import bits, schedule, text
from chalicelib.services.explore.columns import PRICE_RANGES, RATING_STEPS, PriceColumn, RatingColumn

# The layout of a built Index: the explore job stores the pickled Index (``packed``) and a
# container loads it only when its own ENGINE_FORMAT matches. Bump it with any change to the
# attributes an Index (or the columns, text and week indexes it holds) keeps.
ENGINE_FORMAT = 1
SORTS = ("recommended", "rating", "price", "newest", "online")
AVAILABILITY = ("now", "today", "this_week", "flexible")
KINDS = (("abilities", "abilities"), ("tools", "tools"), ("styles", "style"))  # filter/facet -> card key
PRIOR_MEAN, PRIOR_WEIGHT = 4.0, 5
DEFAULT_COMPLETION = 0.9
VISIBLE = tuple(VISIBLE_TO)
# Shared zlib dictionary: the card keys every card repeats, so small cards compress well.
_CARD_KEYS = (
    "id", "userId", "displayName", "tagline", "bio", "location", "profileImage", "backgroundImage",
    "profileImageVariants", "backgroundImageVariants", "attributes", "tools", "abilities", "style",
    "attributeNames", "readingOptions", "type", "name", "description", "duration", "price", "isActive",
    "basePrice", "prices", "timeSpanId", "label", "multiplier", "total", "priceDuration", "availability",
    "timezone", "instantBooking", "schedule", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "start", "end",
    "createdAt", "isOnline", "lastActive", "isApproved", "ratingAverage", "ratingCount", "totalReadings",
    "stats", "averageRating", "completionRate", "badges", "reviews", "createdDate", "visibility", "public",
    "readers_only", "languages", "experience", "https://", "media/")
_ZDICT = json.dumps(dict.fromkeys(_CARD_KEYS)).encode()
_WBITS = -12  # raw deflate (no header) with a 4 KiB window: cards are small


@dataclass(frozen=True)
class Filters:
    query: str | None = None
    abilities: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    reading_types: tuple[str, ...] = ()
    badges: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    min_rating: float | None = None
    availability: str | None = None
    location: str | None = None
    experience: str | None = None
    online_now: bool = False
    favorites_only: bool = False
    sort: str = "recommended"


@dataclass
class Outcome:
    reader_ids: list[str]
    total: int
    facets: dict[str, list[dict[str, Any]]]
    suggestions: list[str] = field(default_factory=list)


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def completion_factor(card: dict[str, Any]) -> float:
    """completionRate / 100; 0.9 without data (no rate, or 0 with no completed reading)."""
    rate = (card.get("stats") or {}).get("completionRate")
    if not isinstance(rate, int | float) or (not rate and not card.get("totalReadings")):
        return DEFAULT_COMPLETION
    return min(max(float(rate) / 100, 0.0), 1.0)


def quality_score(card: dict[str, Any], built_at: datetime) -> float:
    """The recommended order: the Bayesian average rating (prior 4.0 worth 5 reviews) x the
    completion factor x 1.05 when active in the last 7 days (1.02: 30 days) x 1.02 per badge
    (at most 3)."""
    count = max(int(card.get("ratingCount") or 0), 0)
    average = float(card.get("ratingAverage") or 0) if count else 0.0
    bayesian = (PRIOR_MEAN * PRIOR_WEIGHT + average * count) / (PRIOR_WEIGHT + count)
    active = _moment(card.get("lastActive")) if card.get("lastActive") else None
    days = (built_at - active).total_seconds() / 86400 if active else None
    recency = 1.0 if days is None else 1.05 if days <= 7 else 1.02 if days <= 30 else 1.0
    badges = 1 + 0.02 * min(len(set(card.get("badges") or [])), 3)
    return bayesian * completion_factor(card) * recency * badges


def listed_totals(card: dict[str, Any]) -> list[float]:
    return sorted({float(price["total"]) for option in card.get("readingOptions") or []
                   if option.get("isActive", True) is not False
                   for price in option.get("prices") or [] if isinstance(price.get("total"), int | float)})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [item for item in value or [] if isinstance(item, str) and item]


class _Values:
    """value -> bitset of the readers having it."""

    def __init__(self) -> None:
        self.members: dict[str, list[int]] = {}

    def add(self, reader: int, values: Iterable[str]) -> None:
        for value in set(values):
            self.members.setdefault(value, []).append(reader)

    def freeze(self, size: int) -> dict[str, int]:
        return {value: bits.from_indexes(readers, size) for value, readers in self.members.items()}


def _any_of(table: dict[str, int], values: Iterable[str]) -> int:
    found = 0
    for value in values:
        found |= table.get(value, 0)
    return found


class Index:
    @classmethod
    def build(cls, cards: Iterable[dict[str, Any]], *, built_at: datetime) -> Index:
        shown = {}
        for card in cards:
            if isinstance(card.get("id"), str) and (card.get("visibility") or "public") in VISIBLE:
                shown[card["id"]] = card
        ranked = sorted(shown.values(), key=lambda card: (-quality_score(card, built_at), card["id"]))
        return cls(ranked, built_at)

    def __init__(self, cards: list[dict[str, Any]], built_at: datetime) -> None:
        size = len(cards)
        self.built_at = built_at
        self.ids = [card["id"] for card in cards]
        self._index = {reader_id: index for index, reader_id in enumerate(self.ids)}
        self._cards: list[bytes] = []
        attributes = {kind: _Values() for kind, _ in KINDS}
        values = {name: _Values() for name in ("reading_types", "badges", "languages", "experience", "visibility",
                                               "instant")}
        self.names: dict[str, dict[str, str]] = {kind: {} for kind, _ in KINDS}
        locations: dict[str, list[int]] = {}
        totals, ratings, schedules = [], [], []
        for index, card in enumerate(cards):
            compressor = zlib.compressobj(6, zlib.DEFLATED, _WBITS, 8, zdict=_ZDICT)
            self._cards.append(compressor.compress(json.dumps(card, separators=(",", ":"), default=str).encode())
                               + compressor.flush())
            names = card.get("attributeNames") or {}
            for kind, key in KINDS:
                ids = _strings((card.get("attributes") or {}).get(key))
                attributes[kind].add(index, ids)
                for attribute_id in ids:
                    self.names[kind].setdefault(attribute_id, str(names.get(attribute_id) or attribute_id))
            values["reading_types"].add(index, _strings([o.get("type") for o in card.get("readingOptions") or []
                                                         if o.get("isActive", True) is not False]))
            values["badges"].add(index, _strings(card.get("badges")))
            values["languages"].add(index, [text.fold(language) for language in _strings(card.get("languages"))])
            values["experience"].add(index, [text.fold(value) for value in _strings(card.get("experience"))])
            values["visibility"].add(index, [card.get("visibility") or "public"])
            availability = card.get("availability") or {}
            if availability.get("instantBooking") is True:
                values["instant"].add(index, ["yes"])
            if isinstance(card.get("location"), str) and card["location"].strip():
                locations.setdefault(text.fold(card["location"]), []).append(index)
            totals.append(listed_totals(card))
            rated = int(card.get("ratingCount") or 0) > 0
            ratings.append(float(card.get("ratingAverage") or 0) if rated else None)
            offset = schedule.utc_offset(availability.get("timezone"), built_at)
            if offset is not None:
                schedules.append((index, offset, schedule.week_intervals(availability, offset)))
        self.size = size
        self.everyone = (1 << size) - 1
        self.attributes = {kind: table.freeze(size) for kind, table in attributes.items()}
        self.values = {name: table.freeze(size) for name, table in values.items()}
        self.locations = {location: bits.from_indexes(members, size) for location, members in locations.items()}
        self.prices = PriceColumn(totals)
        self.ratings = RatingColumn(ratings)
        self.week = schedule.WeekIndex(schedules, size)
        self.text = text.TextIndex(
            [card.get("displayName"), card.get("tagline"), card.get("location"),
             *(str(name) for name in (card.get("attributeNames") or {}).values())] for card in cards)
        self.rank: dict[str, array[int]] = {}
        self.order: dict[str, Any] = {}
        by_id = sorted(range(size), key=self.ids.__getitem__)
        lowest = [listed[0] if listed else None for listed in totals]
        keys: dict[str, Any] = {
            "rating": lambda i: (ratings[i] is None, -(ratings[i] or 0), -int(cards[i].get("ratingCount") or 0)),
            "price": lambda i: (lowest[i] is None, lowest[i] or 0),
        }
        for name, key in keys.items():
            self.order[name] = sorted(by_id, key=key)
        self.order["newest"] = sorted(by_id, key=lambda i: str(cards[i].get("createdDate") or ""), reverse=True)
        for name, order in self.order.items():
            rank = array("i", bytes(4 * size))
            for position, reader in enumerate(order):
                rank[reader] = position
            self.rank[name] = rank
            self.order[name] = array("i", order)
        # Results of the costlier filters: by value (query, location, rating), and for the
        # current overlay and minute (they change every few seconds or each minute).
        self._memo: dict[tuple[str, Any], Any] = {}
        self._recent: dict[tuple[str, Any], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the per-container memos (``packed`` stores the built index)."""
        return {**self.__dict__, "_memo": {}, "_recent": {}}

    def __len__(self) -> int:
        return self.size

    def card(self, reader_id: str) -> dict[str, Any] | None:
        index = self._index.get(reader_id)
        if index is None:
            return None
        inflate = zlib.decompressobj(_WBITS, zdict=_ZDICT)
        loaded: dict[str, Any] = json.loads(inflate.decompress(self._cards[index]) + inflate.flush())
        return loaded

    def specialists(self, abilities: Iterable[str], tools: Iterable[str]) -> list[str]:
        """The ids of the readers with any of these abilities or tools (every card in the
        index is an approved reader's), sorted: who a status of a category concerns."""
        found = _any_of(self.attributes["abilities"], abilities) | _any_of(self.attributes["tools"], tools)
        return sorted(self.ids[index] for index in bits.members(found))

    # --- filtering -------------------------------------------------------------------------------

    def _memoized(self, key: tuple[str, Any], compute: Any, *, recent: bool = False) -> Any:
        memo, bound = (self._recent, 8) if recent else (self._memo, 256)
        found = memo.get(key)
        if found is None:
            found = compute()
            if len(memo) >= bound:
                memo.clear()
            memo[key] = found
        return found

    def visible_to(self, viewer_role: str | None) -> int:
        """The readers a caller of ``viewer_role`` (None: anonymous) may see."""
        found = 0
        for visibility, members in self.values["visibility"].items():
            if may_see(visibility, viewer_role):
                found |= members
        return found

    def members_of(self, reader_ids: Iterable[str]) -> int:
        index = self._index
        return bits.from_indexes((index[i] for i in reader_ids if i in index), self.size)

    def _location(self, wanted: str) -> int:
        found = 0
        for location, members in self.locations.items():
            if wanted in location:
                found |= members
        return found

    def search(self, filters: Filters, *, online: frozenset[str], favorites: frozenset[str],
               viewer_role: str | None, now: datetime, offset: int, limit: int) -> Outcome:
        if filters.sort not in SORTS:
            raise ValueError(f"unknown sort {filters.sort!r}")
        if filters.availability not in (None, *AVAILABILITY):
            raise ValueError(f"unknown availability {filters.availability!r}")
        needs_online = filters.online_now or filters.availability == "now" or filters.sort == "online"
        online_bits = 0
        if needs_online:
            online_bits = self._memoized(("online", online), lambda: self.members_of(online), recent=True)
        found = self.visible_to(viewer_role)
        suggestions: list[str] = []
        for kind, _ in KINDS:
            if getattr(filters, kind):
                found &= _any_of(self.attributes[kind], getattr(filters, kind))
        for name in ("reading_types", "badges"):
            if getattr(filters, name):
                found &= _any_of(self.values[name], getattr(filters, name))
        if filters.languages:
            found &= _any_of(self.values["languages"], (text.fold(value) for value in filters.languages))
        if filters.experience:
            found &= self.values["experience"].get(text.fold(filters.experience), 0)
        if filters.price_min is not None or filters.price_max is not None:
            found &= self.prices.within(filters.price_min, filters.price_max)
        if filters.min_rating is not None and filters.min_rating > 0:
            minimum = float(filters.min_rating)
            found &= self._memoized(("rating", minimum), lambda: self.ratings.steps.get(minimum)
                                    or self.ratings.at_least(minimum))
        if filters.location and text.fold(filters.location).strip():
            wanted = text.fold(filters.location).strip()
            found &= self._memoized(("location", wanted), lambda: self._location(wanted))
        if filters.online_now:
            found &= online_bits
        if filters.favorites_only:
            found &= self.members_of(favorites)
        if filters.availability in ("now", "today"):
            minute = schedule.minute_of_week(now)
            if filters.availability == "now":
                slot = self._memoized(("now", minute), lambda: self.week.overlapping(minute, minute + 1),
                                       recent=True)
                found &= online_bits | (slot & self.values["instant"].get("yes", 0))
            else:
                found &= self._memoized(("today", minute), lambda: self.week.today(minute), recent=True)
        elif filters.availability == "this_week":
            found &= self.week.scheduled
        if filters.query:
            matched, suggestions = self._memoized(("query", filters.query), lambda: self.text.search(filters.query))
            if matched is not None:
                found &= matched
        return Outcome(reader_ids=[self.ids[i] for i in self._page(found, filters.sort, online_bits, offset, limit)],
                       total=found.bit_count(), facets=self.facets(found), suggestions=list(suggestions))

    # --- facets and pages ---------------------------------------------------------------------------

    def facets(self, found: int) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = {}
        for kind, _ in KINDS:
            names = self.names[kind]
            counted = [(count, attribute_id) for attribute_id, members in self.attributes[kind].items()
                       if (count := (found & members).bit_count())]
            counted.sort(key=lambda entry: (-entry[0], names[entry[1]].casefold(), entry[1]))
            result[kind] = [{"id": attribute_id, "name": names[attribute_id], "count": count}
                            for count, attribute_id in counted]
        result["priceRanges"] = [{"range": f"{low}-{high}" if high is not None else f"{low}+", "min": low, "max": high,
                                  "count": (found & members).bit_count()}
                                 for (low, high), members in zip(PRICE_RANGES, self.prices.ranges, strict=True)]
        result["ratings"] = [{"rating": step, "count": (found & self.ratings.steps[step]).bit_count()}
                             for step in RATING_STEPS]
        return result

    def _page(self, found: int, sort: str, online_bits: int, offset: int, limit: int) -> list[int]:
        offset = max(offset, 0)
        wanted = offset + limit
        if limit <= 0 or not found:
            return []
        if sort == "recommended":
            return list(islice(bits.members(found), offset, wanted))
        if sort == "online":
            return list(islice(chain(bits.members(found & online_bits), bits.members(found & ~online_bits)),
                               offset, wanted))
        count = found.bit_count()
        if count * count <= wanted * self.size:  # few matches: sort them rather than walk the order
            return heapq.nsmallest(wanted, bits.members(found), key=self.rank[sort].__getitem__)[offset:]
        table = bits.flags(found, self.size)
        page: list[int] = []
        for reader in self.order[sort]:
            if table[reader >> 3] >> (reader & 7) & 1:
                page.append(reader)
                if len(page) == wanted:
                    break
        return page[offset:]
