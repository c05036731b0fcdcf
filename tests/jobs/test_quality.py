"""The quality evaluation of the reader_insights job: rates over the last 30 days (not judged
under the minimum sample), a status, warnings that open, acknowledge and resolve once each,
the admins' list moved with the status, and the daily recheck for changes time alone makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.readings import make_reader, outbox_events

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("default_catalog")


def _reader(reader_id: str = "rdr", *, complete: bool = True, seen: datetime | None = NOW) -> None:
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile

    make_reader(reader_id)
    actions = [ReaderProfile.last_seen_at.set(iso(seen)) if seen else ReaderProfile.last_seen_at.remove()]
    if complete:
        actions += [ReaderProfile.profile_image.set(f"media/{reader_id}/face.webp"),
                    ReaderProfile.tagline.set("Clear answers, kindly given"), ReaderProfile.bio.set("Twenty years."),
                    ReaderProfile.attributes.set({"tools": ["tarot"], "abilities": ["empath"],
                                                  "style": "compassionate"})]
    ReaderProfile(reader_id=reader_id, version=0).update(actions=actions, add_version_condition=False)


def _count(event_id: str, reader_id: str = "rdr", at: datetime = NOW, **counts: int) -> None:
    """Counters as the reader-metrics consumers write them (and the insights mark)."""
    from chalicelib.services.metrics import reader

    assert reader.record(event_id, reader_id, counts, at, timezone="Europe/Lisbon", now=at)


def _run(times: int = 1, now: datetime = NOW) -> list[int]:
    """The job's runs on the same tick: the quality changes of each."""
    from chalicelib.services.metrics import insights

    return [insights.run(now=now)["quality"] for _ in range(times)]


def _warnings(reader_id: str = "rdr") -> dict[str, tuple[str | None, float | None]]:
    from chalicelib.services.metrics import quality

    return {kind: (w.state, w.value) for kind, w in quality.warnings_of(reader_id).items()}


def _status(reader_id: str = "rdr") -> str | None:
    from chalicelib.services.metrics import quality

    return quality.Snapshot.get(f"reader#{reader_id}", "quality").status


def _listed(status: str) -> list[str]:
    from chalicelib.services.metrics import quality_views

    return [r.reader_id for r in quality_views.listed(status, limit=50, cursor=None).items]


def test_a_cancellation_warning_opens_once_tells_the_reader_and_resolves_once_back_under_the_threshold(aws, drain):
    from chalicelib.services.metrics import quality_views

    _reader()
    _count("e1", accepted=20, completed=17, cancelledByReader=3, responses=20, responseSeconds=20 * 300)
    assert _run(3) == [2, 0, 0]  # the warning opened and the status was recorded; then nothing
    assert _warnings() == {"cancellation_rate": ("open", 0.15)}
    assert _status() == "needs_improvement" and _listed("needs_improvement") == ["rdr"]
    [opened] = outbox_events("quality.warning_opened")
    assert opened["kind"] == "cancellation_rate" and (opened["value"], opened["threshold"]) == (0.15, 0.1)
    assert opened["message"].startswith("You cancelled 15% of the readings you accepted over the last 30 days, "
                                        "more than 10%. Keep your availability up to date")
    notes = [m for m in drain() if m["type"] == "quality.warning_opened"]
    assert len(notes) == 1

    _count("e2", views=3)  # activity that moves no rate: evaluated again, nothing changes
    assert _run(3) == [0, 0, 0] and len(outbox_events("quality.warning_opened")) == 1

    warning_id = opened["warningId"]
    first = quality_views.acknowledge("rdr", warning_id, now=NOW)
    again = quality_views.acknowledge("rdr", warning_id, now=NOW + timedelta(hours=1))
    assert first["state"] == again["state"] == "acknowledged"
    assert again["acknowledgedAt"] == first["acknowledgedAt"] == "2026-06-15T12:00:00.000Z"

    _count("e3", accepted=10, completed=10)  # 3 / 30 = 10%: at the threshold, no longer above
    assert _run(3) == [2, 0, 0]  # resolved, and the status is excellent again (27 completed)
    assert _warnings() == {"cancellation_rate": ("resolved", 0.15)}
    assert _status() == "excellent" and _listed("needs_improvement") == []
    assert [e["warningId"] for e in outbox_events("quality.warning_resolved")] == [warning_id]

    _count("e4", accepted=1, cancelledByReader=2)  # 5 / 31 again above: a new episode, a new id
    assert _run() == [2]
    [_, reopened] = outbox_events("quality.warning_opened")
    assert reopened["warningId"] != warning_id
    from chalicelib.services.metrics import quality

    item = quality.Warning.get("reader#rdr", "warning#cancellation_rate")
    assert [past["id"] for past in item.history] == [warning_id]


