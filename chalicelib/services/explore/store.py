"""The loaded explore snapshot, cached per container.

``current()`` answers from memory; at most every ``RECHECK_S`` it asks S3 whether the object
changed (a GetObject with ``IfNoneMatch``: a 304 costs no transfer) and loads the new one
when it did. A fresh stack with no snapshot yet builds and stores one, once, synchronously
(under the lock, so concurrent first requests wait for the one build). A failed re-check
keeps serving the snapshot already loaded.
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
from chalicelib.services.explore import engine, snapshot

RECHECK_S = 60.0


@dataclass(frozen=True)
class Snapshot:
    """A loaded snapshot: the search index over its cards and what the route and the overlay
    need besides."""

    index: engine.Index
    built_at: str
    ids: tuple[str, ...]  # every reader id in the snapshot, in build order
    hidden_presence: frozenset[str]  # readers whose privacy hides their online status
    etag: str | None

    def card(self, reader_id: str) -> dict[str, Any] | None:
        return self.index.card(reader_id)

    def __len__(self) -> int:
        return len(self.ids)


# The clock the cache reads (tests replace it).
monotonic: Callable[[], float] = time.monotonic

_lock = threading.Lock()
_current: Snapshot | None = None
_checked_at: float | None = None


def load(built: snapshot.Built, etag: str | None) -> Snapshot:
    built_at = datetime.fromisoformat(built.built_at)
    return Snapshot(index=engine.Index.build(built.cards, built_at=built_at), built_at=built.built_at,
                    ids=tuple(card["id"] for card in built.cards), hidden_presence=built.hidden_presence, etag=etag)


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


def _refresh(moment: float) -> Snapshot:
    global _checked_at
    try:
        found = snapshot.read(etag=_current.etag if _current is not None else None)
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
    assert isinstance(found, tuple)
    built, etag = found
    return _install(load(built, etag), moment)


def _rebuild(moment: float) -> Snapshot:
    built = snapshot.build()
    etag = snapshot.write(built)
    return _install(load(built, etag), moment)


def rebuild(*, now: datetime | None = None, clock: Callable[[], float] | None = None) -> Snapshot:
    """Build and store a new snapshot, and serve it from this container right away. The
    build runs outside the lock: requests keep being served from the loaded snapshot."""
    built = snapshot.build(now=now)
    etag = snapshot.write(built)
    loaded = load(built, etag)
    with _lock:
        return _install(loaded, (clock or monotonic)())


def forget() -> None:
    """Drop this container's snapshot (tests; the next ``current`` loads from S3)."""
    global _current, _checked_at
    with _lock:
        _current, _checked_at = None, None
