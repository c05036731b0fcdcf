"""Status expiry, every 15 minutes: active statuses past ``STATUS_TTL_DAYS`` close (expired),
their suggesting readers are told."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

statuses_jobs = JobBlueprint(__name__)


@statuses_jobs.schedule("rate(15 minutes)", name="status_expiry")
def status_expiry(event: Any) -> dict[str, int]:
    from chalicelib.services import statuses

    return {"expired": statuses.expire_due()}
