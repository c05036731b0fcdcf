"""The demo readers' past weeks: enough completed, reviewed readings that the reader_insights
job itself awards badges at two tiers and opens quality warnings, with requests answered
within minutes.

- Luna Marquez (reader1), seeded before ``make run`` is ready (``AT_START``): 14 calls over
  the last three weeks, 4 of which she cancelled after accepting. With her readings of the
  demo (tools/seed.py) that is 12 completed (Bronze for each of her tools, abilities and
  style, catalog_defaults.BADGE_TIERS), a cancellation rate of 24 % and a dispute rate of
  8 % over the last 30 days: two open warnings, at risk (domain/quality.py).
- Sage Whitfield (reader3), seeded in the background once ``make run`` is ready
  (``IN_BACKGROUND``, ``DemoHistory``; 50 readings through the services take several
  seconds): 49 calls over the last six weeks, 50 completed with her demo one, rated 4.5+
  on average: Silver for each of her attributes, an excellent status.

Each reading goes through the services as the routes call them (request, accept, start,
complete, review; accept then cancel), inside the reader's weekly hours, each step at its
own moment (``tools.seed.at``: the service's ``now`` and its event's time), so the counters,
the platform figures and the notifications put every event on its own day, and a response
time is the minutes the reader took. The clients are six regulars who exist for this
history only (not in the banner's token list): provisioned, 18+ declared, and given what
their readings cost as a promotion through the ledger.

``count_reader_metrics`` then counts the history's events for the reader metrics at once
(``reader.consume_many``), so that the insights job run right after sees them; the
workers' own delivery of the same events counts nothing twice (each event counts once).

Idempotent: deterministic idempotency keys; a reading already requested is left as it is,
so a second run writes nothing but its reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from tools.local.worker import one_line
from tools.seed import READERS, SCHEDULES, WEEKDAYS, at, promotion, provision, reading_options, user_id

REGULARS: list[tuple[str, str]] = [
    ("regular1", "Jonah Pierce"),
    ("regular2", "Amara Osei"),
    ("regular3", "Lucia Fernandez"),
    ("regular4", "Noah Kim"),
    ("regular5", "Hannah Weiss"),
    ("regular6", "Theo Martins"),
]

# reader, reading type, durations (in turn), readings, over the last days, which ones the reader
# cancelled after accepting (indexes), the clients (REGULARS indexes, in turn), the minutes
# each answer took (in turn: an immediate request expires after 10), one review in
# ``reviewed_every`` completed readings with these ratings (in turn).
AT_START: list[dict[str, Any]] = [
    {
        "reader": "reader1",
        "type": "phone_call",
        "durations": [15, 30, 15],
        "count": 14,
        "days": 21,
        "cancelled": (3, 6, 9, 12),
        "clients": [0, 1, 0, 2, 3],
        "answers": [2, 4, 1, 3, 6, 2, 5],
        "reviewed_every": 3,
        "ratings": [5, 4, 5],
    },
]
IN_BACKGROUND: list[dict[str, Any]] = [
    {
        "reader": "reader3",
        "type": "phone_call",
        "durations": [30, 15, 60, 30],
        "count": 49,
        "days": 42,
        "cancelled": (),
        "clients": [1, 2, 4, 1, 5, 3, 0, 2, 5],
        "answers": [3, 1, 5, 2, 8, 4, 2],
        "reviewed_every": 5,
        "ratings": [5, 5, 4, 5, 5],
    },
]
HISTORY = [*AT_START, *IN_BACKGROUND]
_COMMENTS = {
    5: ["Spot on, and kind about it.", "Exactly the clarity I needed.", "I keep coming back for a reason."],
    4: ["Helpful, a little rushed at the end.", "Good reading, gave me a lot to think about."],
}
_QUESTIONS = [
    "Should I take the promotion or wait for something better?",
    "Is this relationship worth fighting for?",
    "What is blocking me from moving forward?",
]
_TOPICS = ["General Reading", "Career & Work", "Love & Relationships", "Life Path"]
_CANCEL_REASON = "Something came up on my side and I cannot give this reading today. I am sorry."
_GAP = timedelta(minutes=90)  # between two readings of the same reader


def _reader(handle: str) -> dict[str, Any]:
    return next(reader for reader in READERS if reader["handle"] == handle)


def _option(reader: dict[str, Any], reading_type: str, duration: int) -> dict[str, Any]:
    return next(
        o for o in reading_options(reader) if o["type"] == reading_type and o["duration"] == duration and o["isActive"]
    )


def request_times(reader: dict[str, Any], count: int, days: int, now: datetime) -> list[datetime]:
    """``count`` moments spread over the reader's weekly hours of the last ``days`` local days
    (not the last two: the demo's own readings are there), oldest first, ``_GAP`` apart."""
    zone = ZoneInfo(reader["timezone"])
    week = SCHEDULES[reader["schedule"]]
    today = now.astimezone(zone).date()
    slots: list[datetime] = []
    for back in range(days, 1, -1):
        day = today - timedelta(days=back)
        for window in week.get([*WEEKDAYS, "sat", "sun"][day.weekday()], []):
            start = datetime.combine(day, clock.fromisoformat(window["start"]), zone) + timedelta(minutes=20)
            end = datetime.combine(day, clock.fromisoformat(window["end"]), zone)
            while start + timedelta(minutes=70) <= end:
                slots.append(start.astimezone(UTC))
                start += _GAP
    if len(slots) < count:
        raise ValueError(f"{reader['handle']} has {len(slots)} free slots in {days} days, not {count}")
    return [slots[index * len(slots) // count] for index in range(count)]


def plan(spec: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The readings of one line of the history, oldest first."""
    reader = _reader(spec["reader"])
    planned = []
    completed = 0
    for index, booked in enumerate(request_times(reader, spec["count"], spec["days"], now)):
        duration = spec["durations"][index % len(spec["durations"])]
        cancelled = index in spec["cancelled"]
        rating = None
        if not cancelled:
            completed += 1
            if completed % spec["reviewed_every"] == 0:
                rating = spec["ratings"][(completed // spec["reviewed_every"] - 1) % len(spec["ratings"])]
        topic = _TOPICS[index % len(_TOPICS)]
        planned.append(
            {
                "key": f"demo-history-{reader['handle']}-{index:02d}",
                "reader": reader,
                "client": user_id(REGULARS[spec["clients"][index % len(spec["clients"])]][0]),
                "option": _option(reader, spec["type"], duration),
                "duration": duration,
                "booked": booked,
                "answer": timedelta(minutes=spec["answers"][index % len(spec["answers"])]),
                "cancelled": cancelled,
                "rating": rating,
                "topic": topic,
                "question": None if topic == "General Reading" else _QUESTIONS[index % len(_QUESTIONS)],
            }
        )
    return planned


def _credits(planned: list[dict[str, Any]]) -> dict[str, int]:
    """What each regular's readings cost (the booking service's quote, once per option)."""
    from chalicelib.services import readings

    quotes: dict[tuple[str, int], int] = {}
    owed: dict[str, int] = {}
    for reading in planned:
        option, duration = reading["option"], reading["duration"]
        if (option["id"], duration) not in quotes:
            quotes[(option["id"], duration)] = readings.prepare(
                user_id(reading["reader"]["handle"]), option["type"], option["id"], duration, None
            ).price.total
        owed[reading["client"]] = owed.get(reading["client"], 0) + quotes[(option["id"], duration)]
    return owed


def seed_history(now: datetime, specs: list[dict[str, Any]], *, stop: threading.Event | None = None) -> int:
    """The regulars and the readings of ``specs`` (what is missing of them), until ``stop`` is
    set; returns how many readings were created."""
    from chalicelib.models.users import User
    from chalicelib.services import readings
    from chalicelib.services.catalog_defaults import slug

    plans = {spec["reader"]: plan(spec, now) for spec in specs}
    planned = [reading for readings_of in plans.values() for reading in readings_of]
    for handle, name in REGULARS:
        if any(reading["client"] == user_id(handle) for reading in planned):
            provision(handle, name, "client", now - timedelta(days=60))
    for reader, readings_of in plans.items():
        for client_id, credits in _credits(readings_of).items():
            first = min(reading["booked"] for reading in readings_of if reading["client"] == client_id)
            promotion(
                client_id,
                credits,
                entry_id=f"demo-history-credits:{client_id}:{reader}",
                memo="Credits for the demo history's readings",
                moment=first - timedelta(hours=1),  # the ledger dated before the readings it pays for
            )
    clients = {client_id: User.get(client_id) for client_id in {reading["client"] for reading in planned}}
    created = 0
    for reading in planned:
        if stop is not None and stop.is_set():
            break
        reader_id, client_id = user_id(reading["reader"]["handle"]), reading["client"]
        booked, option = reading["booked"], reading["option"]
        found, new = at(
            booked,
            readings.request,
            clients[client_id],
            reader_id=reader_id,
            option_type=option["type"],
            option_id=option["id"],
            duration=reading["duration"],
            scheduled_at=None,
            topic_id=slug(reading["topic"]),
            question=reading["question"],
            idempotency_key=reading["key"],
        )
        if not new:
            continue
        created += 1
        rid = found.reading_id
        answered = booked + reading["answer"]
        at(answered, readings.accept, rid, reader_id, "reader")
        if reading["cancelled"]:
            at(answered + timedelta(minutes=25), readings.cancel, rid, reader_id, "reader", reason=_CANCEL_REASON)
            continue
        begins = answered + timedelta(minutes=2)
        at(begins, readings.start, rid, reader_id, "reader")
        ended = begins + timedelta(minutes=reading["duration"])
        at(ended, readings.complete, rid, reader_id, "reader")
        if reading["rating"] is not None:
            comments = _COMMENTS[reading["rating"]]
            at(
                ended + timedelta(minutes=40),
                readings.review,
                rid,
                client_id,
                "client",
                rating=reading["rating"],
                comment=comments[created % len(comments)],
            )
    return created


def count_reader_metrics(reader_ids: Collection[str] | None = None) -> int:
    """Count the outbox's reading events (of ``reader_ids``; default: every reader) for the
    reader metrics now, oldest first, whether the workers relayed them yet or not (each event
    counts once, whoever counts it first); returns how many this call counted. One Scan of
    the outbox: a local stack's, a few hundred events."""
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox
    from chalicelib.services.metrics import reader

    found = [
        message
        for message in map(outbox.message_for, OutboxEvent.scan(OutboxEvent.event_type.is_in(*reader.CONSUMED)))
        if reader_ids is None or message["data"].get("readerId") in reader_ids
    ]
    found.sort(key=lambda message: (message["occurredAt"], message["eventId"]))
    return reader.consume_many(found)


class DemoHistory(threading.Thread):
    """``make run``'s background part of the history (``IN_BACKGROUND``): seeded once the stack
    is ready, its events counted, then ``then`` (the runner fires the reader_insights job, which
    awards what it earned) and one log line. Stops between two readings when ``stop`` is set."""

    kind = "history"

    def __init__(self, stop: threading.Event, *, then: Callable[[], Any], log: Callable[[str], None]):
        super().__init__(name="history:demo", daemon=True)
        self.job = "demo-history"
        self.stop_event = stop
        self.then = then
        self.log = log

    def run(self) -> None:
        from chalicelib.models.base import utcnow

        started = time.monotonic()
        try:
            created = seed_history(utcnow(), IN_BACKGROUND, stop=self.stop_event)
            if self.stop_event.is_set():
                return
            counted = count_reader_metrics({user_id(spec["reader"]) for spec in IN_BACKGROUND})
            figures = self.then()
        except Exception as exc:  # noqa: BLE001 - the demo goes on without it; the line says why
            self.log(f"[history] the demo history failed: {one_line(exc)}")
            return
        self.log(
            f"[history] demo history ready in {time.monotonic() - started:.1f} s: {created} readings, "
            f"{counted} events counted; reader_insights: {figures}"
        )
