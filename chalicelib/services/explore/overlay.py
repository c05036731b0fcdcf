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

import time
from collections.abc import Callable

from chalicelib.models.readers import ReaderProfile
from chalicelib.ttl_cache import TtlCache

TTL_S = 5.0
ONLINE = "online"

# The clock the caches read (tests replace it).
monotonic: Callable[[], float] = time.monotonic


def _query() -> frozenset[str]:
    return frozenset(profile.reader_id for profile in
                     ReaderProfile.online_readers.query(ONLINE, attributes_to_get=["readerId"]))


_online = TtlCache(_query, TTL_S)


def online_ids(*, clock: Callable[[], float] | None = None) -> frozenset[str]:
    """Every reader whose online flag is set (all pages), at most ``TTL_S`` old."""
    return _online.get(clock=clock or monotonic)


def visible(online: frozenset[str], hidden_presence: frozenset[str]) -> frozenset[str]:
    """The online readers a viewer may see as online."""
    return online - hidden_presence if hidden_presence else online


def forget() -> None:
    _online.forget()
