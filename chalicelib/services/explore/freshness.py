"""When the explore snapshot is rebuilt.

Every change that alters a card (a profile edit, options, availability, preferences, an
approval, a review, a completed reading, a deletion, a badge) reaches an event consumer here
that marks the snapshot stale: one UpdateItem on the marker item (``models.explore``), never
a build. The per-minute schedule (``jobs/explore.py``) rebuilds only when the marker says
stale; the hourly one always does. A build first claims the marker with a conditional
update (a lease in ``buildingUntil``), so overlapping runs never both build, and clears
``staleSince`` only if no change arrived while it built (``changes`` did not move).

Presence (``reader.online_changed``) is not here: the online overlay is live.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.explore import ExploreState
from chalicelib.services import events
from chalicelib.services.explore import store

LEASE = timedelta(minutes=10)  # a build that died holds the claim at most this long
CARD_EVENTS = ("reader.card_changed", "review.created", "reading.completed", "reader_application.approved",
               "user.deleted", "badge.awarded")


def _marker() -> ExploreState:
    return ExploreState()


def _failed_condition(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def mark_stale(reason: str, *, now: datetime | None = None) -> None:
    """One UpdateItem: stale since the first change after the last build; every change counts."""
    moment = iso(now or utcnow())
    _marker().update(actions=[ExploreState.stale_since.set(ExploreState.stale_since | moment),
                              ExploreState.stale_reason.set(reason[:200]),
                              ExploreState.changes.add(1)])


def state() -> ExploreState | None:
    try:
        return ExploreState.get(ExploreState.pk.default, ExploreState.sk.default, consistent_read=True)
    except ExploreState.DoesNotExist:
        return None


def _claim(now: datetime, *, only_if_stale: bool) -> int | None:
    """Take the build lease; returns the change count seen at the claim, or None when the
    snapshot is fresh (``only_if_stale``) or another build holds the lease."""
    free = ExploreState.building_until.does_not_exist() | (ExploreState.building_until < iso(now))
    condition = (ExploreState.stale_since.exists() & free) if only_if_stale else free
    marker = _marker()
    try:
        marker.update(actions=[ExploreState.building_until.set(iso(now + LEASE))], condition=condition)
    except UpdateError as exc:
        if _failed_condition(exc):
            return None
        raise
    return int(marker.changes or 0)


def _finish(seen: int, *, built_at: str, count: int) -> None:
    """Release the lease and record the build; fresh again unless changes came in meanwhile."""
    done: list[Action] = [ExploreState.building_until.remove(), ExploreState.last_built_at.set(built_at),
            ExploreState.last_count.set(count)]
    unchanged = (ExploreState.changes == seen) if seen else ExploreState.changes.does_not_exist()
    try:
        _marker().update(actions=[*done, ExploreState.stale_since.remove(), ExploreState.stale_reason.remove()],
                         condition=unchanged)
    except UpdateError as exc:
        if not _failed_condition(exc):
            raise
        _marker().update(actions=done)  # still stale: the next minute builds again


def _release() -> None:
    _marker().update(actions=[ExploreState.building_until.remove()])


def _build(now: datetime, *, only_if_stale: bool) -> dict[str, Any]:
    seen = _claim(now, only_if_stale=only_if_stale)
    if seen is None:
        return {"built": False}
    try:
        loaded = store.rebuild(now=now)
    except Exception:
        _release()
        raise
    _finish(seen, built_at=loaded.built_at, count=len(loaded))
    logger.info("explore snapshot built", extra={"readers": len(loaded), "builtAt": loaded.built_at})
    return {"built": True, "readers": len(loaded)}


def rebuild_if_stale(*, now: datetime | None = None) -> dict[str, Any]:
    """The per-minute schedule: build only when a change marked the snapshot stale."""
    return _build(now or utcnow(), only_if_stale=True)


def rebuild(*, now: datetime | None = None) -> dict[str, Any]:
    """The hourly schedule (and ``make run`` after the seed): build whatever the marker says."""
    return _build(now or utcnow(), only_if_stale=False)


def _on_card_event(message: dict[str, Any]) -> None:
    mark_stale(str(message.get("type", "unknown")))


for _event_type in CARD_EVENTS:
    events.consumer(_event_type)(_on_card_event)
