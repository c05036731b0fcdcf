"""GET /reader/quality, POST /reader/warnings/{warningId}/acknowledge (only the reader's own),
GET /admin/readers/at-risk (paginated, by status)."""

from __future__ import annotations

import pytest

from tests.support.readings import make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")


def _warned(reader_id: str, **counts: int) -> str:
    """A reader whose counters today open a warning; the job's run; the warning's id."""
    from chalicelib.models.base import utcnow
    from chalicelib.services.metrics import insights, quality, reader

    make_reader(reader_id)
    reader.record(f"{reader_id}-e1", reader_id, counts, utcnow(), timezone="Europe/Lisbon")
    insights.run(now=utcnow())
    [item] = [w for w in quality.warnings_of(reader_id).values() if w.state == "open"]
    return str(item.warning_id)


def test_the_reader_sees_their_metrics_status_and_open_warning(api, make_user):
    make_user("rdr", role="reader")
    warning_id = _warned("rdr", accepted=20, completed=17, cancelledByReader=3)

    response = api.get("/reader/quality", as_user="rdr")

    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["status"] == "needs_improvement" and body["statusSince"] is not None
    assert body["metrics"]["cancellationRate"] == {"value": 0.15, "sample": 20, "minimumSample": 10,
                                                   "threshold": 0.1, "atRiskAbove": 0.2}
    assert body["metrics"]["responseTime"]["value"] is None
    assert body["metrics"]["lateStartRate"] == {"value": None, "sample": 0, "minimumSample": 10, "threshold": 0.1,
                                                "atRiskAbove": 0.25}
    assert body["metrics"]["profileCompleteness"]["missing"] == ["picture", "tagline", "bio", "attributes"]
    [warning] = body["openWarnings"]
    assert (warning["id"], warning["state"], warning["value"]) == (warning_id, "open", 0.15)
    assert warning["message"].startswith("You cancelled 15% of the readings you accepted")
    assert body["recentWarnings"] == []


def test_a_reader_acknowledges_their_warning_once_and_never_another_readers(api, make_user):
    make_user("rdr", role="reader")
    make_user("other", role="reader")
    make_reader("other")
    warning_id = _warned("rdr", accepted=20, completed=20, noShows=2)

    theirs = api.post(f"/reader/warnings/{warning_id}/acknowledge", as_user="other")
    unknown = api.post("/reader/warnings/no_show_rate.99/acknowledge", as_user="rdr")
    first = api.post(f"/reader/warnings/{warning_id}/acknowledge", as_user="rdr")
    second = api.post(f"/reader/warnings/{warning_id}/acknowledge", as_user="rdr")

    assert (theirs.status_code, unknown.status_code, first.status_code, second.status_code) == (404, 404, 200, 200)
    assert first.json_body["state"] == "acknowledged" and first.json_body == second.json_body
    quality = api.get("/reader/quality", as_user="rdr").json_body
    assert [w["state"] for w in quality["openWarnings"]] == ["acknowledged"]


def test_a_resolved_warning_cannot_be_acknowledged(api, make_user):
    from chalicelib.models.base import utcnow
    from chalicelib.services.metrics import insights, reader

    make_user("rdr", role="reader")
    warning_id = _warned("rdr", accepted=20, completed=20, disputes=2)
    reader.record("rdr-e2", "rdr", {"completed": 20}, utcnow(), timezone="Europe/Lisbon")  # 2 / 40 = 5%
    insights.run(now=utcnow())

    response = api.post(f"/reader/warnings/{warning_id}/acknowledge", as_user="rdr")

    assert response.status_code == 409 and response.json_body["error"]["code"] == "warning_resolved"
    quality = api.get("/reader/quality", as_user="rdr").json_body
    assert quality["openWarnings"] == [] and [w["id"] for w in quality["recentWarnings"]] == [warning_id]


def test_admins_list_readers_at_risk_page_by_page_and_by_status(api, make_user):
    make_user("adm", role="admin")
    for n in range(3):
        _warned(f"risky{n}", accepted=20, completed=20, noShows=4)  # 20%: at risk
    _warned("slow", accepted=20, completed=20, responses=20, responseSeconds=20 * 150 * 60)

    first = api.get("/admin/readers/at-risk?limit=2", as_user="adm").json_body
    rest = api.get(f"/admin/readers/at-risk?limit=2&cursor={first['pagination']['nextCursor']}",
                   as_user="adm").json_body
    improving = api.get("/admin/readers/at-risk?status=needs_improvement", as_user="adm").json_body
    wrong = api.get("/admin/readers/at-risk?status=excellent", as_user="adm")

    assert [r["readerId"] for r in first["data"] + rest["data"]] == ["risky0", "risky1", "risky2"]
    assert rest["pagination"]["hasNext"] is False
    row = first["data"][0]
    assert (row["status"], row["warnings"], row["displayName"]) == ("at_risk", ["no_show_rate"], "Risky0 Reader")
    assert row["metrics"]["noShowRate"]["value"] == 0.2
    assert [(r["readerId"], r["warnings"]) for r in improving["data"]] == [("slow", ["response_time"])]
    assert wrong.status_code == 400


def test_quality_routes_answer_only_their_roles(api, make_user):
    make_user("cli", role="client")
    make_user("rdr", role="reader")
    make_reader("rdr")
    assert api.get("/reader/quality", as_user="cli").status_code == 403
    assert api.get("/admin/readers/at-risk", as_user="rdr").status_code == 403
    fresh = api.get("/reader/quality", as_user="rdr").json_body
    assert fresh["openWarnings"] == [] and fresh["statusSince"] is None
    assert fresh["metrics"]["window"]["days"] == 30 and fresh["metrics"]["cancellationRate"]["value"] is None


def test_a_reader_listed_before_late_starts_were_measured_shows_that_rate_not_judged(api, make_user):
    import json

    from chalicelib.services.metrics import quality

    make_user("adm", role="admin")
    _warned("early", accepted=20, completed=20, noShows=4)
    item = quality.Listed.get("quality#at_risk", "early")
    metrics = json.loads(item.metrics)
    del metrics["lateStartRate"]
    item.update(actions=[quality.Listed.metrics.set(json.dumps({**metrics, "punctuality": None}))])

    response = api.get("/admin/readers/at-risk", as_user="adm")

    assert response.status_code == 200, response.json_body
    [row] = response.json_body["data"]
    assert row["metrics"]["lateStartRate"]["value"] is None and row["metrics"]["lateStartRate"]["sample"] == 0
    assert row["metrics"]["noShowRate"]["value"] == 0.2 and "punctuality" not in row["metrics"]
