"""The explore snapshot's schedules: rebuild within a minute of a card change, and hourly."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

explore_jobs = JobBlueprint(__name__)


@explore_jobs.schedule("rate(1 minute)", name="explore_refresh")
def explore_refresh(event: Any) -> dict[str, Any]:
    """Rebuilds the snapshot when a card change marked it stale (the marker's claim makes
    overlapping runs build once)."""
    from chalicelib.services.explore import freshness

    return freshness.rebuild_if_stale()


@explore_jobs.schedule("rate(1 hour)", name="explore_rebuild")
def explore_rebuild(event: Any) -> dict[str, Any]:
    """Rebuilds the snapshot whatever the marker says: anything a consumer missed is caught
    within the hour."""
    from chalicelib.services.explore import freshness

    return freshness.rebuild()
