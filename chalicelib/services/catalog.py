"""The catalog: one Query for everything the frontend needs to render choices."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.domain.readings import time_span_id
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
from chalicelib.ttl_cache import TtlCache

_SECTIONS = {
    "topic": "topics",
    "reading_type": "readingTypes",
    "time_span": "timeSpans",
    "credit_package": "creditPackages",
    "plan": "subscriptionPlans",
    "badge": "badges",
    "category": "categories",
}


def load() -> dict[str, Any]:
    """Active catalog entries grouped the way ``GET /catalog`` shows them."""
    out: dict[str, Any] = {section: [] for section in _SECTIONS.values()}
    out["attributes"] = {"abilities": [], "tools": [], "styles": []}
    for item in CatalogItem.query(CATALOG_PARTITION, filter_condition=CatalogItem.active == True):  # noqa: E712
        entry = {"id": item.item_id, **plain(item.data.as_dict())}
        if item.kind == "attribute":
            out["attributes"][entry["kind"]].append(entry)
        elif item.kind in _SECTIONS:
            out[_SECTIONS[item.kind]].append(entry)
    for section in [*out.values(), *out["attributes"].values()]:
        if isinstance(section, list):
            section.sort(key=lambda e: (e.get("position", 0), e.get("duration", 0), e.get("price", 0), e["id"]))
    return out


# The active time spans, kept per container for TIME_SPANS_TTL_S (one Query when stale): the
# reader cards list a price per time span without a catalog read per request. Only a cache:
# the quote and the booking read the time span itself. Catalog writes in this container
# forget it (``forget_cached``); other containers catch up within the TTL, as the card's own
# HTTP cache (60 s) does.
TIME_SPANS_TTL_S = 60.0


def _load_time_spans() -> list[dict[str, Any]]:
    spans = [{"id": item.item_id, **plain(item.data.as_dict())}
             for item in CatalogItem.query(CATALOG_PARTITION, CatalogItem.sk.startswith("time_span#"),
                                           filter_condition=CatalogItem.active == True)]  # noqa: E712
    # Only spans a booking can use: the quote finds a span by the id its duration gives
    # (an admin-made span with another id, or a changed duration, would be listed at a
    # price no quote charges).
    spans = [span for span in spans if span["id"] == time_span_id(int(span.get("duration", 0)))]
    spans.sort(key=lambda e: (int(e.get("duration", 0)), e["id"]))
    return spans


_time_spans = TtlCache(_load_time_spans, TIME_SPANS_TTL_S)


def time_spans(*, clock: Callable[[], float] = time.monotonic) -> list[dict[str, Any]]:
    """The active time spans ({id, duration, label, multiplier}), shortest first."""
    return _time_spans.get(clock=clock)


def _load_status_categories() -> dict[str, dict[str, Any]]:
    return {item.item_id: {"id": item.item_id, **plain(item.data.as_dict()), "active": bool(item.active)}
            for item in CatalogItem.query(CATALOG_PARTITION, CatalogItem.sk.startswith("category#"))}


# Every status category, retired ones too ({id: {id, name, abilityIds, toolIds, topicId,
# active}}): the readers' feed and the expiry job walk every category's statuses (a retired
# category's statuses still close), new statuses take an active one. One Query per TTL.
_status_categories = TtlCache(_load_status_categories, TIME_SPANS_TTL_S)


def status_categories() -> dict[str, dict[str, Any]]:
    return _status_categories.get()


def forget_cached() -> None:
    """Drop this container's cached catalog slices (after a catalog write, and between tests)."""
    _time_spans.forget()
    _status_categories.forget()


def upsert(items: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Write catalog entries (idempotent: the same input twice leaves the same table)."""
    now = iso(utcnow())
    with CatalogItem.batch_write() as batch:
        for kind, item_id, data in items:
            batch.save(CatalogItem(sk=f"{kind}#{item_id}", kind=kind, item_id=item_id, data=data, active=True,
                                   updated_at=now, version=1))
    forget_cached()
    return len(items)


def get_active(kind: str, item_id: str, *, include_retired: bool = False) -> dict[str, Any] | None:
    """One active catalog entry (one GetItem), or None when missing or retired (unless
    ``include_retired``: a retired plan still pays out to its existing subscribers)."""
    try:
        item = CatalogItem.get(CATALOG_PARTITION, f"{kind}#{item_id}")
    except CatalogItem.DoesNotExist:
        return None
    if not item.active and not include_retired:
        return None
    return {"id": item.item_id, **plain(item.data.as_dict())}