def test_a_rate_under_the_minimum_sample_is_not_judged(aws):
    from chalicelib.services.metrics import quality

    _reader()
    _count("e1", accepted=9, cancelledByReader=5, noShows=4, completed=9, disputes=3, responses=9,
           responseSeconds=9 * 24 * 3600, scheduledStarts=9, lateStarts=9)
    assert _run() == [1] and _warnings() == {}
    found = quality.current("rdr", now=NOW)
    assert found is not None
    metrics = found.measured.metrics
    assert [metrics[name]["value"] for name in ("responseTime", "cancellationRate", "disputeRate", "noShowRate",
                                                "lateStartRate")] == [None, None, None, None, None]
    assert metrics["cancellationRate"]["sample"] == 9 and metrics["lateStartRate"]["sample"] == 9


def test_each_rate_is_its_counters_over_the_last_30_local_days(aws):
    from chalicelib.services.metrics import quality

    _reader()
    _count("old", at=NOW - timedelta(days=30), accepted=50, noShows=50)  # 16 May: outside 17 May..15 Jun
    _count("e1", accepted=20, completed=10, disputes=1, noShows=2, responses=12, responseSeconds=12 * 90 * 60)
    found = quality.current("rdr", now=NOW)
    assert found is not None
    metrics = found.measured.metrics
    assert metrics["window"] == {"from": "2026-05-17", "to": "2026-06-15", "days": 30}
    assert (metrics["responseTime"]["value"], metrics["noShowRate"]["value"], metrics["disputeRate"]["value"]) \
        == (90.0, 0.1, 0.1)
    # 1 dispute in 10 (10%) and 2 no-shows in 20 (10%): two warnings, so at risk.
    assert found.measured.status == "at_risk"


@pytest.mark.parametrize(("counts", "status"), [
    ({"accepted": 20, "completed": 20, "responses": 20, "responseSeconds": 20 * 600}, "excellent"),
    ({"accepted": 20, "completed": 20, "responses": 20, "responseSeconds": 20 * 125 * 60}, "needs_improvement"),
    ({"accepted": 20, "completed": 20, "responses": 20, "responseSeconds": 20 * 361 * 60}, "at_risk"),
    ({"accepted": 20, "completed": 16, "cancelledByReader": 5}, "at_risk"),  # 25%: above 20%
    ({"accepted": 4, "completed": 4}, "good"),  # too few readings for excellent
])
def test_the_status_follows_the_thresholds(aws, counts, status):
    _reader()
    _count("e1", **counts)
    _run()
    assert _status() == status


def test_an_incomplete_profile_or_a_long_absence_needs_improvement(aws):
    from chalicelib.services.metrics import quality

    _reader("bare", complete=False)  # options and availability only: 2 of 6 parts
    _reader("away", seen=NOW - timedelta(days=40))
    _count("e1", reader_id="away", at=NOW - timedelta(days=35), completed=3)
    _run(now=NOW - timedelta(days=35))  # the evaluation then keeps the day of the last completed reading
    bare, away = quality.current("bare", now=NOW), quality.current("away", now=NOW)
    assert bare is not None and away is not None
    assert bare.measured.metrics["profileCompleteness"] == {"value": 0.3333,
                                                            "missing": ["picture", "tagline", "bio", "attributes"]}
    assert bare.measured.status == "needs_improvement"
    assert away.measured.metrics["activity"]["daysInactive"] == 35
    assert away.measured.status == "needs_improvement"


