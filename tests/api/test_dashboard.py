"""GET /dashboard: what each role's home page shows after a small, realistic setup, with the
same item shapes as their own routes, in a bounded, exact number of DynamoDB calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.calls import _clients, dynamodb_calls
from tests.support.quality import open_warning
from tests.support.readings import MONDAY, book, make_client, make_reader

# MONDAY is 2026-11-30 08:00 UTC, 08:00 in Lisbon (the readers' timezone here).
TODAY_2PM = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WEDNESDAY_10AM = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture()
def at_monday(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The dashboard's clock: Monday 08:00 UTC."""
    from chalicelib.handlers import dashboard

    monkeypatch.setattr(dashboard, "utcnow", lambda: MONDAY)
    return MONDAY


@contextmanager
def all_dynamodb_calls() -> Iterator[list[str]]:
    """``dynamodb_calls`` and also those of the boto3 client the metrics store uses
    (services/metrics/store.py reads the platform's day buckets with it)."""
    from chalicelib.integrations import aws

    client = aws.client("dynamodb")
    assert all(client is not model_client for model_client in _clients())  # never counted twice
    with dynamodb_calls() as seen:
        def record(model: Any = None, **_: Any) -> None:
            seen.append(model.name)

        client.meta.events.register("before-call", record)
        try:
            yield seen
        finally:
            client.meta.events.unregister("before-call", record)


def _accept(reading: Any, reader_id: str = "rdr") -> None:
    from chalicelib.services import readings

    readings.accept(reading.reading_id, reader_id, "reader", now=MONDAY)


def _explore_ready() -> None:
    """The explore snapshot and the online overlay as a warm container has them."""
    from chalicelib.services.explore import overlay, store

    store.rebuild()
    overlay.online_ids()


# --- client ------------------------------------------------------------------------------------------


@pytest.fixture()
def client_world(api: Any, default_catalog: None, at_monday: datetime) -> Any:
    """A client with an active status, a booked (accepted) reading and one the reader declined."""
    from chalicelib.models.users import User
    from chalicelib.services import readings, statuses

    make_client("cli", 500)
    make_reader("rdr")
    statuses.create(User.get("cli"), content="Will my new job make me happy?", mood=None, category="career")
    booked = book("cli", at=WEDNESDAY_10AM, now=MONDAY)
    _accept(booked)
    declined = book("cli", at=TUESDAY_10AM, now=MONDAY)
    readings.decline(declined.reading_id, "rdr", "reader", reason="I am away that day, sorry.", now=MONDAY)
    _explore_ready()
    return {"booked": booked.reading_id, "declined": declined.reading_id}


def test_a_client_sees_their_status_readings_balance_and_readers_to_try(api, client_world):
    body = api.get("/dashboard", as_user="cli").json

    assert body["role"] == "client" and "reader" not in body and "admin" not in body
    home = body["client"]
    assert [s["content"] for s in home["activeStatuses"]] == ["Will my new job make me happy?"]
    assert home["activeStatuses"][0]["isActive"] is True and home["activeStatuses"][0]["categoryName"]
    assert [r["id"] for r in home["upcomingReadings"]["data"]] == [client_world["booked"]]
    assert home["upcomingReadings"]["hasMore"] is False
    assert [(r["id"], r["status"]) for r in home["recentReadings"]["data"]] == [(client_world["declined"], "declined")]
    # The balance is the one GET /credits shows: 500 granted, the accepted reading's price captured.
    assert home["balance"] == api.get("/credits", as_user="cli").json["balance"]
    assert home["balance"]["available"] == 500 - home["upcomingReadings"]["data"][0]["creditsCost"]
    assert [item["reader"]["id"] for item in home["recommendations"]] == ["rdr"]
    assert home["recommendations"][0]["reasons"]


def test_a_clients_items_have_the_shapes_of_their_own_routes(api, client_world):
    home = api.get("/dashboard", as_user="cli").json["client"]

    listed = api.get("/readings?tab=accepted", as_user="cli").json["data"]
    assert home["upcomingReadings"]["data"] == listed  # parties, allowed actions and all
    assert home["activeStatuses"] == [s for s in api.get("/statuses/mine", as_user="cli").json["data"]
                                      if s["isActive"]]



