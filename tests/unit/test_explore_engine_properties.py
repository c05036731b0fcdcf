"""The explore engine against a brute-force reference: for generated populations of reader
cards and generated filters, every filter, sort, facet and page equals what a plain list
comprehension over the cards computes (same ids in the same order, same totals, same facet
counts, same suggestions).

The reference orders ``recommended`` by the engine's ``quality_score`` (its formula has its
own example tests in test_explore_engine.py); everything else is restated here plainly."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.services.explore.engine import Filters, Index, quality_score

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOOLS = {"tarot": "Tarot", "astrology": "Astrology", "runes": "Runes", "crystals": "Crystals"}
ABILITIES = {"empathy": "Empathy", "clairvoyance": "Clairvoyance", "mediumship": "Mediumship"}
STYLES = {"gentle": "Gentle", "direct": "Direct"}
NAMES = {**TOOLS, **ABILITIES, **STYLES}
ZONES = ["UTC", "Europe/Lisbon", "America/New_York", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati",
         "Pacific/Pago_Pago", "Australia/Lord_Howe", None, "Not/AZone"]
WORDS = ["Luna", "Éloïse", "Mystic", "Zoë", "Sage", "Orion", "O'Brien", "star", "stars", "clarity", "love",
         "São", "Paulo", "Zürich", "astral", "Tarotista", "guidance", "ZOE", "lunar", "a"]
QUERIES = ["guidnse", "tarotsta", "mistic", "clarrityy", "zurch",
           "tarrot", "astr", "zoe", "sao", "clarty", "mystc", "lo", "l", "orion sage", "guidanse", "taro",
           "Astrolgy", "zurich", "lun", "stars love", "medium", "x", "eloise", "claivoyance", "  "]
BUILT_AT = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31),
                        timezones=st.just(UTC))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the population --------------------------------------------------------------------------------

QUARTER = st.integers(0, 24 * 4)
MINUTE_OF_DAY = st.integers(0, 24 * 60)


@st.composite
def slot(draw):
    start = draw(QUARTER) * 15
    end = draw(MINUTE_OF_DAY)  # before the start sometimes: not a slot
    if draw(st.booleans()):
        end = max(start, end)
    return {"start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}"}


SCHEDULE = st.dictionaries(st.sampled_from(WEEKDAYS), st.lists(slot(), max_size=3), max_size=7)
PRICE_POINTS = st.sampled_from([1, 10, 24, 25, 26, 49, 50, 99, 100, 150, 199, 200, 201, 400])
PRICES = st.lists(PRICE_POINTS.map(lambda total: {"duration": 30, "total": total}), max_size=3)
OPTION = st.builds(lambda kind, active, prices: {"type": kind, "prices": prices,
                                                 **({} if active is None else {"isActive": active})},
                   st.sampled_from(["chat", "video", "voice"]), st.none() | st.booleans(), PRICES)
CARD_PARTS = st.fixed_dictionaries({
    "tools": st.lists(st.sampled_from(list(TOOLS)), max_size=3, unique=True),
    "abilities": st.lists(st.sampled_from(list(ABILITIES)), max_size=3, unique=True),
    "style": st.none() | st.sampled_from(list(STYLES)),
    "options": st.lists(OPTION, max_size=3),
    "count": st.sampled_from([0, 0, 1, 3, 12, 200]),
    "average": st.sampled_from([0.0, 1.0, 2.5, 3.0, 3.99, 4.0, 4.5, 5.0]),
    "name": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
    "tagline": st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join),
    "location": st.none() | st.sampled_from(["Lisbon", "São Paulo", "Zürich", "New York", " ", "Porto"]),
    "readings": st.integers(0, 50),
    "stats": st.sampled_from([{}, {"completionRate": None}, {"completionRate": 0}, {"completionRate": 50.0},
                              {"completionRate": 100}]),
    "badges": st.lists(st.sampled_from(["top-rated", "verified", "rising-star"]), max_size=2, unique=True),
    "languages": st.lists(st.sampled_from(["en", "EN", "es", "fr"]), max_size=2),
    "timezone": st.sampled_from(ZONES),
    "instant": st.booleans(),
    "schedule": SCHEDULE,
    "created": st.sampled_from(["2024-01-01T00:00:00Z", "2024-06-01T10:00:00Z", "2025-02-03T04:05:06Z"]),
    "active": st.sampled_from([None, "2025-01-01T00:00:00+00:00", "2024-12-30T00:00:00"]),
    "experience": st.none() | st.sampled_from(["beginner", "Expert", "intermediate"]),
    "visibility": st.sampled_from(["public", "readers_only", "private", None]),
})


def card(index, parts):
    tools, abilities, style, count = parts["tools"], parts["abilities"], parts["style"], parts["count"]
    document = {
        "id": f"rdr_{index:03d}", "displayName": parts["name"], "tagline": parts["tagline"],
        "location": parts["location"],
        "attributes": {"tools": tools, "abilities": abilities, "style": style},
        "attributeNames": {key: NAMES[key] for key in [*tools, *abilities, *([style] if style else [])]},
        "readingOptions": parts["options"],
        "ratingAverage": parts["average"] if count else None, "ratingCount": count,
        "totalReadings": parts["readings"], "stats": parts["stats"], "badges": parts["badges"],
        "languages": parts["languages"],
        "availability": {"timezone": parts["timezone"], "instantBooking": parts["instant"],
                         "schedule": parts["schedule"]},
        "createdDate": parts["created"], "lastActive": parts["active"],
    }
    if parts["experience"] is not None:
        document["experience"] = parts["experience"]
    if parts["visibility"] is not None:
        document["visibility"] = parts["visibility"]
    return document


POPULATIONS = st.lists(CARD_PARTS, max_size=30).map(lambda parts: [card(i, p) for i, p in enumerate(parts)])


FILTER_FIELDS = {
    "query": st.sampled_from(QUERIES) | st.text(alphabet="aelorstuzö ", max_size=7),
    "abilities": st.lists(st.sampled_from([*ABILITIES, "unknown"]), min_size=1, max_size=2).map(tuple),
    "tools": st.lists(st.sampled_from(list(TOOLS)), min_size=1, max_size=2).map(tuple),
    "styles": st.lists(st.sampled_from(list(STYLES)), min_size=1, max_size=1).map(tuple),
    "reading_types": st.lists(st.sampled_from(["chat", "video", "voice"]), min_size=1, max_size=2).map(tuple),
    "badges": st.lists(st.sampled_from(["top-rated", "verified"]), min_size=1, max_size=1).map(tuple),
    "languages": st.lists(st.sampled_from(["en", "Es", "de"]), min_size=1, max_size=2).map(tuple),
    "price_min": PRICE_POINTS | st.integers(0, 400),
    "price_max": PRICE_POINTS | st.integers(0, 400),
    "min_rating": st.sampled_from([0, 1, 2.5, 3.99, 4, 4.5, 5]),
    "availability": st.sampled_from(["now", "today", "this_week", "flexible"]),
    "location": st.sampled_from(["lis", "SAO", "ürich", "york", "", "o"]),
    "experience": st.sampled_from(["beginner", "EXPERT"]),
    "online_now": st.just(True),
    "favorites_only": st.just(True),
}
SORTS = st.sampled_from(["recommended", "rating", "price", "newest", "online"])


@st.composite
def filters(draw, focus=None):
    """A few filters at a time (most combinations of many filters match nobody), and a sort;
    ``focus``: the filters always among them."""
    chosen = draw(st.lists(st.sampled_from(sorted(FILTER_FIELDS)), max_size=2, unique=True))
    chosen = list(dict.fromkeys([*(focus or ()), *chosen]))
    return Filters(sort=draw(SORTS), **{name: draw(FILTER_FIELDS[name]) for name in chosen})


OFFSETS = st.sampled_from([0, 0, 0, 1, 2, 3, 7])
LIMITS = st.sampled_from([0, 1, 2, 3, 5, 8, 30])


# --- the reference ----------------------------------------------------------------------------------

def fold(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def words(text):
    return re.findall(r"[^\W_]+", fold(text)) if text else []


def osa(a, b):
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def typos_allowed(q):
    return 2 if len(q) >= 8 else 1 if len(q) >= 4 else 0


def by_prefix(q, t):
    return t.startswith(q) if len(q) >= 2 else t == q


def by_typo(q, t):
    return t != q and len(t) <= 32 and osa(q, t) <= typos_allowed(q)


def card_words(card):
    texts = [card.get("displayName"), card.get("tagline"), card.get("location"), *card["attributeNames"].values()]
    return {word for text in texts for word in words(text)}


def active_options(card):
    return [option for option in card["readingOptions"] if option.get("isActive", True) is not False]


def totals(card):
    return [price["total"] for option in active_options(card) for price in option["prices"]]


def rated(card):
    return card["ratingCount"] > 0


def local_slots(card, now):
    """(local weekday key, local minute, {weekday: valid (start, end) minutes}) or None."""
    zone = card["availability"]["timezone"]
    try:
        local = now.astimezone(ZoneInfo(zone)) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        local = None
    if local is None:
        return None
    valid = {}
    for day, entries in card["availability"]["schedule"].items():
        for entry in entries:
            start, end = (int(entry[k][:2]) * 60 + int(entry[k][3:]) for k in ("start", "end"))
            if start < end:
                valid.setdefault(day, []).append((start, end))
    return WEEKDAYS[local.weekday()], local.hour * 60 + local.minute, valid


def available(card, when, now, online):
    if when in (None, "flexible"):
        return True
    found = local_slots(card, now)
    if when == "now":
        inside = bool(found) and any(s <= found[1] < e for s, e in found[2].get(found[0], []))
        return card["id"] in online or (card["availability"]["instantBooking"] and inside)
    if found is None:
        return False
    if when == "today":
        return any(e > found[1] for s, e in found[2].get(found[0], []))
    return any(found[2].values())


def reference(population, f, *, online, favorites, viewer_role, now, built_at, offset, limit, names=NAMES):
    """``names``: attribute id -> name (None: the id)."""
    shown = {}
    for card in population:
        if card.get("visibility", "public") in ("public", "readers_only"):
            shown[card["id"]] = card
    # readers_only: signed-in readers and admins only (the single card's rule), never clients or anonymous.
    cards = [c for c in shown.values() if c.get("visibility") != "readers_only" or viewer_role in ("reader", "admin")]
    wanted_words = list(dict.fromkeys(words(f.query or "")))
    location = fold(f.location or "").strip()

    def keep(c):
        attrs = c["attributes"]
        return all([
            not f.abilities or set(f.abilities) & set(attrs["abilities"]),
            not f.tools or set(f.tools) & set(attrs["tools"]),
            not f.styles or attrs["style"] in f.styles,
            not f.reading_types or {o["type"] for o in active_options(c)} & set(f.reading_types),
            not f.badges or set(f.badges) & set(c["badges"]),
            not f.languages or {fold(x) for x in f.languages} & {fold(x) for x in c["languages"]},
            not f.experience or fold(c.get("experience") or "") == fold(f.experience),
            (f.price_min is None and f.price_max is None)
            or any((f.price_min is None or t >= f.price_min) and (f.price_max is None or t <= f.price_max)
                   for t in totals(c)),
            f.min_rating is None or f.min_rating <= 0 or (rated(c) and c["ratingAverage"] >= f.min_rating),
            not location or (bool(c.get("location")) and location in fold(c["location"])),
            not f.online_now or c["id"] in online,
            not f.favorites_only or c["id"] in favorites,
            available(c, f.availability, now, online),
            all(any(by_prefix(q, t) or by_typo(q, t) for t in card_words(c)) for q in wanted_words),
        ])

    matched = [c for c in cards if keep(c)]
    recommended = sorted(matched, key=lambda c: (-quality_score(c, built_at), c["id"]))
    if f.sort == "recommended":
        ordered = recommended
    elif f.sort == "online":
        ordered = [c for c in recommended if c["id"] in online] + [c for c in recommended if c["id"] not in online]
    elif f.sort == "rating":
        ordered = sorted(matched, key=lambda c: (not rated(c), -c["ratingAverage"] if rated(c) else 0,
                                                 -c["ratingCount"], c["id"]))
    elif f.sort == "price":
        ordered = sorted(matched, key=lambda c: (not totals(c), min(totals(c), default=0), c["id"]))
    else:
        ordered = sorted(sorted(matched, key=lambda c: c["id"]), key=lambda c: c["createdDate"], reverse=True)

    facets = {}
    for kind, key in (("abilities", "abilities"), ("tools", "tools"), ("styles", "style")):
        counts = {}
        for c in matched:
            values = c["attributes"][key]
            for value in ([values] if isinstance(values, str) else values or []):
                counts[value] = counts.get(value, 0) + 1
        name = (lambda i: i) if names is None else names.__getitem__
        facets[kind] = [{"id": i, "name": name(i), "count": n}
                        for i, n in sorted(counts.items(), key=lambda e: (-e[1], name(e[0]).casefold(), e[0]))]
    ranges = [(0, 25), (25, 50), (50, 100), (100, 200), (200, None)]
    facets["priceRanges"] = [{"range": f"{lo}-{hi}" if hi else f"{lo}+", "min": lo, "max": hi,
                              "count": sum(1 for c in matched if any(lo <= t and (hi is None or t < hi)
                                                                    for t in totals(c)))} for lo, hi in ranges]
    facets["ratings"] = [{"rating": r, "count": sum(1 for c in matched if rated(c) and c["ratingAverage"] >= r)}
                         for r in (5, 4, 3, 2, 1)]

    suggestions = []
    vocabulary = {}
    for c in shown.values():
        for word in card_words(c):
            vocabulary[word] = vocabulary.get(word, 0) + 1
    for q in wanted_words:
        typos = [t for t in vocabulary if by_typo(q, t)]
        if typos and not any(by_prefix(q, t) for t in vocabulary):
            best = sorted(typos, key=lambda t: (osa(q, t), -vocabulary[t], t))[:3]
            suggestions += [t for t in best if t not in suggestions]
    return [c["id"] for c in ordered][offset:offset + limit], len(matched), facets, suggestions


# --- the property --------------------------------------------------------------------------------

def same_offsets(population, one, other):
    for card in population:
        zone = card["availability"]["timezone"]
        if zone in (None, "Not/AZone"):
            continue
        if one.astimezone(ZoneInfo(zone)).utcoffset() != other.astimezone(ZoneInfo(zone)).utcoffset():
            return False
    return True


# Each run puts one concern in every example (the rest of the filters vary around it).
FOCUS = {"any": None, "text": ("query",), "price": ("price_min", "price_max"), "now": ("availability",),
         "rating": ("min_rating",), "location+sort": ("location",), "attributes": ("abilities", "tools")}


@pytest.mark.parametrize("focus", list(FOCUS))
@settings(SETTINGS, max_examples=60)
@given(population=POPULATIONS, built_at=BUILT_AT, minutes=st.integers(0, 59), seconds=st.integers(0, 59),
       data=st.data())
def test_the_engine_agrees_with_the_brute_force_reference(focus, population, built_at, minutes, seconds, data):
    f = data.draw(filters(FOCUS[focus]))
    now = built_at + timedelta(minutes=minutes, seconds=seconds)
    assume(same_offsets(population, built_at, now))  # the documented DST approximation aside
    ids = [card["id"] for card in population]
    online = frozenset(data.draw(st.lists(st.sampled_from([*ids, "rdr_gone"]), max_size=6)) if ids else [])
    favorites = frozenset(data.draw(st.lists(st.sampled_from([*ids, "rdr_gone"]), max_size=6)) if ids else [])
    viewer_role = data.draw(st.sampled_from([None, "client", "reader", "admin"]))
    offset, limit = data.draw(OFFSETS), data.draw(LIMITS)

    index = Index.build(population, built_at=built_at)
    outcome = index.search(f, online=online, favorites=favorites, viewer_role=viewer_role, now=now,
                           offset=offset, limit=limit)

    page, total, facets, suggestions = reference(population, f, online=online, favorites=favorites,
                                                 viewer_role=viewer_role, now=now, built_at=built_at,
                                                 offset=offset, limit=limit)
    assert outcome.reader_ids == page
    assert outcome.total == total
    assert outcome.facets == facets
    assert outcome.suggestions == suggestions


@SETTINGS
@given(population=POPULATIONS, built_at=BUILT_AT)
def test_every_indexed_card_is_returned_as_it_was_given(population, built_at):
    index = Index.build(population, built_at=built_at)
    listed = {card["id"]: card for card in population if card.get("visibility", "public") != "private"}
    assert len(index) == len(listed)
    for card in population:
        assert index.card(card["id"]) == listed.get(card["id"])
