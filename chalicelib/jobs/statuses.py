"""Status expiry, every 15 minutes: active statuses past ``STATUS_TTL_DAYS`` close (expired),
their suggesting readers are told."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.services import statuses

statuses_jobs = Blueprint(__name__)


@statuses_jobs.schedule("rate(15 minutes)", name="status_expiry")
def status_expiry(event: Any) -> dict[str, int]:
    return {"expired": statuses.expire_due()}
