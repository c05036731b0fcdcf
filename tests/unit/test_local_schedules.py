"""The local runner's schedules fire when EventBridge would: ``rate(...)`` every period after the
start, ``cron(...)`` at the UTC times its six fields name (``?``, ``*``, lists, ranges, steps,
month and day names). A worker is driven by an injected clock: no sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tools.local.schedules import ScheduleWorker, parse_schedule


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M")


def _next(expression: str, after: str, count: int = 1) -> list[str | None]:
    schedule = parse_schedule(expression)
    found, now = [], _at(after)
    for _ in range(count):
        following = schedule.first_after(now)
        found.append(_iso(following))
        if following is None:
            break
        now = following
    return found


class Clock:
    def __init__(self, now: str):
        self.now = _at(now)

    def __call__(self) -> float:
        return self.now

    def set(self, text: str) -> None:
        self.now = _at(text)


def _worker(expression: str, clock: Clock, fired: list[dict[str, Any]], fail: bool = False) -> ScheduleWorker:
    def invoke(event: dict[str, Any], context: Any) -> str:
        fired.append(event)
        if fail:
            raise RuntimeError("the job failed")
        return "ok"

    return ScheduleWorker(
        "reader_payouts",
        expression,
        clock=clock,
        stop=threading.Event(),
        invoke=invoke,
        context=lambda: None,
        region="us-east-1",
    )


# --- expressions ----------------------------------------------------------------------------


def test_rates_run_every_period_after_the_start():
    assert parse_schedule("rate(5 minutes)").first_after(1000.0) == 1300.0
    assert parse_schedule("rate(1 hour)").first_after(0.0) == 3600.0
    assert parse_schedule("rate(1 day)").first_after(1000.0) == 1000.0 + 86400


def test_the_daily_payout_run_fires_at_six_utc_every_day():
    # 2026-12-02 is a Wednesday.
    assert _next("cron(0 6 * * ? *)", "2026-12-02T05:59:30", 3) == [
        "2026-12-02T06:00",
        "2026-12-03T06:00",
        "2026-12-04T06:00",
    ]
    assert _next("cron(0 6 * * ? *)", "2026-12-02T06:00:00") == ["2026-12-03T06:00"]  # strictly after
    assert _next("cron(0 6 * * ? *)", "2026-12-31T07:00:00") == ["2027-01-01T06:00"]


def test_day_names_numbers_ranges_lists_and_steps():
    assert _next("cron(0 6 ? * MON *)", "2026-12-02T06:00:00", 2) == ["2026-12-07T06:00", "2026-12-14T06:00"]
    assert _next("cron(0 6 ? * 2 *)", "2026-12-02T06:00:00") == ["2026-12-07T06:00"]  # 1 is Sunday, 2 Monday
    assert _next("cron(0 0 ? * SUN,7 *)", "2026-12-02T00:00:00", 2) == ["2026-12-05T00:00", "2026-12-06T00:00"]
    assert _next("cron(0/20 8-18/5 ? * MON-FRI *)", "2026-12-04T18:30:00", 4) == [  # Friday evening
        "2026-12-04T18:40",
        "2026-12-07T08:00",
        "2026-12-07T08:20",
        "2026-12-07T08:40",
    ]
    assert _next("cron(*/30 13 ? * WED *)", "2026-12-02T12:00:00", 3) == [
        "2026-12-02T13:00",
        "2026-12-02T13:30",
        "2026-12-09T13:00",
    ]
    assert _next("cron(15 10 1,15 * ? *)", "2026-12-02T00:00:00", 2) == ["2026-12-15T10:15", "2027-01-01T10:15"]


def test_months_by_name_or_number_and_years():
    assert _next("cron(0 0 29 FEB ? *)", "2026-12-02T00:00:00") == ["2028-02-29T00:00"]
    assert _next("cron(0 12 1 JUN-AUG ? 2027)", "2026-12-02T00:00:00", 4) == [
        "2027-06-01T12:00",
        "2027-07-01T12:00",
        "2027-08-01T12:00",
        None,  # 2027 was its last year
    ]
    assert _next("cron(0 0 1 1 ? 2020)", "2026-12-02T00:00:00") == [None]
    assert _next("cron(0 0 30 2 ? *)", "2026-12-02T00:00:00") == [None]  # no 30 February, ever


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("cron(0 6 * * * *)", "must be ?"),  # EventBridge wants ? in day-of-month or day-of-week
        ("cron(0 6 ? * ? *)", "must be ?"),
        ("cron(0 6 * * ?)", "6 fields"),
        ("cron(60 6 * * ? *)", "minutes"),
        ("cron(0 24 * * ? *)", "hours"),
        ("cron(0 6 ? * FUN *)", "day-of-week"),
        ("cron(0 6 ? 13 MON *)", "month"),
        ("cron(*/0 6 * * ? *)", "step"),
        ("cron(0 6 ? * FRI-MON *)", "range"),
        ("cron(0 6 L * ? *)", "not supported"),
        ("cron(0 6 15W * ? *)", "not supported"),
        ("cron(0 6 ? * 6#3 *)", "not supported"),
        ("cron(0 6 ? * 5L *)", "not supported"),
        ("at(2026-12-02T06:00:00)", "unsupported"),
        ("rate(0 minutes)", "rate"),
    ],
)
def test_what_the_runner_cannot_run_is_refused_in_words(expression: str, says: str):
    with pytest.raises(ValueError, match=says):
        parse_schedule(expression)


def test_every_schedule_of_the_app_runs_locally(chalice_app: Any):
    """What the runner discovers (tools/local/discovery.py): every schedule, rates and crons."""
    from chalice.app import ScheduledEventConfig

    expressions = {}
    for source in chalice_app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            expressions[source.name] = expression.to_string() if hasattr(expression, "to_string") else str(expression)
    assert expressions["reader_payouts"] == "cron(0 6 * * ? *)"  # issue 18's daily payout run
    for name, expression in expressions.items():
        assert parse_schedule(expression).first_after(_at("2026-12-02T00:00:00")) is not None, name


# --- the worker, by the clock ----------------------------------------------------------------


def test_a_cron_worker_fires_at_its_times_by_the_clock_with_the_scheduled_time():
    clock, fired = Clock("2026-12-02T05:58:10"), []
    worker = _worker("cron(0 6 * * ? *)", clock, fired)

    assert _iso(worker.begin()) == "2026-12-02T06:00"
    clock.set("2026-12-02T05:59:59")
    assert worker.tick() is False and fired == []
    clock.set("2026-12-02T06:00:02")  # a poll a little after the time
    assert worker.tick() is True
    assert worker.tick() is False  # once
    assert [event["time"] for event in fired] == ["2026-12-02T06:00:00Z"]
    assert fired[0]["detail-type"] == "Scheduled Event" and fired[0]["resources"][0].endswith("rule/reader_payouts")
    assert _iso(worker.next_run) == "2026-12-03T06:00"


def test_a_late_run_fires_once_then_waits_for_the_next_time_after_now():
    clock, fired = Clock("2026-12-02T05:00:00"), []
    worker = _worker("cron(0 6 * * ? *)", clock, fired)
    worker.begin()

    clock.set("2026-12-04T09:00:00")  # the machine slept through two runs
    assert worker.tick() is True and worker.tick() is False
    assert [event["time"] for event in fired] == ["2026-12-02T06:00:00Z"]
    assert _iso(worker.next_run) == "2026-12-05T06:00"


def test_a_failing_job_does_not_stop_its_schedule():
    clock, fired = Clock("2026-12-02T05:00:00"), []
    worker = _worker("cron(0 6 * * ? *)", clock, fired, fail=True)
    worker.begin()

    for day in ("02", "03"):
        clock.set(f"2026-12-{day}T06:00:00")
        assert worker.tick() is True
    assert len(fired) == 2 and _iso(worker.next_run) == "2026-12-04T06:00"


def test_a_rate_worker_fires_a_period_after_each_run():
    clock, fired = Clock("2026-12-02T05:00:00"), []
    worker = _worker("rate(1 hour)", clock, fired)

    assert _iso(worker.begin()) == "2026-12-02T06:00"
    clock.set("2026-12-02T06:00:30")
    assert worker.tick() is True
    assert _iso(worker.next_run) == "2026-12-02T07:00"  # from now: the run was late
