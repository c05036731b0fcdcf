"""The live online overlay: which readers are online now, from the ``onlineReaders`` index.

The snapshot is minutes old; presence changes by the second. The sparse ``onlineReaders``
index holds exactly the readers whose ``onlineFlag`` is set (the online toggle and the
presence job keep it), so one Query of its one partition, projected to ``readerId``, lists
them (a page per ~1 MB: tens of thousands of ids). The answer is kept ``TTL_S`` seconds per
container, so a burst of requests shares one Query.

Privacy is applied by the caller: a reader who hides their online status is in the
snapshot's ``hidden_presence`` and never counts as online (``visible``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chalicelib.models.readers import ReaderProfile

TTL_S = 5.0
ONLINE = "online"

# The clock the caches read (tests replace it).
monotonic: Callable[[], float] = time.monotonic

_lock = threading.Lock()
_cached: tuple[float, frozenset[str]] | None = None


def _query() -> frozenset[str]:
    return frozenset(profile.reader_id for profile in
                     ReaderProfile.online_readers.query(ONLINE, attributes_to_get=["readerId"]))


def online_ids(*, clock: Callable[[], float] | None = None) -> frozenset[str]:
    """Every reader whose online flag is set (all pages), at most ``TTL_S`` old."""
    global _cached
    clock = clock or monotonic
    cached = _cached
    if cached is not None and clock() - cached[0] < TTL_S:
        return cached[1]
    with _lock:
        moment = clock()
        if _cached is not None and moment - _cached[0] < TTL_S:
            return _cached[1]
        ids = _query()
        _cached = (moment, ids)
        return ids


def visible(online: frozenset[str], hidden_presence: frozenset[str]) -> frozenset[str]:
    """The online readers a viewer may see as online."""
    return online - hidden_presence if hidden_presence else online


def forget() -> None:
    global _cached
    _cached = None