@pytest.fixture()
def still_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every per-container cache (chalicelib/ttl_cache.py: the online overlay, catalog ids,
    status categories, terms in force) keeps what it loaded for the whole test, so a call count
    does not depend on how long the machine took between two requests."""
    import gc

    from chalicelib.ttl_cache import TtlCache

    for cache in [found for found in gc.get_objects() if isinstance(found, TtlCache)]:
        monkeypatch.setattr(cache, "clock", lambda: 0.0)


def test_a_client_dashboard_costs_at_most_eight_dynamodb_calls(api, client_world, still_caches):
    from chalicelib.services import catalog

    with all_dynamodb_calls() as warm:
        api.get("/dashboard", as_user="cli")
    catalog.forget_cached()  # a container that has not read the status categories yet
    with all_dynamodb_calls() as cold:
        response = api.get("/dashboard", as_user="cli")

    assert response.status_code == 200
    # GetItem: the caller (authentication). Query: statuses, the accepted and archived tabs,
    # the client's interactions. BatchGetItem: the parties of both lists, one per table.
    assert sorted(warm) == ["BatchGetItem", "BatchGetItem", "GetItem", "Query", "Query", "Query", "Query"]
    # ... and the catalog's status categories once per container (then cached).
    assert sorted(cold) == sorted([*warm, "Query"])


def test_a_new_client_gets_an_empty_dashboard_in_few_calls(api, default_catalog, at_monday, still_caches):
    make_client("new")
    _explore_ready()

    with all_dynamodb_calls() as calls:
        home = api.get("/dashboard", as_user="new").json["client"]

    assert home["activeStatuses"] == [] and home["upcomingReadings"] == {"data": [], "hasMore": False}
    assert home["balance"] == {"available": 0, "held": 0, "earnings": 0, "payable": 0, "owed": 0, "restricted": False}
    # No status, no reading: no categories and no parties to read.
    assert sorted(calls) == ["GetItem", "Query", "Query", "Query", "Query"]


# --- reader ------------------------------------------------------------------------------------------


@pytest.fixture()
def reader_world(api: Any, default_catalog: None, at_monday: datetime) -> Any:
    """A reader with a request to answer, a reading this afternoon and one on Wednesday, a
    rating, a badge and an open quality warning."""
    from chalicelib.models.readers import ReaderProfile

    make_client("cli", 500)
    make_reader("rdr").update(actions=[ReaderProfile.rating_average.set(4.5),
                                     ReaderProfile.rating_count.set(2),
                                     ReaderProfile.badges.set(["tarot-bronze"])])
    today = book("cli", at=TODAY_2PM, now=MONDAY)
    _accept(today)
    later = book("cli", at=WEDNESDAY_10AM, now=MONDAY)
    _accept(later)
    pending = book("cli", at=TUESDAY_10AM, now=MONDAY)
    warning = open_warning("rdr")
    return {"today": today, "later": later, "pending": pending.reading_id, "warning": warning}


def test_a_reader_sees_requests_today_earnings_rating_badges_and_warnings(api, reader_world):
    body = api.get("/dashboard", as_user="rdr").json

    assert body["role"] == "reader" and "client" not in body
    home = body["reader"]
    assert [r["id"] for r in home["pendingRequests"]["data"]] == [reader_world["pending"]]
    assert (home["pendingRequests"]["count"], home["pendingRequests"]["moreThan"]) == (1, False)
    assert home["pendingRequests"]["data"] == api.get("/readings?as=reader&tab=requested", as_user="rdr").json["data"]
    schedule = home["todaySchedule"]
    assert (schedule["date"], schedule["timezone"], schedule["complete"]) == ("2026-11-30", "Europe/Lisbon", True)
    assert [r["id"] for r in schedule["data"]] == [reader_world["today"].reading_id]  # not Wednesday's
    assert schedule["data"][0]["client"]["displayName"] == "Cli"
    # Two accepted readings wait to be completed (the reader's share after the 20% fee); nothing paid out yet.
    costs = [int(reader_world[name].credits_cost) for name in ("today", "later")]
    pending = {"credits": sum(c - c * 20 // 100 for c in costs), "platformFee": sum(c * 20 // 100 for c in costs),
               "readings": 2}
    assert home["earnings"]["pending"] == pending
    week = home["earnings"]["thisWeek"]
    assert (week["paidOut"], week["pending"], week["pendingReadings"]) == (0, pending["credits"], 2)
    assert home["earnings"]["thisWeek"]["since"] == "2026-11-30T00:00:00.000Z"  # Monday, Lisbon midnight
    assert home["rating"] == {"average": 4.5, "count": 2}
    assert home["badges"] == ["tarot-bronze"]
    assert [(w["id"], w["state"]) for w in home["warnings"]] == [(reader_world["warning"], "open")]
    assert home["qualityStatus"] == "not_evaluated" and "qualityStatusSince" not in home  # not evaluated yet


def test_the_schedule_follows_the_readers_timezone(api, default_catalog, monkeypatch):
    """Monday 23:30 UTC is already Tuesday in Tokyo: Tuesday's reading is today's."""
    from chalicelib.handlers import dashboard

    make_client("cli", 500)
    make_reader("rdr", timezone="Asia/Tokyo", week={day: [{"start": "00:00", "end": "23:59"}]
                                                     for day in ("mon", "tue", "wed", "thu", "fri")})
    tuesday_tokyo = book("cli", at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), now=MONDAY)  # Tue 10:00 JST
    _accept(tuesday_tokyo)
    monday_tokyo = book("cli", at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC), now=MONDAY)  # Mon 19:00 JST
    _accept(monday_tokyo)
    monkeypatch.setattr(dashboard, "utcnow", lambda: datetime(2026, 11, 30, 23, 30, tzinfo=UTC))

    schedule = api.get("/dashboard", as_user="rdr").json["reader"]["todaySchedule"]

    assert schedule["date"] == "2026-12-01"
    assert [r["id"] for r in schedule["data"]] == [tuesday_tokyo.reading_id]


def test_a_reader_dashboard_costs_ten_dynamodb_calls(api, reader_world, still_caches):
    with all_dynamodb_calls() as calls:
        response = api.get("/dashboard", as_user="rdr")

    assert response.status_code == 200
    # GetItem: the caller, the profile, the earnings' timezone, the last quality evaluation.
    # Query: the month's earnings lines, the accepted tab (pending credits), the requested
    # tab, the accepted tab (today), the warnings. BatchGetItem: the parties (users, profiles).
    # No earnings line this month: no fee BatchGetItem.
    assert sorted(calls) == ["BatchGetItem", "BatchGetItem", "GetItem", "GetItem", "GetItem", "GetItem",
                             "Query", "Query", "Query", "Query", "Query"]


# --- admin -------------------------------------------------------------------------------------------


@pytest.fixture()
def admin_world(api: Any, default_catalog: None, make_user: Any, at_monday: datetime) -> Any:
    """An admin, a pending reader application and a completed reading its client disputes."""
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import readings

    make_user("adm", role="admin")
    make_user("applicant")
    ReaderProfile(reader_id="applicant", status="pending", display_name="Nova Applicant",
                  created_at=iso(MONDAY), updated_at=iso(MONDAY), submitted_at=iso(MONDAY)).save()
    make_client("cli", 500)
    make_reader("rdr")
    reading = book("cli", now=MONDAY)
    _accept(reading)
    readings.start(reading.reading_id, "rdr", "reader", now=MONDAY + timedelta(minutes=1))
    readings.complete(reading.reading_id, "cli", "client", now=MONDAY + timedelta(minutes=31))
    readings.open_dispute(reading.reading_id, "cli", "client", reason="The reader hung up early.",
                          now=MONDAY + timedelta(hours=1))
    return {"dispute": reading.reading_id}


def test_an_admin_sees_the_work_waiting_and_todays_figures(api, admin_world):
    body = api.get("/dashboard", as_user="adm").json

    assert body["role"] == "admin" and "client" not in body
    home = body["admin"]
    applications = home["pendingApplications"]
    assert [(a["id"], a["displayName"]) for a in applications["data"]] == [("applicant", "Nova Applicant")]
    assert (applications["count"], applications["moreThan"]) == (1, False)
    disputes = home["openDisputes"]
    assert [r["id"] for r in disputes["data"]] == [admin_world["dispute"]]
    assert disputes["data"][0]["dispute"]["reason"] == "The reader hung up early."
    assert "resolve" in disputes["data"][0]["allowedActions"]
    assert (disputes["count"], disputes["moreThan"]) == (1, False)
    assert disputes["data"] == api.get("/admin/disputes", as_user="adm").json["data"]
    assert (home["moderationQueue"], home["moderationQueueMoreThan"]) == (0, False)  # nothing flagged yet
    figures = home["platform"]
    assert (figures["today"]["start"], figures["yesterday"]["start"]) == ("2026-11-30", "2026-11-29")


def test_an_admin_dashboard_counts_the_moderation_items_waiting_for_a_decision(api, admin_world):
    from chalicelib.models.base import iso
    from chalicelib.models.moderation import ModerationItem, item_key

    at = iso(MONDAY)
    for n, status in enumerate(("pending", "pending", "escalated", "approved", "rejected")):
        ModerationItem(pk=item_key(f"mod{n}"), item_id=f"mod{n}", content_type="status", content_id=f"st{n}",
                       author_id="cli", flagged_reason="spam", flagged_by="user", priority="medium",
                       status=status, created_at=at, updated_at=at, queue_status=status,
                       queue_sort=f"2#{at}#mod{n}").save()

    home = api.get("/dashboard", as_user="adm").json["admin"]

    waiting = [api.get(f"/admin/moderation?status={status}", as_user="adm").json["data"]
               for status in ("pending", "escalated")]
    assert (home["moderationQueue"], home["moderationQueueMoreThan"]) == (3, False)
    assert home["moderationQueue"] == sum(len(items) for items in waiting)


def test_an_admin_dashboard_costs_ten_dynamodb_calls(api, admin_world, still_caches):
    with all_dynamodb_calls() as calls:
        response = api.get("/dashboard", as_user="adm")

    assert response.status_code == 200
    # GetItem: the caller. Query: the oldest applications, the oldest disputes, the moderation
    # queue's count (pending, escalated), the platform's 4 shards. BatchGetItem: the disputes'
    # parties. Both queues fit their first page: no count.
    assert sorted(calls) == ["BatchGetItem", "BatchGetItem", "GetItem", "Query", "Query", "Query", "Query",
                             "Query", "Query", "Query", "Query"]


def test_a_queue_longer_than_shown_is_counted_with_one_bounded_query(api, admin_world):
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile

    for n in range(4):
        at = iso(MONDAY + timedelta(minutes=n + 1))
        ReaderProfile(reader_id=f"applicant{n}", status="pending", created_at=at, updated_at=at,
                      submitted_at=at).save()

    with all_dynamodb_calls() as calls:
        applications = api.get("/dashboard", as_user="adm").json["admin"]["pendingApplications"]

    assert [a["id"] for a in applications["data"]] == ["applicant", "applicant0", "applicant1"]  # oldest first
    assert (applications["count"], applications["moreThan"]) == (5, False)
    assert calls.count("Query") == 9  # one more than with a short queue: the count


def test_counting_stops_at_the_cap_and_says_more_than(aws):
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import dashboard

    for n in range(5):
        at = iso(MONDAY + timedelta(minutes=n))
        ReaderProfile(reader_id=f"applicant{n}", status="pending", created_at=at, updated_at=at,
                      submitted_at=at).save()

    with all_dynamodb_calls() as calls:
        capped = dashboard.count_at_most(ReaderProfile, "pending", "byStatus", cap=3)

    assert capped == (3, True) and calls == ["Query"]
    assert dashboard.count_at_most(ReaderProfile, "pending", "byStatus", cap=5) == (5, False)
    assert dashboard.count_at_most(ReaderProfile, "declined", "byStatus") == (0, False)


# --- access ------------------------------------------------------------------------------------------


def test_an_anonymous_caller_gets_401(api):
    response = api.get("/dashboard")

    assert response.status_code == 401


def test_a_suspended_user_gets_403(api, make_user):
    make_user("gone", status="suspended")

    response = api.get("/dashboard", as_user="gone")

    assert response.status_code == 403


def test_a_reader_without_reviews_shows_no_average_rather_than_zero_stars(api, default_catalog):
    make_reader("fresh")

    rating = api.get("/dashboard", as_user="fresh").json["reader"]["rating"]
    assert rating == {"average": None, "count": 0}  # no "0.0 stars" for a reader nobody has rated yet
