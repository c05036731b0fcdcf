"""The metrics buckets: an event's counters apply once, whatever the redeliveries."""

from __future__ import annotations


def test_an_event_adds_to_its_buckets_once_and_reads_back_as_numbers(aws):
    from chalicelib.services.metrics import store

    changes = [store.Change("reader#r1", "day#2026-12-01", {"completed": 1, "completed:tarot": 1, "earned": 48}),
               store.Change("reader#r1", "total", {"completed": 1, "earned": 48}, sets={"attention": "insights"})]
    assert store.apply("reading.completed#e1", changes) is True
    assert store.apply("reading.completed#e1", changes) is False  # redelivered: nothing more
    assert store.apply("reading.completed#e2", [store.Change("reader#r1", "day#2026-12-02", {"completed": 1})])

    assert store.get("reader#r1", "total") == {"pk": "reader#r1", "sk": "total", "completed": 1, "earned": 48,
                                               "attention": "insights"}
    days = store.between("reader#r1", "day#2026-12-01", "day#2026-12-31")
    assert [(d["sk"], d["completed"]) for d in days] == [("day#2026-12-01", 1), ("day#2026-12-02", 1)]
    assert days[0]["completed:tarot"] == 1
    assert store.get("reader#r1", "day#2027-01-01") == {}
