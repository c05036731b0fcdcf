"""Counters in the ``metrics`` table (models/metrics.py), through the low-level client.

A bucket is one item (pk, sk) whose counters are top-level number attributes with any
name (``completed``, ``completed:tarot``): ``ADD`` creates them at their first use, so an
event costs one UpdateItem per bucket it touches, never a read. ``apply`` does an event's
whole change once: the buckets' ADDs and a ``ProcessedWebhook``-style marker for the event
id commit in one TransactWriteItems, so a redelivered event changes nothing.

Names are free-form but fixed per use: the services that write a kind of bucket document
theirs (services/metrics/reader.py for readers, platform.py for the platform).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.config import get_settings
from chalicelib.integrations import aws
from chalicelib.models.base import iso, utcnow
from chalicelib.services.tx import Contention, backoff

MARKER_SOURCE = "metrics"
_NAME = re.compile(r"^[A-Za-z0-9_:.#-]{1,200}$")
MAX_ITEMS = 100  # TransactWriteItems' limit (the marker included)
MARKER_TTL_S = 30 * 24 * 3600
MAX_CONFLICTS = 5  # attempts when a concurrent transaction touches the same bucket


@dataclass
class Change:
    """ADDs to one bucket; ``sets`` are plain attributes written with SET (e.g. attention)."""

    pk: str
    sk: str
    counts: dict[str, int | float] = field(default_factory=dict)
    sets: dict[str, str | int] = field(default_factory=dict)
    expires_at: int | None = None  # epoch seconds: DynamoDB deletes the bucket after it


@dataclass
class Once:
    """A marker item put only if it is absent, and the ADDs that count that first time (a
    user's first activity of the day): they apply in the event's transaction when the put
    succeeds and are left out when the marker already exists (see ``apply``)."""

    pk: str
    sk: str
    counts: list[Change]
    expires_at: int | None = None


def _table() -> str:
    return get_settings().table_name("metrics")


def _value(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"S": value}
    return {"N": str(value)}


def _update(change: Change) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds, sets = [], []
    for n, (name, amount) in enumerate(sorted(change.counts.items())):
        if not _NAME.match(name):
            raise ValueError(f"bad counter name {name!r}")
        names[f"#a{n}"], values[f":a{n}"] = name, _value(amount)
        adds.append(f"#a{n} :a{n}")
    for n, (name, value) in enumerate(sorted(change.sets.items())):
        names[f"#s{n}"], values[f":s{n}"] = name, _value(value)
        sets.append(f"#s{n} = :s{n}")
    if change.expires_at is not None:
        names["#ttl"], values[":ttl"] = "expiresAt", _value(change.expires_at)
        sets.append("#ttl = :ttl")
    expression = " ".join(part for part in (("ADD " + ", ".join(adds)) if adds else "",
                                            ("SET " + ", ".join(sets)) if sets else "") if part)
    update: dict[str, Any] = {"TableName": _table(), "Key": {"pk": {"S": change.pk}, "sk": {"S": change.sk}},
                              "UpdateExpression": expression, "ExpressionAttributeNames": names}
    if values:
        update["ExpressionAttributeValues"] = values
    return update


def apply(event_key: str, changes: Iterable[Change], *, once: Sequence[Once] = ()) -> bool:
    """Apply ``changes`` once for ``event_key`` (``<consumer>#<event id>``). False when it
    was applied before (the marker exists). Raises on any other failure (the queue retries).

    ``once``: markers put with ``attribute_not_exists`` in the same transaction, each with its
    counts merged into the buckets. One BatchGetItem first leaves out the markers that exist
    (the usual case: the user was already active today), so the event costs one transaction;
    a marker that appears meanwhile cancels it, and it is retried without that marker (its
    count was made by the event that put it). A count is thus made exactly when its marker
    is created, in the transaction that creates it."""
    changes = list(changes)
    pending = _absent(list(once))
    conflicts = 0
    while True:
        items = _items(event_key, changes, pending)
        client = aws.client("dynamodb")
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            failed = [n for n, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
            if not failed and any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                # A concurrent write to the same bucket (a popular reader's total, a platform
                # shard): the same change again, after a jittered pause, a few times.
                conflicts += 1
                if conflicts >= MAX_CONFLICTS:
                    raise Contention("The figures are busy right now; try again in a moment.") from exc
                backoff(conflicts)
                continue
            if not failed:
                raise
            if 0 in failed:
                return False
            # Items 1..len(pending) are the markers, in order (the updates cannot fail a condition).
            kept = [mark for n, mark in enumerate(pending, start=1) if n not in failed]
            if len(kept) == len(pending):
                raise  # a condition failed on no marker: not a case this loop knows
            pending = kept
            continue
        return True


def _absent(once: list[Once]) -> list[Once]:
    """The markers of ``once`` that do not exist yet (one BatchGetItem of their keys)."""
    if not once:
        return []
    keys = {(mark.pk, mark.sk) for mark in once}
    request = {_table(): {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in sorted(keys)],
                          "ProjectionExpression": "pk, sk"}}
    found: set[tuple[str, str]] = set()
    client = aws.client("dynamodb")
    while request:
        page = client.batch_get_item(RequestItems=request)
        found |= {(i["pk"]["S"], i["sk"]["S"]) for i in page.get("Responses", {}).get(_table(), [])}
        request = page.get("UnprocessedKeys") or {}
    return [mark for mark in once if (mark.pk, mark.sk) not in found]


def apply_many(events: Sequence[tuple[str, Sequence[Change]]]) -> int:
    """``apply`` for many events, in order (a backfill: the demo seed counts its backdated
    history, tools/seed_history.py): the events go a few dozen per transaction, each with
    their markers and their buckets' merged ADDs (at most ``MAX_ITEMS`` items), instead of
    one transaction each. A transaction refused (one of its events was applied before, a
    concurrent write) is redone event by event with ``apply``, so each event still counts
    once. Returns how many events were applied."""
    applied = 0
    chunk: list[tuple[str, list[Change]]] = []
    buckets: set[tuple[str, str]] = set()
    for event_key, changes in events:
        touched = {(c.pk, c.sk) for c in changes}
        if chunk and len(chunk) + 1 + len(buckets | touched) > MAX_ITEMS:
            applied += _apply_chunk(chunk)
            chunk, buckets = [], set()
        chunk.append((event_key, list(changes)))
        buckets |= touched
    if chunk:
        applied += _apply_chunk(chunk)
    return applied


def _apply_chunk(chunk: list[tuple[str, list[Change]]]) -> int:
    if len(chunk) == 1:
        return int(apply(*chunk[0]))
    moment = utcnow()
    wanted = _merged([change for _key, changes in chunk for change in changes])
    items = [*(_marker(event_key, moment) for event_key, _changes in chunk), *({"Update": _update(c)} for c in wanted)]
    client = aws.client("dynamodb")
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException:
        return sum(apply(event_key, changes) for event_key, changes in chunk)
    return len(chunk)


def _merged(changes: Iterable[Change]) -> list[Change]:
    """One change per bucket (a transaction may touch an item once): counts added, sets and
    the latest expiry kept; buckets left with nothing to write are dropped."""
    merged: dict[tuple[str, str], Change] = {}
    for change in changes:
        into = merged.setdefault((change.pk, change.sk), Change(change.pk, change.sk))
        for name, amount in change.counts.items():
            into.counts[name] = into.counts.get(name, 0) + amount
        into.sets.update(change.sets)
        if change.expires_at is not None:
            into.expires_at = max(into.expires_at or 0, change.expires_at)
    return [c for c in merged.values() if c.counts or c.sets]


def _marker(event_key: str, moment: datetime) -> dict[str, Any]:
    return {"Put": {"TableName": get_settings().table_name("webhook-events"),
                    "Item": {"eventKey": {"S": f"{MARKER_SOURCE}#{event_key}"}, "source": {"S": MARKER_SOURCE},
                             "type": {"S": event_key.split("#", 1)[0]}, "receivedAt": {"S": iso(moment)},
                             # Redeliveries come within days (the queues keep a message 4 days, a
                             # dead letter 14): the marker outlives them, then DynamoDB drops it.
                             "expiresAt": {"N": str(int(moment.timestamp()) + MARKER_TTL_S)}},
                    "ConditionExpression": "attribute_not_exists(eventKey)"}}


def _items(event_key: str, changes: list[Change], once: list[Once]) -> list[dict[str, Any]]:
    """The event marker, the ``once`` markers, then one update per bucket (a transaction
    may touch an item once, so counts for the same bucket are merged)."""
    wanted = _merged([*changes, *(c for mark in once for c in mark.counts)])
    if len(wanted) + len(once) + 1 > MAX_ITEMS:
        raise ValueError(f"{len(wanted) + len(once)} items in one event: at most {MAX_ITEMS - 1}")
    marks = [{"Put": {"TableName": _table(), "ConditionExpression": "attribute_not_exists(pk)",
                      "Item": {"pk": {"S": mark.pk}, "sk": {"S": mark.sk},
                               **({"expiresAt": _value(mark.expires_at)} if mark.expires_at is not None else {})}}}
             for mark in once]
    return [_marker(event_key, utcnow()), *marks, *({"Update": _update(c)} for c in wanted)]


def _number(value: dict[str, Any]) -> int | float:
    number = Decimal(value["N"])
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.items():
        if "N" in value:
            out[name] = _number(value)
        elif "S" in value:
            out[name] = value["S"]
    return out


def get(pk: str, sk: str) -> dict[str, Any]:
    """One bucket's attributes ({} when it does not exist): one GetItem."""
    found = aws.client("dynamodb").get_item(TableName=_table(), Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return _plain(found.get("Item") or {})


def between(pk: str, first: str, last: str) -> list[dict[str, Any]]:
    """The buckets of ``pk`` with ``first <= sk <= last``, in order (one Query per 1 MB)."""
    client = aws.client("dynamodb")
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": _table(), "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":a": {"S": first}, ":b": {"S": last}}}
    while True:
        page = client.query(**request)
        found += [_plain(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