def test_the_admins_list_moves_with_the_status_in_one_place(aws):
    _reader("r1")
    _reader("r2")
    _count("a1", reader_id="r1", accepted=20, completed=20, noShows=3)  # 15%: at risk
    _count("a2", reader_id="r2", accepted=20, completed=20, noShows=2)  # 10%: needs improvement
    _run()
    assert (_listed("at_risk"), _listed("needs_improvement")) == (["r1"], ["r2"])

    _count("b1", reader_id="r1", accepted=10)  # 3 / 30 = 10%: needs improvement
    _count("b2", reader_id="r2", accepted=20, completed=20, responses=40, responseSeconds=40 * 60)  # 2 / 40: fine
    _run()
    assert (_listed("at_risk"), _listed("needs_improvement")) == ([], ["r1"])
    assert (_status("r1"), _status("r2")) == ("needs_improvement", "excellent")


def test_a_warning_resolves_when_its_days_leave_the_window_through_the_daily_recheck(aws):
    from chalicelib.services.metrics import quality_views

    _reader()
    _count("e1", accepted=20, completed=20, noShows=2)  # 10% on 15 June: a warning
    assert _run() == [2] and _warnings() == {"no_show_rate": ("open", 0.1)}

    # No event for 30 days: the daily recheck marks the reader only on the days the result can
    # change: 30 June (15 days without activity: the limit for excellent) and 15 July (the
    # 15 June bucket leaves the window 16 June..15 July).
    marked, changes = [], []
    for days in range(1, 31):
        tick = NOW + timedelta(days=days)
        if quality_views.recheck_due(now=tick)["marked"]:
            marked.append(tick.date().isoformat())
        changes += _run(3, now=tick)
    assert marked == ["2026-06-30", "2026-07-15"]
    assert sum(changes) == 2  # resolved, and the status moved from needs_improvement to good
    assert _warnings() == {"no_show_rate": ("resolved", 0.1)} and _status() == "good"
    assert len(outbox_events("quality.warning_resolved")) == 1


# --- punctuality: late starts of scheduled live readings -------------------------------------

MONDAY_8_JUNE = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # 09:00 in Lisbon (UTC+1 in summer)


def _started(start: datetime, late: timedelta, *, option_type: str = "phone_call") -> str:
    """A reading booked a week ahead for ``start`` (None: an immediate one, at ``late`` before
    its start), accepted, and started ``late`` after its time, through the service."""
    from chalicelib.services import readings
    from tests.support.readings import book

    reading = book("cli", option_type=option_type, at=start, now=start - timedelta(days=7))
    readings.accept(reading.reading_id, "rdr", "reader", now=start - timedelta(days=7))
    readings.start(reading.reading_id, "rdr", "reader", now=start + late)
    return str(reading.reading_id)


def _deliver_starts() -> list[bool]:
    """Hand every ``reading.started`` event to the reader-metrics consumer (each counts once)."""
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.services import outbox
    from chalicelib.services.metrics import reader

    found = sorted(OutboxEvent.scan(OutboxEvent.event_type == "reading.started"), key=lambda e: e.created_at)
    return [reader.consume(outbox.message_for(event)) for event in found]


def _week(monday: datetime) -> list[datetime]:
    """Ten scheduled starts: 09:00 and 10:00 (Lisbon) from Monday to Friday."""
    return [monday + timedelta(days=day, hours=hour) for day in range(5) for hour in (0, 1)]


