"""Explore figures for ``make bench``: the snapshot build and load, its memory, and warm
``GET /readers`` at 10,000 and 100,000 generated readers.

The build as the job runs it (Query pages of ``byStatus`` + BatchGet of the users) is measured
from moto at ``BUILD_READERS`` readers: its DynamoDB calls, which grow with pages. moto spends
seconds serializing each 1 MB page, so at 10,000 and 100,000 readers the cards are assembled in
memory with the same ``card_document``; storing, loading and searching them is measured as a
container does it. The online readers are written to moto at every size (the overlay Queries them).

Run alone: ``.venv/bin/python -m bench.explore [--sizes 10000,100000] [--runs 200]``.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

# The build read back from moto: moto's response serializer spends seconds per 1 MB Query page,
# so a 10,000-reader build from moto takes minutes of moto, not of the app.
BUILD_READERS = 2_000
# Up to this many readers the bench also times the fallback cold load (the index built from the
# cards object, as before the stored index): about a minute at 100,000.
FALLBACK_MAX = 10_000
OVERLAY_RUNS = 5
ONLINE_SHARE = 0.05
QUERY = "/readers?tools=tarot,runes,astrology&readingTypes=phone_call&minRating=3&sort=rating&limit=20"
QUERY_TEXT = "three filters (tools any-of 3, reading type, minRating 3), sort by rating, facets, limit 20"
_LOCATIONS = ["Lisbon, Portugal", "London, UK", "Austin, TX", "Toronto, Canada", "Sydney, Australia",
              "Berlin, Germany", "Mexico City, Mexico", "Dublin, Ireland"]
_NAMES = ["Aurora", "Sage", "Luna", "Orion", "Willow", "Phoenix", "Indigo", "Rowan", "Celeste", "Ember"]
STAMP = "2026-11-01T10:00:00.000Z"


def generate(count: int, seed: int = 12) -> tuple[list[Any], list[Any]]:
    """(users, profiles) of ``count`` approved readers with varied attributes, prices, ratings."""
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User
    from chalicelib.services.catalog_defaults import ATTRIBUTES, slug

    rng = random.Random(seed)
    kinds = {kind: [slug(name) for name in names] for kind, names in ATTRIBUTES.items()}
    users, profiles = [], []
    for index in range(count):
        reader_id = f"user_bench{index:06d}"
        online = rng.random() < ONLINE_SHARE
        created = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T10:00:00.000Z"
        options = [{"id": f"opt_{index}_{n}", "type": reading_type, "name": reading_type.replace("_", " ").title(),
                    "description": "", "duration": rng.choice([15, 30, 45]), "price": rng.randint(10, 150),
                    "isActive": True}
                   for n, reading_type in enumerate(rng.sample(["phone_call", "live_video", "video_message"],
                                                               rng.randint(1, 3)))]
        users.append(User(user_id=reader_id, role="reader", status="active", created_at=created, updated_at=created,
                          email=f"{reader_id}@example.com",
                          preferences={"privacy": {"showOnlineStatus": rng.random() > 0.1,
                                                   "profileVisibility": "readers_only" if rng.random() < 0.1
                                                   else "public"}}))
        profiles.append(ReaderProfile(
            reader_id=reader_id, status="approved", display_name=f"{rng.choice(_NAMES)} {index}",
            tagline=f"{rng.choice(['Gentle', 'Clear', 'Honest'])} readings for "
                    f"{rng.choice(['love', 'career', 'life'])}",
            bio="A generated reader.", location=rng.choice(_LOCATIONS),
            attributes={"tools": rng.sample(kinds["tools"], rng.randint(1, 3)),
                        "abilities": rng.sample(kinds["abilities"], rng.randint(1, 3)),
                        "style": rng.choice(kinds["styles"])},
            reading_options=options,
            availability={"timezone": rng.choice(["Europe/Lisbon", "America/New_York", "Australia/Sydney"]),
                          "instantBooking": rng.random() < 0.5,
                          "schedule": {day: [{"start": "09:00", "end": "17:00"}]
                                       for day in rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], 4)}},
            is_online=online, online_flag="online" if online else None, last_seen_at=STAMP if online else None,
            rating_average=round(rng.uniform(3, 5), 2), rating_count=rng.randint(0, 300),
            total_readings=rng.randint(0, 900), created_at=created, updated_at=created, submitted_at=created,
            decided_at=created))
    return users, profiles


def _write(items: list[Any]) -> None:
    if not items:
        return
    with type(items[0]).batch_write() as batch:
        for item in items:
            batch.save(item)


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def _dynamodb(calls: Counter[tuple[str, str]]) -> int:
    return sum(n for (service, _), n in calls.items() if service == "dynamodb")


def _ops(calls: Counter[tuple[str, str]]) -> str:
    return ", ".join(f"{op} x{n}" for (_service, op), n in sorted(calls.items())) or "none"


def _fresh_account() -> None:
    import boto3

    from bench import environment
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.integrations import s3
    from chalicelib.services import catalog
    from chalicelib.services.catalog_defaults import default_items
    from chalicelib.services.explore import service
    from tools.resources import create_all

    aws_clients.reset()
    s3.reset()
    create_all(environment.PREFIX, boto3.session.Session(), environment.REGION)
    catalog.forget_cached()
    service.forget_cached()
    catalog.upsert(default_items())
    catalog.time_spans()  # the build's one catalog read, outside what is counted


def measure_build(count: int) -> dict[str, Any]:
    """The build as the job runs it, from moto: time and DynamoDB calls."""
    from moto import mock_aws

    from bench import counting
    from chalicelib.services.explore import snapshot

    with mock_aws():
        _fresh_account()
        users, profiles = generate(count)
        _write(users)
        _write(profiles)
        counting.start()
        started = time.perf_counter()
        built = snapshot.build()
        elapsed = time.perf_counter() - started
        calls = counting.stop().calls
    return {"readers": count, "cards": built.count, "build_s": elapsed, "calls": calls}


def measure(count: int, runs: int, fallback_max: int = FALLBACK_MAX) -> dict[str, Any]:
    """Cards assembled in memory, published as the job does, loaded cold and searched through
    the route. The fallback load (building the index from the cards object) is timed up to
    ``fallback_max`` readers (it takes about a minute at 100,000)."""
    import json

    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from bench import counting
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.integrations import s3
    from chalicelib.services import reader_cards as readers
    from chalicelib.services.explore import overlay, packed, service, snapshot, store

    figures: dict[str, Any] = {"readers": count}
    with mock_aws():
        try:
            _fresh_account()
            users, profiles = generate(count)
            _write([p for p in profiles if p.online_flag])  # what the overlay reads
            figures["online"] = sum(1 for p in profiles if p.online_flag)
            started = time.perf_counter()
            by_id = {user.user_id: user for user in users}
            cards = [card for p in profiles if (card := readers.card_document(p, by_id[p.reader_id]))]
            hidden = frozenset(p.reader_id for p in profiles if not snapshot.shows_online(by_id[p.reader_id]))
            built = snapshot.Built(built_at="2026-12-01T12:00:00.000Z", cards=cards, hidden_presence=hidden)
            figures["assemble_s"] = time.perf_counter() - started
            figures["cards"] = built.count
            started = time.perf_counter()
            data = snapshot.serialize(built)
            figures["serialize_s"] = time.perf_counter() - started
            figures["bytes"] = len(data)
            started = time.perf_counter()
            store.publish(built)  # what the job stores: the built index, then the cards object
            figures["publish_s"] = time.perf_counter() - started
            del users, profiles, built, cards, by_id
            gc.collect()
            stored = s3.read(get_settings().media_bucket_name, packed.KEY, limit=packed.MAX_BYTES)
            assert stored is not None
            index_data = stored.data
            figures["index_bytes"] = len(index_data)
            del stored

            store.forget()  # a cold container: one GetObject of the stored index, unpickled
            gc.collect()
            counting.start()
            started = time.perf_counter()
            cold = store.current()
            figures["load_s"] = time.perf_counter() - started
            figures["load_calls"] = counting.stop().calls
            if cold.source != "index":
                raise RuntimeError("the cold container did not load the stored index")
            del cold
            if count <= fallback_max:  # the fallback (and the old cold start): build from the cards object
                store.forget()
                gc.collect()
                started = time.perf_counter()
                store.load(snapshot.parse(data), None)
                figures["fallback_s"] = time.perf_counter() - started
            store.forget()
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            kept = packed.parse(index_data)  # what a container holds: the loaded index
            figures["memory_bytes"] = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            del kept, index_data, data
            gc.collect()
            store.current()

            with Client(app) as client:
                def get() -> Any:
                    response = client.http.request(method="GET", path=QUERY, headers={}, body=b"")
                    if response.status_code != 200:
                        raise RuntimeError(f"GET /readers answered {response.status_code}: {response.body[:300]!r}")
                    return response

                for _ in range(3):
                    first = get()
                figures["total_count"] = json.loads(first.body)["totalCount"]
                # The caches' clock stands still: every timed request is within the overlay's 5 s
                # window and the snapshot's 60 s re-check (moto's Query of thousands of online
                # readers alone takes longer than the window).
                frozen = overlay.monotonic()
                overlay.monotonic = store.monotonic = lambda: frozen
                try:
                    get()  # the overlay as of the frozen moment
                    figures["warm"] = _timed(get, runs)
                    # moto answers a Query of thousands of online readers in seconds: a few runs only.
                    figures["overlay"] = _timed(get, OVERLAY_RUNS, before=overlay.forget)
                finally:
                    overlay.monotonic = store.monotonic = time.monotonic
        finally:
            service.forget_cached()
            aws_clients.reset()
            s3.reset()
    return figures


def _timed(get: Any, runs: int, before: Any = None) -> tuple[tuple[float, float], list[Counter[tuple[str, str]]]]:
    from bench import counting

    latencies, per_request = [], []
    for _ in range(runs):
        if before is not None:
            before()
        counting.start()
        started = time.perf_counter_ns()
        get()
        latencies.append((time.perf_counter_ns() - started) / 1e6)
        per_request.append(counting.stop().calls)
    return _percentiles(latencies), per_request


def lines(build: dict[str, Any] | None, results: list[dict[str, Any]], runs: int) -> list[str]:
    out = [
        "## Explore (`GET /readers`)",
        "",
        f"Generated readers: {ONLINE_SHARE:.0%} online, about 10% hiding their online status, about 10% "
        "readers_only. Latencies in ms, in-process (`chalice.test.Client`, moto), anonymous.",
        "",
    ]
    if build is not None:
        ops = build["calls"]
        out += [
            f"**Snapshot build from DynamoDB** (what the job runs: Query pages of `byStatus`, BatchGet of the users "
            f"100 keys per call) at {build['readers']:,} readers: {_ops(ops)} ({_dynamodb(ops)} DynamoDB calls for "
            f"{build['cards']:,} cards, {_dynamodb(ops) / max(build['readers'], 1):.3f} calls per reader), "
            f"{build['build_s']:.1f} s. The calls grow with pages: "
            "ceil(readers / 100) BatchGets plus one Query per MB of profiles. The time is moto's (its response "
            "serializer takes seconds per 1 MB page), which is why larger builds below assemble the cards in "
            "memory with the same `card_document` instead of reading them back from moto.",
            "",
        ]
    out += [
        f"**Warm request**: {QUERY_TEXT}; {runs} timed requests after 3 warm-ups. *Past the overlay window*: the "
        f"overlay cache dropped before each request, so each pays the `onlineReaders` Query (moto; {OVERLAY_RUNS} "
        "requests).",
        "",
        "*Job: index + store*: building the index from the cards, pickling it and storing both objects (what "
        "the job adds after reading). *Cold load*: a new container's `store.current()` (GetObject of the stored "
        "index, HMAC check, inflate, unpickle). *Fallback load*: building the index from the cards object instead "
        f"(a missing, foreign or rejected index object; the cold start before the stored index), timed up to "
        f"{FALLBACK_MAX:,} readers. *Index memory*: the loaded index (tracemalloc).",
        "",
        "| Readers (cards) | Cards assembled | Job: index + store | Cards gzip / index object | Cold load "
        "| Fallback load | Index memory | per 10,000 | Warm p50 / p99 | DynamoDB calls per warm request "
        "| Past the overlay window p50 / p99, calls |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        dynamodb = [_dynamodb(c) for c in r["warm"][1]]
        overlay_calls = Counter[tuple[str, str]]()
        for recorded in r["overlay"][1]:
            overlay_calls.update(recorded)
        overlay_n = len(r["overlay"][1])
        per_10k = r["memory_bytes"] / r["cards"] * 10_000 if r["cards"] else 0
        (p50, p99), (o50, o99) = r["warm"][0], r["overlay"][0]
        fallback = f"{r['fallback_s']:.2f} s" if "fallback_s" in r else "not timed"
        overlay_ops = ", ".join(f"{op} x{n / overlay_n:g}" for (_svc, op), n in sorted(overlay_calls.items()))
        out.append(
            f"| {r['readers']:,} ({r['cards']:,}) | {r['assemble_s']:.2f} s | {r['publish_s']:.1f} s "
            f"| {r['bytes'] / 1e6:.1f} MB / {r['index_bytes'] / 1e6:.1f} MB "
            f"| {r['load_s']:.2f} s ({_ops(r['load_calls'])}) "
            f"| {fallback} "
            f"| {r['memory_bytes'] / 1e6:.0f} MB "
            f"| {per_10k / 1e6:.1f} MB | {p50:.2f} / {p99:.2f} "
            f"| {max(dynamodb)} (max; {sum(dynamodb)} in {len(dynamodb)} requests) "
            f"| {o50:.2f} / {o99:.2f}, {overlay_ops or 'none'} ({r['online']:,} online) |")
    out += ["", "Matches of the warm query: "
            + ", ".join(f"{r['total_count']:,} of {r['cards']:,}" for r in results) + "."]
    return out


def section(sizes: list[int], runs: int, build_size: int = BUILD_READERS) -> list[str]:
    build = None
    if build_size:
        print(f"explore: build from moto at {build_size:,} readers...", file=sys.stderr)
        started = time.perf_counter()
        build = measure_build(build_size)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    results = []
    for size in sizes:
        print(f"explore: {size:,} readers...", file=sys.stderr)
        started = time.perf_counter()
        results.append(measure(size, runs))
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return lines(build, results, runs)


def main(argv: list[str] | None = None) -> int:
    from bench import counting, environment

    parser = argparse.ArgumentParser(prog="python -m bench.explore", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated reader counts")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--build-readers", type=int, default=BUILD_READERS,
                        help="readers the build from moto reads (0: skip)")
    args = parser.parse_args(argv)
    counting.install()
    environment.prepare(environment.keys_dir())
    print("\n".join(section([int(s) for s in args.sizes.split(",")], args.runs, args.build_readers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
