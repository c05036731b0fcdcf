"""What every readings module shares: loading a reading, who the caller is to it, the
writes every state change makes (status, list keys, timer), the reader's slot keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.readings import tab_of
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readings import Reading, ReadingSlot
from chalicelib.services import pricing
from chalicelib.services.tx import Transaction


def now_or(now: datetime | None) -> datetime:
    return now or utcnow()


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def get(reading_id: str) -> Reading:
    try:
        return Reading.get(reading_id, consistent_read=True)
    except Reading.DoesNotExist:
        raise NotFound("reading") from None


def existing(reading_id: str) -> Reading | None:
    try:
        return Reading.get(reading_id, consistent_read=True)
    except Reading.DoesNotExist:
        return None


def party_role(reading: Reading, user_id: str) -> str | None:
    if user_id == reading.client_id:
        return "client"
    if user_id == reading.reader_id:
        return "reader"
    return None


def actor_of(reading: Reading, user_id: str, role: str) -> str:
    """client, reader or admin; anyone else gets 404 (another's reading is not acknowledged)."""
    actor = party_role(reading, user_id)
    if actor is None:
        if role == "admin":
            return "admin"
        raise NotFound("reading")
    return actor


def reading_type(reading: Reading) -> str:
    return str(reading.reading_option["type"])


def field_error(path: str, message: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid.", details={"fields": [
        {"path": path, "message": message, "type": "value_error"}]})


def state_actions(reading: Reading, target: str, at: str) -> list[Any]:
    """The status and the two list keys (GET /readings tabs) that go with it."""
    tab = tab_of(target)
    return [Reading.status.set(target), Reading.updated_at.set(at),
            Reading.client_tab.set(f"{reading.client_id}#{tab}"), Reading.reader_tab.set(f"{reading.reader_id}#{tab}")]


def timer_actions(timer: tuple[str, datetime] | None) -> list[Any]:
    if timer is None:
        return [Reading.timer.remove(), Reading.timer_at.remove()]
    return [Reading.timer.set(timer[0]), Reading.timer_at.set(iso(timer[1]))]


def event_data(reading: Reading, **extra: Any) -> dict[str, Any]:
    return {"readingId": reading.reading_id, "clientId": reading.client_id, "readerId": reading.reader_id,
            "type": reading_type(reading), **extra}


def slot_keys(reader_id: str, start: datetime, end: datetime) -> list[str]:
    return [f"{reader_id}#{iso(slot)}" for slot in pricing.slot_starts(start, end)]


def free_slots(tx: Transaction, reading: Reading) -> None:
    start, end = parse(reading.scheduled_start), parse(reading.scheduled_end)
    if start and end:
        for key in slot_keys(reading.reader_id, start, end):
            tx.delete(ReadingSlot(slot_key=key), condition=ReadingSlot.reading_id == reading.reading_id,
                      label="slot-free")
