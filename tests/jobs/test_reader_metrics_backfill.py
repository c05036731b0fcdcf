"""Counting many events at once (``reader.consume_many``, the demo seed's backfill) gives the
counters one ``consume`` per event gives, each event once: in a few transactions, and event by
event when some of a transaction's events were counted before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 3, 27, 20, 0, tzinfo=UTC)  # crosses Europe's spring DST change (29 March)


def _profile(reader_id: str) -> None:
    from chalicelib.models.readers import ReaderProfile

    now = "2026-01-01T00:00:00.000Z"
    ReaderProfile(
        reader_id=reader_id,
        status="approved",
        display_name=reader_id,
        availability={"timezone": "Europe/Lisbon"},
        attributes={"tools": ["tarot"], "abilities": ["empath"], "style": "compassionate"},
        created_at=now,
        updated_at=now,
    ).save()


def _reading(reading_id: str, created: datetime) -> None:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.models.base import iso

    aws.client("dynamodb").put_item(
        TableName=get_settings().table_name("readings"),
        Item={
            "readingId": {"S": reading_id},
            "createdAt": {"S": iso(created)},
            "creditsCost": {"N": "50"},
            "paidOut": {"N": "40"},
            "fee": {"N": "10"},
        },
    )


def _history(reader_id: str) -> list[dict[str, Any]]:
    """Sixty readings over five days with three clients: requests, answers (some declined), a
    reader's cancellation, completions, reviews, a dispute refunded after payout."""
    from chalicelib.models.base import iso

    messages: list[dict[str, Any]] = []

    def event(kind: str, at: datetime, rid: str, **data: Any) -> None:
        messages.append(
            {
                "eventId": f"{reader_id}-{len(messages)}",
                "type": kind,
                "occurredAt": iso(at),
                "data": {"readingId": rid, "readerId": reader_id, **data},
            }
        )

    for n in range(60):
        rid, client, at = f"{reader_id}-r{n}", f"cli{n % 3}", T0 + timedelta(hours=2 * n)
        _reading(rid, at)
        event("reading.requested", at, rid, clientId=client)
        if n % 7 == 3:
            event("reading.declined", at + timedelta(minutes=4), rid, clientId=client, by="reader")
            continue
        event("reading.accepted", at + timedelta(minutes=n % 9 + 1), rid, clientId=client, by="reader")
        if n % 11 == 5:
            event("reading.cancelled", at + timedelta(minutes=30), rid, clientId=client, by="reader")
            continue
        event("reading.completed", at + timedelta(minutes=40), rid, clientId=client, paid=40, fee=10)
        if n % 4 == 0:
            event("review.created", at + timedelta(hours=1), rid, clientId=client, rating=4 + n % 2)
        if n == 13:
            event("dispute.filed", at + timedelta(hours=2), rid, clientId=client)
            event("dispute.resolved", at + timedelta(hours=3), rid, clientId=client, refunded=30)
    return messages


def _counters(reader_id: str) -> dict[str, dict[str, Any]]:
    """Every item under the reader in the metrics table, without the insights mark."""
    from chalicelib.services.metrics import store

    items = store.between(f"reader#{reader_id}", "\u0000", "\uffff")
    return {
        item["sk"].replace(reader_id, "<reader>"): {
            k: v for k, v in item.items() if k not in ("pk", "sk", "attention", "attentionAt")
        }
        for item in items
    }


def _renamed(counters: dict[str, dict[str, Any]], old: str, new: str) -> dict[str, dict[str, Any]]:
    return {
        sk: {k: v.replace(old, new) if isinstance(v, str) else v for k, v in item.items()}
        for sk, item in counters.items()
    }


def test_a_backfill_counts_what_one_consume_per_event_counts_each_event_once(aws):
    from chalicelib.services.metrics import reader

    _profile("one")
    _profile("many")
    for message in _history("one"):
        reader.consume(message)
    history = _history("many")

    assert reader.consume_many(history[:40]) == 40  # every one of these events counts something
    # A batch overlapping what was counted: those count nothing, the others once.
    assert reader.consume_many(history) == len(history) - 40
    assert reader.consume_many(history) == 0

    assert _renamed(_counters("many"), "many", "one") == _counters("one")
    total = _counters("one")["total"]
    assert (total["requests"], total["clients"], total["repeatClients"]) == (60, 3, 3)
    assert total["responses"] == total["accepted"] + total["declined"] and total["disputes"] == 1
