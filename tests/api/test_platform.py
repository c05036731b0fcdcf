"""/health and /catalog as the frontend and an operator see them."""

from __future__ import annotations

import boto3
import pytest

from tests.conftest import PREFIX, REGION


def test_health_is_ok_when_every_dependency_answers(api):
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}  # nothing about what the service runs on


def test_health_is_503_degraded_without_naming_the_missing_dependency(api):
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=f"{PREFIX}-catalog")
    response = api.get("/health")
    assert response.status_code == 503
    assert response.json == {"status": "degraded"}
    assert PREFIX not in response.body.decode()


def test_admin_health_names_every_dependency(api, make_user):
    make_user("user_admin", role="admin")
    response = api.get("/admin/health", as_user="user_admin")
    assert response.status_code == 200
    checks = response.json["checks"]
    assert response.json["status"] == "ok" and response.json["stage"] == "test"
    assert {name.split(":")[0] for name in checks} == {"table", "queue", "bucket"}
    assert f"table:{PREFIX}-users" in checks and f"queue:{PREFIX}-notifications" in checks
    assert all(check["status"] == "ok" for check in checks.values())


def test_admin_health_is_503_and_names_the_missing_dependency(api, make_user):
    make_user("user_admin", role="admin")
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=f"{PREFIX}-catalog")
    response = api.get("/admin/health", as_user="user_admin")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    failing = [name for name, check in response.json["checks"].items() if check["status"] != "ok"]
    assert failing == [f"table:{PREFIX}-catalog"]
    assert response.json["checks"][failing[0]]["error"] == "ResourceNotFoundException"


@pytest.mark.parametrize("role", ["client", "reader"])
def test_admin_health_is_for_admins_only(api, make_user, role):
    make_user(f"user_{role}", role=role)
    assert api.get("/admin/health").status_code == 401
    response = api.get("/admin/health", as_user=f"user_{role}")
    assert response.status_code == 403
    assert "checks" not in response.body.decode()


@pytest.fixture()
def seeded(aws):
    from chalicelib.services import catalog
    from chalicelib.services.catalog_defaults import default_items

    catalog.upsert(default_items())


def test_catalog_lists_what_the_product_defines(api, seeded):
    response = api.get("/catalog")
    assert response.status_code == 200
    body = response.json
    assert [t["name"] for t in body["topics"]][:6] == ["Career & Work", "Lost & Seeking", "Love & Relationships",
                                                      "Past Life", "Life Path", "Future Life"]
    assert [t["isGeneral"] for t in body["topics"]].count(True) == 1
    assert {k: len(v) for k, v in body["attributes"].items()} == {"abilities": 8, "tools": 9, "styles": 3}
    assert {"Tarot", "I-Ching", "No Tools"} <= {a["name"] for a in body["attributes"]["tools"]}
    assert [r["id"] for r in body["readingTypes"]] == ["phone_call", "video_message", "live_video"]
    assert [(s["duration"], s["multiplier"]) for s in body["timeSpans"]][:3] == [(10, 1), (15, 1), (30, 0.95)]
    assert len(body["creditPackages"]) == 4 and sum(p["isPopular"] for p in body["creditPackages"]) == 1
    assert all(p["creditsIncluded"] > 0 for p in body["subscriptionPlans"])
    assert len(body["badges"]) == 20 * 3
    assert {b["tier"] for b in body["badges"]} == {"Bronze", "Silver", "Gold"}
    assert [c["id"] for c in body["categories"]] == ["love", "career", "spiritual", "general"]


def test_catalog_is_cacheable_and_answers_304_to_a_matching_etag(api, seeded):
    first = api.get("/catalog")
    assert "max-age=" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    again = api.get("/catalog", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body in (b"", "")
    from chalicelib.services import catalog

    catalog.upsert([("category", "dreams", {"name": "Dreams", "position": 9})])
    changed = api.get("/catalog", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Dreams" in [c["name"] for c in changed.json["categories"]]


def test_retired_catalog_entries_disappear(api, seeded):
    from chalicelib.models.catalog import CatalogItem

    CatalogItem.get("catalog", "attribute#tarot").update(actions=[CatalogItem.active.set(False)])
    names = {a["name"] for a in api.get("/catalog").json["attributes"]["tools"]}
    assert "Tarot" not in names and len(names) == 8


def test_responses_carry_cors_headers_for_the_frontend_origin(api):
    from tests.conftest import AZP

    response = api.get("/health")
    assert response.headers["Access-Control-Allow-Origin"] == AZP
    denied = api.get("/me")  # errors too, or the browser hides them from the frontend
    assert denied.headers["Access-Control-Allow-Origin"] == AZP
    assert "Authorization" in denied.headers["Access-Control-Allow-Headers"]
