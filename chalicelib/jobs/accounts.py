"""Suspension expiry, every 5 minutes: suspensions past their end are written back as
reinstatements (the account itself counts as active from the end, per request; this brings
a reader's profile and card back and tidies the suspended list)."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

account_jobs = JobBlueprint(__name__)


@account_jobs.schedule("rate(5 minutes)", name="suspension_expiry")
def suspension_expiry(event: Any) -> dict[str, int]:
    from chalicelib.services import accounts

    return {"reinstated": len(accounts.end_due())}
