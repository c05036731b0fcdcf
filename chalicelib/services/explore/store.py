"""The loaded explore snapshot, cached per container.

``current()`` answers from memory; at most every ``RECHECK_S`` it asks S3 whether the stored
index changed (a GetObject with ``IfNoneMatch``: a 304 costs no transfer) and loads the new one
when it did. A container loads the built index the job stored (``packed``: about a second at
100,000 readers) and builds it from the cards object (``snapshot``) only when that object is
missing, of another ``ENGINE_FORMAT`` or rejected (then it rechecks both objects, each a 304
while unchanged). A fresh stack with no snapshot yet builds and stores one, once,
synchronously (under the lock, so concurrent first requests wait for the one build). A failed
re-check keeps serving the snapshot already loaded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.integrations import s3
from chalicelib.logs import logger
from chalicelib.services.explore import engine, packed, snapshot

RECHECK_S = 60.0


@dataclass(frozen=True)
class Snapshot:
    """A loaded snapshot: the search index over its cards and what the route and the overlay
    need besides."""

    index: engine.Index
    built_at: str
    ids: tuple[str, ...]  # every reader id in the snapshot, in build order
    hidden_presence: frozenset[str]  # readers whose privacy hides their online status
    etag: str | None  # of the object it was loaded from
    source: str = "cards"  # "index": the stored index (packed); "cards": built from the cards object

    def card(self, reader_id: str) -> dict[str, Any] | None:
        return self.index.card(reader_id)

    def __len__(self) -> int:
        return len(self.ids)


# The clock the cache reads (tests replace it).
monotonic: Callable[[], float] = time.monotonic

_lock = threading.Lock()
_current: Snapshot | None = None
_checked_at: float | None = None
_rejected_etag: str | None = None  # a stored index this container refused: re-checked as a 304


def load(built: snapshot.Built, etag: str | None) -> Snapshot:
    """Build the index from the cards (the fallback path, and the job's)."""
    built_at = datetime.fromisoformat(built.built_at)
    return Snapshot(index=engine.Index.build(built.cards, built_at=built_at), built_at=built.built_at,
                    ids=tuple(card["id"] for card in built.cards), hidden_presence=built.hidden_presence, etag=etag)


def unpacked(found: packed.Packed, etag: str) -> Snapshot:
    return Snapshot(index=found.index, built_at=found.built_at, ids=found.ids, hidden_presence=found.hidden_presence,
                    etag=etag, source="index")


def publish(built: snapshot.Built) -> Snapshot:
    """Build the index and store both objects: the index first, so the index a container loads
    is never older than the cards object (a failed write fails the job, which retries)."""
    loaded = load(built, None)
    etag = packed.write(packed.Packed(index=loaded.index, built_at=loaded.built_at, ids=loaded.ids,
                                      hidden_presence=loaded.hidden_presence))
    snapshot.write(built)
    return Snapshot(index=loaded.index, built_at=loaded.built_at, ids=loaded.ids,
                    hidden_presence=loaded.hidden_presence, etag=etag, source="index")


def _install(loaded: Snapshot, moment: float) -> Snapshot:
    global _current, _checked_at
    _current, _checked_at = loaded, moment
    return loaded


def current(*, clock: Callable[[], float] | None = None) -> Snapshot:
    """The snapshot this container serves (no I/O within ``RECHECK_S`` of the last check)."""
    clock = clock or monotonic
    loaded, checked = _current, _checked_at
    if loaded is not None and checked is not None and clock() - checked < RECHECK_S:
        return loaded
    with _lock:
        moment = clock()
        if _current is not None and _checked_at is not None and moment - _checked_at < RECHECK_S:
            return _current  # another thread re-checked while this one waited
        return _refresh(moment)


def _read_newer() -> Snapshot | s3.NotModifiedType | None:
    """A newer snapshot than the loaded one; NOT_MODIFIED; None when nothing is stored."""
    global _rejected_etag
    loaded = _current
    from_index = loaded is not None and loaded.source == "index"
    found = packed.read(etag=loaded.etag if from_index and loaded is not None else _rejected_etag)
    if isinstance(found, tuple):
        _rejected_etag = None
        return unpacked(*found)
    if isinstance(found, packed.Rejected):
        _rejected_etag = found.etag
    elif found is s3.NOT_MODIFIED and from_index:
        return s3.NOT_MODIFIED
    # No usable index object: the cards object, built here.
    cards = snapshot.read(etag=loaded.etag if loaded is not None and not from_index else None)
    if cards is None or cards is s3.NOT_MODIFIED:
        return cards
    assert isinstance(cards, tuple)
    return load(*cards)


def _refresh(moment: float) -> Snapshot:
    global _checked_at
    try:
        found = _read_newer()
    except Exception:
        if _current is None:
            raise
        logger.exception("explore snapshot re-check failed; serving the loaded one",
                         extra={"builtAt": _current.built_at})
        _checked_at = moment
        return _current
    if found is s3.NOT_MODIFIED:
        assert _current is not None
        _checked_at = moment
        return _current
    if found is None:
        if _current is not None:  # the object went away: keep serving, the next build stores one
            _checked_at = moment
            return _current
        logger.info("no explore snapshot stored yet: building one")
        return _rebuild(moment)
    assert isinstance(found, Snapshot)
    return _install(found, moment)


def _rebuild(moment: float) -> Snapshot:
    return _install(publish(snapshot.build()), moment)


def rebuild(*, now: datetime | None = None, clock: Callable[[], float] | None = None) -> Snapshot:
    """Build and store a new snapshot, and serve it from this container right away. The
    build runs outside the lock: requests keep being served from the loaded snapshot."""
    loaded = publish(snapshot.build(now=now))
    with _lock:
        return _install(loaded, (clock or monotonic)())


def forget() -> None:
    """Drop this container's snapshot (tests; the next ``current`` loads from S3)."""
    global _current, _checked_at, _rejected_etag
    with _lock:
        _current, _checked_at, _rejected_etag = None, None, None
