"""Numeric search columns: listed prices and ratings, as bitsets for ranges of values."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from chalicelib.services.explore import bits

# The price-range facet, by listed total: [min, max) credits (max None: no upper bound).
PRICE_RANGES: tuple[tuple[int, int | None], ...] = ((0, 25), (25, 50), (50, 100), (100, 200), (200, None))
RATING_STEPS = (5, 4, 3, 2, 1)
_PRICE_BUCKETS = 64


class PriceColumn:
    """Every listed total of every reader. A price filter [low, high] (inclusive) is the union
    of the precomputed buckets it covers and a scan of the totals at its two ends."""

    def __init__(self, totals: Sequence[Sequence[float]]) -> None:
        self.size = len(totals)
        pairs = sorted((total, reader) for reader, listed in enumerate(totals) for total in set(listed))
        self.values = array("d", (total for total, _ in pairs))
        self.readers = array("i", (reader for _, reader in pairs))
        step = max(1, len(pairs) // _PRICE_BUCKETS)
        cuts = {float(low) for low, _ in PRICE_RANGES} | {self.values[i] for i in range(0, len(pairs), step)}
        self.bounds = sorted(cuts)  # bucket j: [bounds[j], bounds[j + 1]), the last one unbounded
        self.buckets = [self._scan(low, high, upper_open=True) for low, high in self._bucket_ranges()]
        self.ranges = [self._scan(float(low), math.inf if high is None else float(high), upper_open=True)
                       for low, high in PRICE_RANGES]
        self._memo: dict[tuple[float, float], int] = {}

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_memo": {}}

    def _bucket_ranges(self) -> list[tuple[float, float]]:
        return list(zip(self.bounds, [*self.bounds[1:], math.inf], strict=True))

    def _scan(self, low: float, high: float, *, upper_open: bool = False) -> int:
        start = bisect_left(self.values, low)
        stop = bisect_left(self.values, high) if upper_open else bisect_right(self.values, high)
        return bits.from_indexes(self.readers[start:stop], self.size)

    def within(self, low: float | None, high: float | None) -> int:
        """Readers with some listed total in [low, high]."""
        low = -math.inf if low is None else float(low)
        high = math.inf if high is None else float(high)
        key = (low, high)
        if key not in self._memo:
            if len(self._memo) > 64:
                self._memo.clear()
            covered = [j for j, (begin, end) in enumerate(self._bucket_ranges()) if low <= begin and end <= high]
            if not covered:  # covered buckets are contiguous: [covered[0], covered[-1]]
                found = self._scan(low, high)
            else:
                found = 0
                for j in covered:
                    found |= self.buckets[j]
                found |= self._scan(low, self.bounds[covered[0]], upper_open=True)
                if covered[-1] + 1 < len(self.bounds):
                    found |= self._scan(self.bounds[covered[-1] + 1], high)
            self._memo[key] = found
        return self._memo[key]


class RatingColumn:
    """Rated readers (ratingCount > 0) by average rating."""

    def __init__(self, ratings: Sequence[float | None]) -> None:
        rated = sorted((rating, reader) for reader, rating in enumerate(ratings) if rating is not None)
        self.size = len(ratings)
        self.values = array("d", (rating for rating, _ in rated))
        self.readers = array("i", (reader for _, reader in rated))
        self.steps: dict[float, int] = {step: self.at_least(step) for step in RATING_STEPS}

    def at_least(self, minimum: float) -> int:
        return bits.from_indexes(self.readers[bisect_left(self.values, minimum):], self.size)
