"""Reader presence: time out readers whose heartbeats stopped."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

presence_jobs = JobBlueprint(__name__)


@presence_jobs.schedule("rate(1 minute)", name="reader_presence")
def reader_presence(event: Any) -> dict[str, int]:
    """Sets offline every reader silent for READER_PRESENCE_TIMEOUT_SECONDS (default 300)."""
    from chalicelib.services import presence

    return {"expired": len(presence.expire_stale())}
