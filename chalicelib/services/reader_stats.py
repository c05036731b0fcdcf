"""A reader's counters, kept by consumers of the readings' events (never by rewriting the
profile on every completion):

* ``acceptedCount``: readings the reader accepted (``reading.accepted``);
* ``completedCount`` and ``totalReadings``: readings that reached ``completed`` with the
  reader paid (every step of the transition table that pays the reader: a live reading
  completed, a video message delivered, the client's no-show reported by the reader).

Each event applies once: the counter ADD and a ``ProcessedWebhook`` marker for the event id
commit in one transaction, so a redelivered (or concurrently delivered) event changes
nothing. The ADD goes through ``ReaderCounters``, which has no version: a counter never
makes a concurrent profile edit or review retry or conflict.

The card's ``completionRate`` is ``domain.readers.completion_rate`` of the two counts.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderCounters
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import events
from chalicelib.services.readings.table import TRANSITIONS
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SOURCE = "reader_stats"
ACCEPTED_EVENT = TRANSITIONS["accept"].steps[0].event
# The events of every step that completes a reading and pays the reader; a no-show shares
# its event with the refunding step, so the event's ``paid`` tells them apart.
COMPLETING_EVENTS = tuple(sorted({step.event for action in TRANSITIONS.values() for step in action.steps
                                  if step.target == "completed" and step.money == "pay_reader"}))


def count(event_id: str, reader_id: str, *, accepted: int = 0, completed: int = 0) -> bool:
    """Add to the reader's counters once per ``event_id``; False when already counted (or
    the profile is gone, which is recorded too: a redelivery need not look again)."""
    marker = ProcessedWebhook(event_key=f"{SOURCE}#{event_id}", source=SOURCE,
                              event_type="completed" if completed else "accepted", received_at=iso(utcnow()))
    actions: list[Any] = []
    if accepted:
        actions.append(ReaderCounters.accepted_count.add(accepted))
    if completed:
        actions += [ReaderCounters.completed_count.add(completed), ReaderCounters.total_readings.add(completed)]

    def work(tx: Transaction) -> None:
        tx.save(marker, condition=ProcessedWebhook.event_key.does_not_exist(), label="marker")
        tx.update(ReaderCounters(reader_id=reader_id), actions=actions,
                  condition=ReaderCounters.reader_id.exists(), label="profile")

    try:
        atomically(work)
    except ConditionsFailed as failed:
        if "marker" in failed:
            return False
        logger.warning("reader counters: no profile", extra={"eventId": event_id, "readerId": reader_id})
        with contextlib.suppress(ConditionsFailed):
            atomically(lambda tx: tx.save(marker, condition=ProcessedWebhook.event_key.does_not_exist(),
                                          label="marker"))
        return False
    return True


@events.consumer(ACCEPTED_EVENT)
def _on_accepted(message: dict[str, Any]) -> None:
    count(message["eventId"], message["data"]["readerId"], accepted=1)


def _on_completed(message: dict[str, Any]) -> None:
    if "paid" in message["data"]:  # the reader was paid: the reading is completed
        count(message["eventId"], message["data"]["readerId"], completed=1)


for _event in COMPLETING_EVENTS:
    events.consumer(_event)(_on_completed)
