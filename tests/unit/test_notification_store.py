"""The in-app store (services/notifications/store.py) against moto: idempotent, batched
deliveries, an unread counter that is exact and never negative, read-all by watermark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.notifications import Delivery, NotificationType
from tests.support.calls import dynamodb_calls

AT = "2026-11-28T17:30:00.000Z"


def _delivery(user_id: str, type_: str = NotificationType.READING_REQUEST,
              title: str = "New reading request") -> Delivery:
    return Delivery(user_id=user_id, type=type_, title=title, message="Clara asked for a 30-minute phone reading.",
                    related_id="reading-1", action_url="/readings/reading-1")


def _at(minutes: int) -> str:
    return (datetime(2026, 11, 28, 17, 30, tzinfo=UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _unread(user_id: str) -> int:
    from chalicelib.services.notifications import store

    return store.list_page(user_id, limit=1, cursor=None).unread_count


def _rows(user_id: str, *, unread: bool = False) -> list[Any]:
    from chalicelib.services.notifications import store

    items, cursor = [], None
    while True:
        found = store.list_page(user_id, unread=unread, limit=100, cursor=cursor)
        items += found.items
        cursor = found.page.next_cursor
        if cursor is None:
            return items


@contextmanager
def transactions() -> Iterator[list[str]]:
    """The operations of the transaction connection (models.base.connection, which
    tests/support/calls.py does not watch), in order."""
    from chalicelib.models.base import connection

    seen: list[str] = []

    def record(model: Any = None, **_: Any) -> None:
        seen.append(model.name)

    client = connection().client
    client.meta.events.register("before-call", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-call", record)


@pytest.fixture()
def store(aws: None) -> Any:
    from chalicelib.services.notifications import store as module

    return module


def test_the_same_event_delivered_three_times_is_one_row_counted_once(store):
    results = [store.deliver("evt-1", AT, [_delivery("alice")]) for _ in range(3)]

    assert [len(new) for new in results] == [1, 0, 0]
    assert len(_rows("alice")) == 1 and _unread("alice") == 1


def test_a_partly_delivered_batch_writes_and_counts_only_the_rows_it_lacks(store):
    store.deliver("evt-1", AT, [_delivery("alice")])

    new = store.deliver("evt-1", AT, [_delivery("alice"), _delivery("bob"),
                                      _delivery("alice", NotificationType.SYSTEM_ALERT, "Maintenance tonight")])

    assert [(d.user_id, d.type) for d in new] == [("bob", "reading_request"), ("alice", "system_alert")]
    assert (_unread("alice"), _unread("bob")) == (2, 1)


def test_250_deliveries_take_at_most_10_transactions(store):
    deliveries = [_delivery(f"reader-{n:03d}") for n in range(250)]

    with dynamodb_calls() as calls, transactions() as transacts:
        new = store.deliver("evt-big", AT, deliveries)

    assert len(new) == 250
    assert calls == [] and transacts == ["TransactWriteItems"] * 5  # 250 rows + 250 counters, 100 per call
    assert _unread("reader-000") == 1 and _unread("reader-249") == 1


def test_unread_filter_read_one_and_read_all_then_new_ones_count_from_zero(store):
    for minute in range(3):
        store.deliver(f"evt-{minute}", _at(minute), [_delivery("alice")])
    newest_first = _rows("alice")
    assert [row.created_date for row in newest_first] == [_at(2), _at(1), _at(0)]

    row, count = store.mark_read("alice", newest_first[1].id)
    assert row.is_read and row.read_at and count == 2
    assert [r.id for r in _rows("alice", unread=True)] == [newest_first[0].id, newest_first[2].id]

    store.read_all("alice")
    assert _unread("alice") == 0 and _rows("alice", unread=True) == []
    assert all(r.is_read and r.read_at for r in _rows("alice"))
    # Marking one read after read-all changes nothing (the count never goes below 0).
    assert store.mark_read("alice", newest_first[0].id)[1] == 0

    store.deliver("evt-later", _at(10), [_delivery("alice")])
    assert _unread("alice") == 1
    assert [r.created_date for r in _rows("alice", unread=True)] == [_at(10)]


def test_an_event_arriving_late_below_the_read_all_watermark_is_written_read_and_not_counted(store):
    store.deliver("evt-new", _at(5), [_delivery("alice")])
    store.read_all("alice")

    new = store.deliver("evt-old", _at(1), [_delivery("alice")])

    assert len(new) == 1  # still new: push and email go out
    assert _unread("alice") == 0 and len(_rows("alice")) == 2 and _rows("alice", unread=True) == []


def test_one_user_never_reads_or_marks_anothers(store):
    from chalicelib.errors import NotFound

    store.deliver("evt-1", AT, [_delivery("alice")])
    alices = _rows("alice")[0]

    with pytest.raises(NotFound):
        store.mark_read("bob", alices.id)
    for bogus in ("", "not-an-id", "fmNvdW50ZXI", alices.id + "x"):
        with pytest.raises(NotFound):
            store.mark_read("alice", bogus)

    assert _rows("bob") == [] and _unread("bob") == 0
    assert _rows("alice")[0].is_read is False and _unread("alice") == 1


def test_marking_read_twice_decrements_once(store):
    store.deliver("evt-1", AT, [_delivery("alice"), _delivery("alice", NotificationType.SYSTEM_ALERT)])
    first = _rows("alice")[0]

    counts = [store.mark_read("alice", first.id)[1] for _ in range(2)]

    assert counts == [1, 1] and _unread("alice") == 1


def test_rows_expire_by_ttl_after_the_configured_days(store):
    from chalicelib.models.notifications import Notification

    store.deliver("evt-1", AT, [_delivery("alice")])

    row = next(item for item in Notification.query("alice") if not item.is_counter)
    expected = datetime(2026, 11, 28, 17, 30, tzinfo=UTC) + timedelta(days=90)
    assert row.expires_at == int(expected.timestamp())


def test_the_first_page_is_one_query_including_the_count(store):
    for minute in range(5):
        store.deliver(f"evt-{minute}", _at(minute), [_delivery("alice")])

    with dynamodb_calls() as calls:
        page = store.list_page("alice", limit=2, cursor=None)

    assert calls == ["Query"]
    assert page.unread_count == 5 and len(page.items) == 2 and page.page.next_cursor
    second = store.list_page("alice", limit=2, cursor=page.page.next_cursor)
    third = store.list_page("alice", limit=2, cursor=second.page.next_cursor)
    assert [r.created_date for r in page.items + second.items + third.items] == [_at(m) for m in (4, 3, 2, 1, 0)]
    assert third.page.next_cursor is None and second.unread_count == 5
