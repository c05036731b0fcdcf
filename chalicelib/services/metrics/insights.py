"""The ``reader_insights`` job's driver: readers whose counters moved since their last
evaluation, each evaluation run over them, then their mark cleared.

An event counted for a reader (services/metrics/reader.py) sets ``attention="insights"`` and
``attentionAt`` on their ``total`` bucket; the sparse, keys-only ``attention`` index lists
exactly those readers, so a run costs in proportion to the readers who had activity, never
to every reader. Per reader: one ``ReaderInsight`` (the ``total`` bucket; the profile's
timezone and the day buckets of the last 6 months only when an evaluation asks for a
bounded period), every function of ``EVALUATIONS`` (badges; quality joins here), then the
mark is removed on condition that ``attentionAt`` is still the one read with the counters: an
event counted meanwhile keeps the reader marked for the next run.

Idempotent: a second run on the same tick finds no mark (or, with a mark left, evaluations
whose writes are conditional and change nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.metrics import MetricItem
from chalicelib.services.metrics import badges, quality, reader, store
from chalicelib.services.metrics.periods import WIDEST, Range, ranges

PAGE = 100  # marked readers per index page
MAX_READERS = 2_000  # per run; the rest wait for the next run (15 minutes later)


@dataclass
class ReaderInsight:
    """What the evaluations of one reader share, read once and only when first needed."""

    reader_id: str
    total: dict[str, Any]
    now: datetime
    shared: dict[str, Any]  # per run: what every reader's evaluation reuses (the catalog badges)
    _timezone: tuple[str | None] | None = None
    _days: list[dict[str, Any]] | None = None
    _ranges: dict[str, Range] = field(default_factory=dict)

    @property
    def timezone(self) -> str | None:
        if self._timezone is None:
            facts = reader.profile_facts(self.reader_id)
            self._timezone = (facts[0] if facts else None,)
        return self._timezone[0]

    def period(self, name: str) -> Range:
        if not self._ranges:
            self._ranges = ranges(self.now, self.timezone)
        return self._ranges[name]

    def counters(self, period: str = "total") -> dict[str, Any]:
        """The reader's counters over ``period`` (a name of periods.PERIODS)."""
        if period == "total":
            return self.total
        if self._days is None:
            widest = self.period(WIDEST)
            assert widest.first is not None
            self._days = store.between(reader.pk(self.reader_id), reader.day_sk(widest.first),
                                       reader.day_sk(widest.last))
        return reader.summed(self._days, self.period(period))

    def once(self, key: str, load: Callable[[], Any]) -> Any:
        """A per-run value (loaded by the first reader that needs it)."""
        if key not in self.shared:
            self.shared[key] = load()
        return self.shared[key]


Evaluation = Callable[[ReaderInsight], int]
# (name, evaluation): each returns how many changes it made (awards, warnings...).
EVALUATIONS: list[tuple[str, Evaluation]] = [("badges", badges.evaluate), ("quality", quality.evaluate)]


def marked(limit: int = MAX_READERS) -> list[str]:
    """Reader ids marked for insights, oldest mark first (keys-only index pages)."""
    found: list[str] = []
    for item in MetricItem.needs_attention.query(reader.ATTENTION, scan_index_forward=True, page_size=PAGE,
                                                 limit=limit):
        if item.pk.startswith("reader#") and item.sk == "total":
            found.append(item.pk.removeprefix("reader#"))
    return found


def clear(reader_id: str, seen: str) -> bool:
    """Remove the mark unless another event moved ``attentionAt`` after ``seen``."""
    try:
        MetricItem(pk=reader.pk(reader_id), sk="total").update(
            actions=[MetricItem.attention.remove(), MetricItem.attention_at.remove()],
            condition=MetricItem.attention_at == seen)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def evaluate_reader(reader_id: str, *, now: datetime, shared: dict[str, Any]) -> dict[str, int]:
    total = store.get(reader.pk(reader_id), "total")
    seen = total.get("attentionAt")
    if total.get("attention") != reader.ATTENTION or not isinstance(seen, str):
        return {}
    insight = ReaderInsight(reader_id, total, now, shared)
    changes = {name: evaluation(insight) for name, evaluation in EVALUATIONS}
    changes["cleared"] = int(clear(reader_id, seen))
    return changes


RESERVE_MS = 5_000  # stop evaluating with this much of the invocation left


def run(*, now: datetime | None = None, time_left_ms: Callable[[], int] | None = None) -> dict[str, int]:
    """One run over the marked readers; the figures it returns are logged by the job. With
    ``time_left_ms`` (the Lambda context's), it stops while a reader's evaluation still fits
    (``RESERVE_MS``): the readers left keep their mark and the next run takes them."""
    moment = now or utcnow()
    shared: dict[str, Any] = {}
    figures = {"readers": 0, "cleared": 0, "left": 0, **{name: 0 for name, _ in EVALUATIONS}}
    for reader_id in marked():
        if time_left_ms is not None and time_left_ms() < RESERVE_MS:
            figures["left"] += 1
            continue
        try:
            changes = evaluate_reader(reader_id, now=moment, shared=shared)
        except Exception:  # noqa: BLE001 - one reader's failure must not stop the others; it stays marked
            logger.exception("reader insights failed", extra={"readerId": reader_id})
            continue
        figures["readers"] += 1
        for name, count in changes.items():
            figures[name] = figures.get(name, 0) + count
    return figures
