"""Readers for explore tests: a user and a profile written straight to the tables (as the
application flow would leave them), in any state."""

from __future__ import annotations

from typing import Any

from tests.support.readings import OPTIONS, WEEK


def reader(reader_id: str, *, status: str = "approved", user_status: str = "active", role: str = "reader",
           show_online: bool = True, visibility: str | None = None, online: bool = False,
           tools: tuple[str, ...] = ("tarot",), abilities: tuple[str, ...] = ("clairvoyant",),
           style: str = "compassionate", created_at: str = "2026-11-01T10:00:00.000Z", **profile: Any) -> Any:
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    privacy: dict[str, Any] = {"showOnlineStatus": show_online}
    if visibility is not None:
        privacy["profileVisibility"] = visibility
    User(user_id=reader_id, role=role, status=user_status, created_at=created_at, updated_at=created_at,
         email=f"{reader_id}@example.com", display_name=f"{reader_id.title()} Reader",
         preferences={"privacy": privacy}).save()
    fields: dict[str, Any] = {
        "display_name": f"{reader_id.title()} Reader", "tagline": "Readings with heart",
        "reading_options": OPTIONS,
        "availability": {"timezone": "Europe/Lisbon", "instantBooking": True, "schedule": WEEK},
        "attributes": {"tools": list(tools), "abilities": list(abilities), "style": style},
        "is_online": online, "online_flag": "online" if online else None,
        "last_seen_at": created_at if online else None, "created_at": created_at, "updated_at": created_at,
        "submitted_at": created_at, "decided_at": created_at, **profile}
    saved = ReaderProfile(reader_id=reader_id, status=status, **fields)
    saved.save()
    return saved


def many(count: int, prefix: str = "rdr") -> list[str]:
    """``count`` approved readers written with batch writes; their ids."""
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    ids = [f"{prefix}{index:05d}" for index in range(count)]
    stamp = "2026-11-01T10:00:00.000Z"
    with User.batch_write() as users, ReaderProfile.batch_write() as profiles:
        for reader_id in ids:
            users.save(User(user_id=reader_id, role="reader", status="active", created_at=stamp, updated_at=stamp,
                            email=f"{reader_id}@example.com"))
            profiles.save(ReaderProfile(reader_id=reader_id, status="approved", display_name=reader_id,
                                        reading_options=OPTIONS, created_at=stamp, updated_at=stamp,
                                        submitted_at=stamp,
                                        attributes={"tools": ["tarot"], "abilities": ["clairvoyant"],
                                                    "style": "compassionate"}))
    return ids
