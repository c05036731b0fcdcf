"""Building blocks for reading tests: a verified client with credits, an approved reader
with options and a weekly schedule, and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# A Monday, 08:00 UTC (08:00 in Lisbon too: UTC+0 in winter), an hour before the WEEK schedule opens.
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
    from tests.support import ledger as moves

    now = iso(utcnow())
    user = User(user_id=user_id, role="client", status="active", created_at=now, updated_at=now,
                email=f"{user_id}@example.com", display_name=f"{user_id.title()} Client",
                age_verified_at=now if verified else None, age_verification_method="self_declared" if verified
                else None)
    user.save()
    if credits:
        moves.grant(user_id, credits, source="promotion", entry_id=f"test-grant:{user_id}")
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


TOPIC = "love-relationships"
QUESTION = "Will it work out?"


def next_local(weekday: int, hhmm: str, *, timezone: str = "Europe/Lisbon", at_least: Any = None,
               now: datetime | None = None) -> datetime:
    """The next ``weekday`` (0 = Monday) at ``hhmm`` in ``timezone``, at least ``at_least``
    (default 2 days) after ``now`` (default the real clock), as a UTC datetime: a time a
    route using the real clock accepts as a scheduled start inside the WEEK schedule."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    base = (now or datetime.now(UTC)).astimezone(zone)
    hours, minutes = (int(part) for part in hhmm.split(":"))
    day = base.date() + timedelta(days=(weekday - base.weekday()) % 7)
    while True:
        local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone)
        if local - base >= (at_least if at_least is not None else timedelta(days=2)):
            return local.astimezone(UTC)
        day += timedelta(days=7)


def book(client_id: str, reader_id: str = "rdr", *, option_type: str = "phone_call", duration: int | None = None,
         at: datetime | None = None, now: datetime | None = None, key: str | None = None,
         topic_id: str = TOPIC, question: str | None = QUESTION) -> Any:
    """Request a reading through the service (with an injectable clock); returns the Reading."""
    from chalicelib.models.users import User
    from chalicelib.services import readings

    if duration is None:
        duration = 15 if option_type == "video_message" else 30
    reading, _ = readings.request(User.get(client_id, consistent_read=True), reader_id=reader_id,
                                  option_type=option_type, option_id=None, duration=duration, scheduled_at=at,
                                  topic_id=topic_id, question=question, idempotency_key=key, now=now)
    return reading


def balance(user_id: str) -> tuple[int, int, int]:
    """(available, held, earnings) as stored."""
    from chalicelib.models.users import User

    user = User.get(user_id, consistent_read=True)
    return int(user.credits_available or 0), int(user.credits_held or 0), int(user.credits_earnings or 0)


def outbox_events(event_type: str) -> list[dict[str, Any]]:
    """The data of every outbox event of that type, oldest first."""
    from chalicelib.models.outbox import OutboxEvent

    found = sorted(OutboxEvent.scan(OutboxEvent.event_type == event_type), key=lambda e: (e.created_at, e.event_id))
    return [e.data.as_dict() for e in found]


def status_of(reading_id: str) -> str:
    from chalicelib.models.readings import Reading

    return str(Reading.get(reading_id, consistent_read=True).status)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each one's result or exception.

    PynamoDB makes a model's botocore client on first use and shares it; a model not used
    yet on this thread would have its client built by every racing thread at once
    (~0.3 s each, 50 threads: 15 s), so the clients are made here first."""
    import threading

    from chalicelib.models.base import connection
    from chalicelib.models.ledger import LedgerEntry, LedgerLine, SystemAccount
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.readings import Reading, ReadingSlot
    from chalicelib.models.statuses import Status, StatusCounter
    from chalicelib.models.users import User

    for model in (Reading, ReadingSlot, User, ReaderProfile, LedgerEntry, LedgerLine, SystemAccount, OutboxEvent,
                  Status, StatusCounter):
        assert model._get_connection().connection.client is not None
    assert connection().client is not None
    gate = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        gate.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
