"""Notification schedules: held push/email released every 5 minutes (quiet hours ended,
digests due), reading reminders every minute."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

notification_schedule_jobs = JobBlueprint(__name__)


@notification_schedule_jobs.schedule("rate(5 minutes)", name="release_held_notifications")
def release_held_notifications(event: Any) -> dict[str, int]:
    from chalicelib.services.notifications import held

    return held.release_due()


@notification_schedule_jobs.schedule("rate(1 minute)", name="reading_reminders")
def reading_reminders(event: Any) -> dict[str, int]:
    from chalicelib.services.readings import reminders  # importing registers its event consumers

    return reminders.run()
