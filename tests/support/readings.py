"""Building blocks for reading tests: a verified client with credits, an approved reader
with options and a weekly schedule, and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# A Monday, 08:00 UTC (09:00 in Lisbon in winter).
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

OPTIONS = [
    {"id": "opt_call", "type": "phone_call", "name": "Phone reading", "description": "", "duration": 30,
     "price": 60, "isActive": True},
    {"id": "opt_live", "type": "live_video", "name": "Live video", "description": "", "duration": 30,
     "price": 75, "isActive": True},
    {"id": "opt_msg", "type": "video_message", "name": "Video message", "description": "", "duration": 15,
     "price": 40, "isActive": True},
]
WEEK = {day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


def make_client(user_id: str, credits: int = 0, *, verified: bool = True) -> Any:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User
    from chalicelib.services import ledger

    now = iso(utcnow())
    user = User(user_id=user_id, role="client", status="active", created_at=now, updated_at=now,
                email=f"{user_id}@example.com", display_name=f"{user_id.title()} Client",
                age_verified_at=now if verified else None, age_verification_method="self_declared" if verified
                else None)
    user.save()
    if credits:
        ledger.grant(user_id, credits, source="promotion", entry_id=f"test-grant:{user_id}")
    return User.get(user_id)


def make_reader(user_id: str, *, online: bool = True, timezone: str = "Europe/Lisbon",
                options: list[dict[str, Any]] | None = None, week: dict[str, Any] | None = None) -> Any:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    now = iso(utcnow())
    User(user_id=user_id, role="reader", status="active", created_at=now, updated_at=now,
         email=f"{user_id}@example.com", display_name=f"{user_id.title()} Reader").save()
    profile = ReaderProfile(reader_id=user_id, status="approved", display_name=f"{user_id.title()} Reader",
                            reading_options=options or OPTIONS,
                            availability={"timezone": timezone, "instantBooking": True, "schedule": week or WEEK},
                            is_online=online, online_flag="online" if online else None,
                            last_seen_at=now if online else None, created_at=now, updated_at=now,
                            submitted_at=now, decided_at=now)
    profile.save()
    return profile
