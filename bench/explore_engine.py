"""Micro benchmark of the explore engine alone (no moto, no route): N synthetic reader cards,
the ``Index`` build time, its memory per 10,000 readers (tracemalloc), and p50/p99 of a warm
``Index.search`` with three filters, facets and a sort. ``bench/explore.py`` measures the same
engine behind ``GET /readers``; this isolates its CPU and memory from the request path.

    .venv/bin/python -m bench.explore_engine            # 10,000 and 100,000 readers
    .venv/bin/python -m bench.explore_engine 20000

``measure(n)`` returns the figures as a dict; ``synthetic_cards(n)`` is also the tests'
generated population.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.services.explore.engine import Filters, Index

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
ABILITIES = ["clairvoyance", "empathy", "mediumship", "intuition", "channeling", "dream-interpretation",
             "energy-reading", "past-lives", "love-guidance", "career-guidance", "spirit-guides", "aura-reading"]
TOOLS = ["tarot", "astrology", "runes", "oracle-cards", "numerology", "crystals", "pendulum", "tea-leaves",
         "palmistry", "i-ching", "no-tools"]
STYLES = ["compassionate", "direct", "spiritual", "practical", "humorous", "gentle"]
TYPES = ["chat", "video", "voice", "email"]
BADGES = ["top-rated", "rising-star", "verified", "fast-responder", "veteran"]
LANGUAGES = ["en", "es", "fr", "de", "pt", "it"]
ZONES = ["Europe/Lisbon", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata",
         "Australia/Sydney", "America/Sao_Paulo", "Asia/Tokyo", "Africa/Lagos", "America/St_Johns"]
CITIES = ["Lisbon", "Porto", "Berlin", "New York", "Los Angeles", "Mumbai", "Sydney", "São Paulo", "Tokyo",
          "Lagos", "Zürich", "Montréal", "Austin", "Dublin", "Edinburgh"]
FIRST = ["Luna", "Aurora", "Sage", "Iris", "Orion", "Phoenix", "Stella", "Jasper", "Celeste", "Raven", "Élodie",
         "Mira", "Selene", "Atlas", "Nova", "Ember", "Willow", "Indigo", "Soren", "Lyra"]
WORDS = ["guidance", "clarity", "love", "career", "spirit", "insight", "healing", "energy", "path", "future",
         "heart", "soul", "journey", "light", "truth", "wisdom", "calm", "honest", "gentle", "deep", "ancient",
         "modern", "cards", "stars", "moon", "sun", "dreams"]
SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "sel", "an", "bri", "dun", "el", "fa", "gor", "hal", "is"]


def _name(kind: str) -> str:
    return kind.replace("-", " ").title()


def synthetic_card(index: int, rng: random.Random) -> dict[str, Any]:
    tools, abilities, style = rng.sample(TOOLS, rng.randint(1, 3)), rng.sample(ABILITIES, rng.randint(1, 3)), \
        rng.choice(STYLES)
    options = []
    for reading_type in rng.sample(TYPES, rng.randint(1, 3)):
        rate = rng.uniform(0.5, 5)
        options.append({"id": f"opt_{index}_{reading_type}", "type": reading_type, "name": f"{reading_type} reading",
                        "description": "", "duration": 30, "price": round(rate * 30), "isActive": True,
                        "prices": [{"timeSpanId": f"ts{m}", "duration": m, "label": None, "multiplier": 1.0,
                                    "total": max(1, round(rate * m))} for m in (15, 30, 60)]})
    days = rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], rng.randint(0, 6))
    start = rng.choice([6, 8, 9, 10, 14, 18])
    schedule = {day: [{"start": f"{start:02d}:{rng.choice(['00', '30'])}",
                       "end": f"{min(24, start + rng.randint(2, 8)):02d}:00"}] for day in days}
    count = rng.choice([0, 0, rng.randint(1, 10), rng.randint(10, 500)])
    surname = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()
    return {
        "id": f"rdr_{index:07d}", "userId": f"rdr_{index:07d}",
        "displayName": f"{rng.choice(FIRST)} {surname}",
        "tagline": " ".join(rng.sample(WORDS, 6)).capitalize(),
        "bio": " ".join(rng.choices(WORDS, k=40)),
        "location": rng.choice(CITIES),
        "profileImage": f"https://cdn.example.com/media/rdr_{index:07d}/profile-512.webp",
        "attributes": {"tools": tools, "abilities": abilities, "style": style},
        "attributeNames": {key: _name(key) for key in [*tools, *abilities, style]},
        "readingOptions": options,
        "availability": {"timezone": rng.choice(ZONES), "instantBooking": rng.random() < 0.4,
                         "schedule": schedule},
        "isOnline": False, "lastActive": (NOW - timedelta(days=rng.randint(0, 60))).isoformat(),
        "isApproved": True, "ratingAverage": round(rng.uniform(2.5, 5), 2) if count else None, "ratingCount": count,
        "totalReadings": count * 2, "stats": {"totalReadings": count * 2, "averageRating": 0.0,
                                               "completionRate": round(rng.uniform(60, 100), 1) if count else None},
        "badges": rng.sample(BADGES, rng.randint(0, 2)), "reviews": [],
        "languages": rng.sample(LANGUAGES, rng.randint(1, 2)),
        "experience": rng.choice(["beginner", "intermediate", "expert"]),
        "createdDate": (NOW - timedelta(days=rng.randint(0, 900))).isoformat(),
        "visibility": "readers_only" if rng.random() < 0.1 else "public",
    }


def synthetic_cards(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [synthetic_card(index, rng) for index in range(count)]


def _searches(rng: random.Random, ids: list[str]) -> list[tuple[Filters, frozenset[str]]]:
    """Three filters each (a kind of attribute, a price range, a rating or availability), a sort."""
    online = frozenset(rng.sample(ids, min(len(ids), 300)))
    searches = []
    for _ in range(200):
        third: dict[str, Any] = rng.choice([{"min_rating": 4.0}, {"availability": "today"}, {"languages": ("en",)},
                                           {"query": rng.choice(["tarot", "astr", "clarity", "lisbon"])}])
        filters = Filters(abilities=(rng.choice(ABILITIES),), price_min=rng.choice([0, 20, 40]),
                          price_max=rng.choice([60, 100, 150]), sort=rng.choice(["recommended", "rating", "price",
                                                                                  "newest", "online"]), **third)
        searches.append((filters, online))
    return searches


def measure(count: int, seed: int = 7) -> dict[str, float]:
    cards = synthetic_cards(count, seed)
    gc.collect()
    tracemalloc.start()  # slows allocation down: the build is timed again below without it
    index = Index.build(cards, built_at=NOW)
    gc.collect()
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del index
    gc.collect()
    started = time.perf_counter()
    index = Index.build(cards, built_at=NOW)
    build_seconds = time.perf_counter() - started
    del cards
    rng = random.Random(seed)
    searches = _searches(rng, index.ids)
    timings = []
    for round_ in range(2):  # the first round warms the per-query memos, as a warm container has
        for filters, online in searches:
            started = time.perf_counter()
            index.search(filters, online=online, favorites=frozenset(), viewer_role="client",
                         now=NOW + timedelta(seconds=round_), offset=0, limit=20)
            timings.append(time.perf_counter() - started)
    cold, warm = timings[:len(searches)], timings[len(searches):]
    quantiles = statistics.quantiles(warm, n=100)
    return {"readers": count, "build_s": build_seconds, "bytes_per_10k": memory * 10_000 / count,
            "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
            "first_p99_ms": statistics.quantiles(cold, n=100)[98] * 1000}


def main(argv: list[str]) -> None:
    for count in [int(arg) for arg in argv] or [10_000, 100_000]:
        figures = measure(count)
        print(f"{count:>7} readers: build {figures['build_s']:.2f} s, "
              f"{figures['bytes_per_10k'] / 1e6:.1f} MB per 10,000 readers, "
              f"search p50 {figures['p50_ms']:.2f} ms p99 {figures['p99_ms']:.2f} ms "
              f"(first run of each query p99 {figures['first_p99_ms']:.2f} ms)")


if __name__ == "__main__":
    main(sys.argv[1:])
