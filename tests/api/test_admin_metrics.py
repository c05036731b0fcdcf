"""GET /admin/metrics: what the platform did in a day, week or month, for admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.readings import make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")

WEDNESDAY = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def test_a_week_of_activity_reaches_the_admins_figures(api, make_user, drain, monkeypatch):
    from chalicelib.services import outbox
    from chalicelib.services.metrics import platform

    monkeypatch.setattr(outbox, "utcnow", lambda: WEDNESDAY)  # every event happens on that Wednesday
    make_user("adm", role="admin")
    make_client("cli", 200)
    make_reader("rdr")
    assert api.get("/me", as_user="newcomer").status_code == 200  # the first call provisions: a sign-up
    created = api.post("/readings", as_user="cli", headers={"Idempotency-Key": "k1"}, json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
        "question": "Will it work out?"})
    rid = created.json_body["id"]
    for step in ("accept", "start", "complete"):
        assert api.post(f"/readings/{rid}/{step}", as_user="rdr").status_code == 200, step
    assert api.post(f"/readings/{rid}/dispute", as_user="cli",
                    json_body={"reason": "The reader was not listening."}).status_code == 201
    delivered = drain()
    assert not any(platform.record(message) for message in delivered)  # redelivered: no figure moves

    found = api.get("/admin/metrics?period=week&date=2025-03-06", as_user="adm")

    assert found.status_code == 200, found.body
    body = found.json_body
    current, previous = body["current"], body["previous"]
    assert (body["period"], current["start"], current["end"]) == ("week", "2025-03-03", "2025-03-09")
    assert (previous["start"], previous["end"]) == ("2025-02-24", "2025-03-02")
    assert {k: current[k] for k in ("activeUsers", "signUps", "readingsRequested", "readingsCompleted",
                                    "platformFees", "disputes", "buyers", "conversionRate", "disputeRate")} == {
        "activeUsers": 3, "signUps": 1, "readingsRequested": 1, "readingsCompleted": 1,
        "platformFees": 57 * 20 // 100, "disputes": 1, "buyers": 0, "conversionRate": 0.0, "disputeRate": 1.0}
    assert [day["date"] for day in current["daily"]][:3] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert [day["readingsCompleted"] for day in current["daily"]] == [0, 0, 1, 0, 0, 0, 0]
    # Nothing happened the week before: zeros, and the rates are null, not missing.
    assert (previous["activeUsers"], previous["moneyIn"]) == (0, {})
    assert previous["conversionRate"] is None and previous["disputeRate"] is None


def test_only_admins_see_the_platform_figures(api, make_user):
    make_user("adm", role="admin")
    make_user("cli")
    make_user("rdr", role="reader")

    assert api.get("/admin/metrics?period=month&date=2025-03-05", as_user="adm").status_code == 200
    assert api.get("/admin/metrics", as_user="cli").status_code == 403
    assert api.get("/admin/metrics", as_user="rdr").status_code == 403
    assert api.get("/admin/metrics").status_code == 401


@pytest.mark.parametrize("query", ["period=year", "period=week&date=2025-02-30", "date=05/03/2025",
                                   "date=9999-12-31"])
def test_a_period_or_date_that_does_not_exist_is_a_400(api, make_user, query):
    make_user("adm", role="admin")

    answer = api.get(f"/admin/metrics?{query}", as_user="adm")

    assert answer.status_code == 400, answer.body
    assert answer.json_body["error"]["message"]


def test_a_future_date_is_a_400_that_says_so_and_today_anywhere_is_not(api, make_user):
    make_user("adm", role="admin")
    now = datetime.now(UTC)
    later = (now + timedelta(days=2)).date().isoformat()  # past today in every timezone
    ahead = (now + timedelta(hours=14)).date().isoformat()  # today in UTC+14: a browser's local date

    future = api.get(f"/admin/metrics?period=week&date={later}", as_user="adm")
    today_somewhere = api.get(f"/admin/metrics?date={ahead}", as_user="adm")

    assert future.status_code == 400, future.body
    (field,) = future.json_body["error"]["details"]["fields"]
    assert field["path"] == "date" and field["message"] == (
        f"The date {later} is in the future: choose today or an earlier day.")
    assert today_somewhere.status_code == 200, today_somewhere.body


def test_undefined_rates_are_present_and_null_in_the_document_too(api):
    schemas = api.get("/openapi.json").json_body["components"]["schemas"]

    assert {"conversionRate", "disputeRate"} <= set(schemas["PeriodFiguresOut"]["required"])
    assert {"type": "null"} in schemas["PeriodFiguresOut"]["properties"]["disputeRate"]["anyOf"]


def test_without_a_date_it_is_today_in_utc(api, make_user):
    make_user("adm", role="admin")
    before = datetime.now(UTC).date().isoformat()

    body = api.get("/admin/metrics?period=day", as_user="adm").json_body

    after = datetime.now(UTC).date().isoformat()
    assert body["date"] in (before, after) and body["current"]["start"] == body["date"]
    assert len(body["current"]["daily"]) == 1 and body["current"]["daily"][0]["activeUsers"] == 0
