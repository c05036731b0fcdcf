"""The demo's insights on `make run`: after the seed, its history (the part seeded before the
stack is ready and the part seeded in the background) and the jobs run once as the runner runs
them, demo readers hold badges of two tiers awarded by the reader_insights job, one reader has
open quality warnings and is listed at risk, and every response time is minutes, not hours."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from tests.support.readings import outbox_events


def _run_jobs(app: Any, issuer: Any, jobs: tuple[str, ...]) -> dict[str, Any]:
    """The schedules ``jobs`` fired once, as ``make run`` fires them after the seed."""
    from tests.conftest import PREFIX, REGION
    from tools.local.discovery import discover_workers
    from tools.local_env import ROOT, LocalEnv
    from tools.run_local import _run_once

    env = LocalEnv(aws_port=0, state_dir=ROOT / ".local", region=REGION, prefix=PREFIX, issuer=issuer)
    return _run_once(discover_workers(app, None, env, threading.Event()), jobs)


def _badges(api: Any, reader_id: str) -> list[str]:
    card = api.get(f"/readers/{reader_id}")
    assert card.status_code == 200, card.body
    return sorted(card.json["badges"])


def test_demo_readers_earn_badges_and_a_warning_from_the_jobs_with_answers_in_minutes(api, issuer, chalice_app):
    from chalicelib.models.base import utcnow
    from tools.run_local import FIRST_RUNS
    from tools.seed import READERS, seed_demo, user_id
    from tools.seed_history import AT_START, DemoHistory, count_reader_metrics, seed_history

    # What tools/run_local.py does before the stack is ready...
    seed_demo(issuer)
    assert seed_history(utcnow(), AT_START) == 14
    assert count_reader_metrics() > 0
    first = _run_jobs(chalice_app, issuer, FIRST_RUNS)
    assert first["reader_insights"]["badges"] == 5  # Luna's Bronze ones
    luna, sage = user_id("reader1"), user_id("reader3")
    assert _badges(api, luna) == sorted(
        f"{a}-bronze" for a in ("tarot", "oracle-cards", "clairvoyant", "empath", "straightforward")
    )
    # ... and once it is: the background part, then the insights job once more.
    lines: list[str] = []
    DemoHistory(
        threading.Event(), then=lambda: _run_jobs(chalice_app, issuer, ("reader_insights",)), log=lines.append
    ).run()
    assert len(lines) == 1 and "demo history ready" in lines[0] and "49 readings" in lines[0], lines
    assert _badges(api, sage) == sorted(
        f"{a}-silver" for a in ("no-tools", "medium", "clairaudient", "clairsentient", "compassionate")
    )

    # Awarded by the job (its events), not written by the seed.
    awarded = Counter((event["readerId"], event["tier"]) for event in outbox_events("badge.awarded"))
    assert awarded == {(luna, "Bronze"): 5, (sage, "Silver"): 5}

    # Luna's dashboard: her badges, two open warnings (she cancelled 4 of 17 accepted readings and
    # one of her 12 completed was disputed), at risk; the admins list her.
    home = api.get("/dashboard", as_user=luna).json["reader"]
    assert sorted(home["badges"]) == _badges(api, luna)
    assert sorted(w["kind"] for w in home["warnings"]) == ["cancellation_rate", "dispute_rate"]
    assert home["qualityStatus"] == "at_risk" and home["qualityStatusSince"]
    at_risk = api.get("/admin/readers/at-risk", as_user=user_id("admin")).json["data"]
    assert [(r["readerId"], sorted(r["warnings"])) for r in at_risk] == [(luna, ["cancellation_rate", "dispute_rate"])]
    # Sage: 50 completed in all, rated well, active: excellent. A reader without a reading yet is
    # not evaluated, and says so.
    assert api.get("/dashboard", as_user=sage).json["reader"]["qualityStatus"] == "excellent"
    assert api.get("/dashboard", as_user=user_id("reader2")).json["reader"]["qualityStatus"] == "not_evaluated"

    # Every reader who answered a request did so in minutes: the events carry the seeded times.
    answered = {}
    for reader in READERS:
        rows = api.get("/reader/metrics?period=total", as_user=user_id(reader["handle"])).json["periods"]
        minutes = next(row for row in rows if row["period"] == "total")["averageResponseTime"]
        if minutes is not None:
            answered[reader["handle"]] = minutes
    assert set(answered) == {"reader1", "reader3", "reader5"}  # Luna, Sage, and Mira's demo readings
    assert all(0 < minutes < 10 for minutes in answered.values()), answered
    luna_total = next(
        r for r in api.get("/reader/metrics?period=total", as_user=luna).json["periods"] if r["period"] == "total"
    )
    assert (luna_total["completedReadings"], luna_total["acceptedBookings"]) == (12, 17)
    # The history spreads over weeks: this week holds only part of it.
    this_week = next(
        r for r in api.get("/reader/metrics?period=total", as_user=sage).json["periods"] if r["period"] == "this_week"
    )
    assert this_week["completedReadings"] < 50
    # Earnings (ledger lines) and metrics (events) agree period by period: the seed dates a
    # step's ledger movement at the step, as it dates its event.
    for reader_id in (luna, sage, user_id("reader5")):
        earned = api.get("/reader/earnings", as_user=reader_id).json
        rows = {
            row["period"]: row for row in api.get("/reader/metrics?period=total", as_user=reader_id).json["periods"]
        }
        for period, row in (("thisWeek", "this_week"), ("thisMonth", "this_month"), ("allTime", "total")):
            assert (earned[period]["readings"], earned[period]["paidOut"]) == (
                rows[row]["completedReadings"],
                rows[row]["creditsEarned"],
            ), (reader_id, period)
    sage_earned = api.get("/reader/earnings", as_user=sage).json
    assert sage_earned["thisWeek"]["readings"] < sage_earned["allTime"]["readings"] == 50

    # A second run (the tests seed again) creates nothing and awards nothing more.
    assert seed_history(utcnow(), AT_START) == 0
    assert count_reader_metrics() == 0
    assert _run_jobs(chalice_app, issuer, ("reader_insights",))["reader_insights"]["badges"] == 0