def test_late_starts_of_scheduled_live_readings_warn_the_reader_and_on_time_starts_resolve_it(aws):
    from chalicelib.services.metrics import quality
    from tests.support.readings import make_client

    friday = MONDAY_8_JUNE + timedelta(days=4, hours=4)
    _reader(seen=friday)
    make_client("cli", 2000)
    # 10 scheduled readings: early, on time, 5 minutes after (still on time), two 10 minutes late.
    lateness = [timedelta(minutes=m) for m in (-3, 0, 1, 2, 5, 0, 10, 1, 10, 4)]
    for n, (start, late) in enumerate(zip(_week(MONDAY_8_JUNE), lateness, strict=True)):
        _started(start, late, option_type="live_video" if n % 2 else "phone_call")
    assert all(_deliver_starts()) and not any(_deliver_starts())  # each start counted once

    assert _run(3, now=friday) == [2, 0, 0]  # the warning opened and the status was recorded; then nothing
    assert _warnings() == {"late_start_rate": ("open", 0.2)} and _status() == "needs_improvement"
    [opened] = outbox_events("quality.warning_opened")
    assert (opened["kind"], opened["title"], opened["value"], opened["threshold"]) == (
        "late_start_rate", "Late starts", 0.2, 0.1)
    assert opened["message"] == (
        "Over the last 30 days you started 20% of your scheduled readings more than 5 minutes after their booked "
        "time; keep it to 10% or less. You can start a session up to 10 minutes early: be ready a few minutes "
        "ahead so your client never waits.")
    found = quality.current("rdr", now=friday)
    assert found is not None
    assert found.measured.metrics["lateStartRate"] == {"value": 0.2, "sample": 10, "minimumSample": 10,
                                                       "threshold": 0.1, "atRiskAbove": 0.25}

    # Ten more, all on time: 2 late in 20 = 10%, at the threshold: resolved.
    next_friday = friday + timedelta(days=7)
    for start in _week(MONDAY_8_JUNE + timedelta(days=7)):
        _started(start, timedelta(minutes=2))
    _deliver_starts()
    assert _run(3, now=next_friday) == [2, 0, 0]  # resolved, and the status is good again
    assert _warnings() == {"late_start_rate": ("resolved", 0.2)} and _status() == "good"
    assert [e["kind"] for e in outbox_events("quality.warning_resolved")] == ["late_start_rate"]


def test_the_started_event_carries_the_schedule_and_the_lateness_and_an_immediate_start_never_counts(aws):
    from chalicelib.services import readings
    from chalicelib.services.metrics import reader, store
    from tests.support.readings import book, make_client

    _reader()
    make_client("cli", 500)
    scheduled = _started(MONDAY_8_JUNE, timedelta(minutes=10, seconds=30))
    at = MONDAY_8_JUNE + timedelta(days=1, hours=2)  # Tuesday 11:00 in Lisbon, inside the reader's hours
    instant = book("cli", now=at)
    readings.accept(instant.reading_id, "rdr", "reader", now=at)
    readings.start(instant.reading_id, "rdr", "reader", now=at + timedelta(minutes=40))

    late, immediate = outbox_events("reading.started")
    assert late == {"readingId": scheduled, "clientId": "cli", "readerId": "rdr", "type": "phone_call", "by": "reader",
                    "scheduledStart": "2026-06-08T08:00:00.000Z", "startedAt": "2026-06-08T08:10:30.000Z",
                    "lateSeconds": 630}
    assert (immediate["readingId"], immediate["scheduledStart"], immediate["lateSeconds"], immediate["startedAt"]) \
        == (instant.reading_id, None, None, "2026-06-09T10:40:00.000Z")
    assert _deliver_starts() == [True, False]  # the immediate reading's start counts nothing
    assert {k: v for k, v in store.get("reader#rdr", "day#2026-06-08").items() if k.endswith("Starts")} == {
        "scheduledStarts": 1, "lateStarts": 1}
    assert "scheduledStarts" not in store.get("reader#rdr", "day#2026-06-09")

    # A start counts on the reader's local day of the start (here 00:10 on 8 June in Lisbon),
    # whenever the event is relayed; lateness is worked out from the times when the event lacks it.
    message = {"eventId": "s1", "type": "reading.started", "occurredAt": "2026-06-09T12:00:00.000Z",
               "data": {"readingId": "x", "readerId": "rdr", "scheduledStart": "2026-06-07T23:00:00.000Z",
                        "startedAt": "2026-06-07T23:04:00.000Z"}}
    assert reader.consume(message) and not reader.consume(message)
    assert store.get("reader#rdr", "day#2026-06-08")["scheduledStarts"] == 2
    assert store.get("reader#rdr", "day#2026-06-08")["lateStarts"] == 1  # 4 minutes: on time
