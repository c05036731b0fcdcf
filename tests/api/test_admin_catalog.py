"""Catalog administration: admins curate the catalog; GET /catalog shows it at once; every
change is audited; bad input changes nothing; deleting retires; concurrent edits lose nothing."""

from __future__ import annotations

import pytest

ADMIN = "user_admin_cat"


@pytest.fixture()
def catalog(api, make_user):
    from chalicelib.services import catalog
    from chalicelib.services.catalog_defaults import default_items

    catalog.upsert(default_items())
    make_user(ADMIN, role="admin")
    make_user("user_client_cat", role="client")
    make_user("user_reader_cat", role="reader")
    return api


def history(kind, item_id):
    from chalicelib.services import audit

    return audit.history(kind, item_id)


def public_catalog(api):
    response = api.get("/catalog")
    assert response.status_code == 200
    return response.json


def ids(entries):
    return [entry["id"] for entry in entries]


# --------------------------------------------------------------------------- create


def test_admin_adds_an_attribute_and_the_public_catalog_shows_it_at_once(catalog):
    response = catalog.post("/admin/attributes", as_user=ADMIN, json_body={"name": "Tea Leaves", "kind": "tools"})

    assert response.status_code == 201
    body = response.json
    assert body["id"] == "tea-leaves" and body["kind"] == "tools" and body["active"] is True
    assert body["version"] == 1 and body["position"] == 9  # after the 9 seeded tools
    assert response.headers["ETag"] == '"1"' and response.headers["Location"] == "/admin/attributes/tea-leaves"
    tools = public_catalog(catalog)["attributes"]["tools"]
    assert tools[-1] == {"id": "tea-leaves", "name": "Tea Leaves", "kind": "tools"}
    [record] = history("attribute", "tea-leaves")
    assert (record.actor_id, record.action, record.before) == (ADMIN, "catalog.attribute.created", None)
    assert record.after.as_dict()["name"] == "Tea Leaves" and record.request_id


@pytest.mark.parametrize("path,body,section,expected", [
    ("/admin/categories", {"id": "family", "name": "Family"}, "categories",
     {"id": "family", "name": "Family", "abilityIds": [], "toolIds": []}),
    ("/admin/categories", {"id": "family", "name": "Family", "abilityIds": ["empath"], "toolIds": ["tarot"],
                           "topicId": "life-path"}, "categories",
     {"id": "family", "name": "Family", "abilityIds": ["empath"], "toolIds": ["tarot"], "topicId": "life-path"}),
    ("/admin/badges", {"name": "Runes Platinum", "attribute": "runes", "tier": "Gold",
                       "requirements": {"readingsCompleted": 500, "averageRating": 4.8, "timeframe": "total"},
                       "icon": "badge-gold", "description": "500 Runes readings"}, "badges",
     {"id": "runes-platinum", "name": "Runes Platinum", "attribute": "runes", "tier": "Gold",
      "requirements": {"readingsCompleted": 500, "averageRating": 4.8, "timeframe": "total"},
      "icon": "badge-gold", "description": "500 Runes readings"}),
    ("/admin/time-spans", {"duration": 20, "multiplier": "0.97"}, "timeSpans",
     {"id": "20-min", "duration": 20, "label": "20 minutes", "multiplier": 0.97}),
    ("/admin/credit-packages", {"name": "Sage", "credits": 600, "price": 13999, "discount": 30,
                                "stripePriceId": "price_sage"}, "creditPackages",
     {"id": "sage", "name": "Sage", "credits": 600, "price": 13999, "currency": "usd", "discount": 30,
      "isPopular": False, "stripePriceId": "price_sage"}),
    ("/admin/plans", {"name": "Monthly Oracle", "description": "300 credits a month", "price": 6499,
                      "creditsIncluded": 300, "rolloverCap": 300, "features": ["300 credits"],
                      "stripePriceId": "price_monthly_oracle", "trialDays": 7}, "subscriptionPlans",
     {"id": "monthly-oracle", "name": "Monthly Oracle", "description": "300 credits a month", "price": 6499,
      "currency": "usd", "creditsIncluded": 300, "rolloverCap": 300, "features": ["300 credits"],
      "stripePriceId": "price_monthly_oracle", "isActive": True, "trialDays": 7}),
])
def test_each_collection_creates_entries_the_catalog_shows(catalog, path, body, section, expected):
    response = catalog.post(path, as_user=ADMIN, json_body=body)

    assert response.status_code == 201, response.json
    assert response.json["id"] == expected["id"]
    shown = [entry for entry in public_catalog(catalog)[section] if entry["id"] == expected["id"]]
    assert shown == [expected]
    fetched = catalog.get(f"{path}/{expected['id']}", as_user=ADMIN)
    assert fetched.status_code == 200 and fetched.json == response.json


@pytest.mark.parametrize("given,stored,shown", [("0.95", "0.95", 0.95), ("1.0", "1.0", 1.0), (1.25, "1.25", 1.25),
                                                (2, "2", 2)])
def test_a_time_span_multiplier_is_stored_as_decimal_text_exactly_and_shown_as_a_number(catalog, given, stored,
                                                                                         shown):
    from chalicelib.models.catalog import CatalogItem

    response = catalog.post("/admin/time-spans", as_user=ADMIN,
                            json_body={"id": "custom", "duration": 25, "label": "25 min", "multiplier": given})

    assert response.status_code == 201 and response.json["multiplier"] == shown
    assert isinstance(response.json["multiplier"], float)
    assert CatalogItem.get("catalog", "time_span#custom").data.as_dict()["multiplier"] == stored
    [span] = [s for s in public_catalog(catalog)["timeSpans"] if s["id"] == "custom"]
    assert span["multiplier"] == shown


def test_a_taken_id_is_a_409_and_the_existing_entry_is_untouched(catalog):
    response = catalog.post("/admin/categories", as_user=ADMIN, json_body={"id": "love", "name": "Romance"})

    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_id"
    assert catalog.get("/admin/categories/love", as_user=ADMIN).json["name"] == "Love"
    assert history("category", "love") == []


def test_a_retired_id_is_still_taken(catalog):
    assert catalog.delete("/admin/categories/love", as_user=ADMIN).status_code == 200
    response = catalog.post("/admin/categories", as_user=ADMIN, json_body={"name": "Love"})
    assert response.status_code == 409


@pytest.mark.parametrize("attribute", ["no-such-attribute", "retired-one"])
def test_a_badge_must_name_an_active_attribute(catalog, attribute):
    catalog.post("/admin/attributes", as_user=ADMIN, json_body={"id": "retired-one", "name": "Old", "kind": "tools"})
    catalog.delete("/admin/attributes/retired-one", as_user=ADMIN)
    body = {"name": "Odd Badge", "attribute": attribute, "tier": "Bronze", "requirements": {"readingsCompleted": 1},
            "icon": "badge-bronze", "description": "odd"}

    response = catalog.post("/admin/badges", as_user=ADMIN, json_body=body)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_attribute"
    assert catalog.get("/admin/badges/odd-badge", as_user=ADMIN).status_code == 404
    assert history("badge", "odd-badge") == []


BAD_BODIES = [
    ("/admin/attributes", {"name": "X", "kind": "powers"}, "kind"),
    ("/admin/attributes", {"name": "", "kind": "tools"}, "name"),
    ("/admin/attributes", {"name": "X", "kind": "tools", "id": "Not A Slug"}, "id"),
    ("/admin/attributes", {"name": "X", "kind": "tools", "active": False}, "active"),
    ("/admin/badges", {"name": "B", "attribute": "tarot", "tier": "Platinum", "requirements": {"readingsCompleted": 1},
                       "icon": "i", "description": "d"}, "tier"),
    ("/admin/badges", {"name": "B", "attribute": "tarot", "tier": "Gold", "requirements": {"readingsCompleted": 0},
                       "icon": "i", "description": "d"}, "requirements.readingsCompleted"),
    ("/admin/badges", {"name": "B", "attribute": "tarot", "tier": "Gold",
                       "requirements": {"readingsCompleted": 5, "averageRating": 5.5}, "icon": "i", "description": "d"},
     "requirements.averageRating"),
    ("/admin/badges", {"name": "B", "attribute": "tarot", "tier": "Gold",
                       "requirements": {"readingsCompleted": 5, "timeframe": "forever"}, "icon": "i",
                       "description": "d"}, "requirements.timeframe"),
    ("/admin/time-spans", {"duration": 4, "multiplier": "1.0"}, "duration"),
    ("/admin/time-spans", {"duration": 181, "multiplier": "1.0"}, "duration"),
    ("/admin/time-spans", {"duration": 30, "multiplier": "3.5"}, "multiplier"),
    ("/admin/time-spans", {"duration": 30, "multiplier": "0.05"}, "multiplier"),
    ("/admin/time-spans", {"duration": 30, "multiplier": "1e0"}, "multiplier"),
    ("/admin/time-spans", {"duration": 30, "multiplier": 0.1234}, "multiplier"),
    ("/admin/time-spans", {"duration": "30", "multiplier": "1.0"}, "duration"),
    ("/admin/credit-packages", {"name": "P", "credits": 0, "price": 999, "stripePriceId": "price_p"}, "credits"),
    ("/admin/credit-packages", {"name": "P", "credits": 10, "price": 49, "stripePriceId": "price_p"}, "price"),
    ("/admin/credit-packages", {"name": "P", "credits": 10, "price": 999, "discount": 91, "stripePriceId": "price_p"},
     "discount"),
    ("/admin/credit-packages", {"name": "P", "credits": 10, "price": 999, "currency": "eur",
                                "stripePriceId": "price_p"}, "currency"),
    ("/admin/credit-packages", {"name": "P", "credits": 10, "price": 999, "isPopular": "yes",
                                "stripePriceId": "price_p"}, "isPopular"),
    ("/admin/credit-packages", {"name": "P", "credits": 10, "price": 999, "stripePriceId": "prod_p"},
     "stripePriceId"),
    ("/admin/plans", {"name": "P", "price": 999, "creditsIncluded": 10, "rolloverCap": -1,
                      "stripePriceId": "price_p"}, "rolloverCap"),
    ("/admin/plans", {"name": "P", "price": 999, "creditsIncluded": 10, "rolloverCap": 0, "trialDays": 31,
                      "stripePriceId": "price_p"}, "trialDays"),
    ("/admin/plans", {"name": "P", "price": 999, "creditsIncluded": 10, "rolloverCap": 0, "features": [""],
                      "stripePriceId": "price_p"}, "features"),
]


@pytest.mark.parametrize("path,body,field", BAD_BODIES, ids=[f"{p}:{f}" for p, _, f in BAD_BODIES])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(catalog, path, body, field):
    before = catalog.get(f"{path}?limit=100", as_user=ADMIN).json["data"]

    response = catalog.post(path, as_user=ADMIN, json_body=body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert field in [f["path"] for f in response.json["error"]["details"]["fields"]]
    assert catalog.get(f"{path}?limit=100", as_user=ADMIN).json["data"] == before


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("caller", ["user_client_cat", "user_reader_cat"])
@pytest.mark.parametrize("method,path,body", [
    ("GET", "/admin/attributes", None),
    ("POST", "/admin/attributes", {"name": "Sneaky", "kind": "tools"}),
    ("GET", "/admin/attributes/tarot", None),
    ("PATCH", "/admin/attributes/tarot", {"name": "Hacked"}),
    ("DELETE", "/admin/attributes/tarot", None),
    ("PATCH", "/admin/credit-packages/starter", {"price": 50}),
])
def test_only_admins_may_administer_the_catalog(catalog, caller, method, path, body):
    response = catalog.request(method, path, as_user=caller, json_body=body)

    assert response.status_code == 403
    tarot = catalog.get("/admin/attributes/tarot", as_user=ADMIN).json
    assert (tarot["name"], tarot["active"], tarot["version"]) == ("Tarot", True, 1)
    assert catalog.get("/admin/credit-packages/starter", as_user=ADMIN).json["price"] == 999
    assert catalog.get("/admin/attributes/sneaky", as_user=ADMIN).status_code == 404


def test_anonymous_callers_are_refused(catalog):
    assert catalog.post("/admin/plans", json_body={"name": "x"}).status_code == 401


# --------------------------------------------------------------------------- read


def test_the_list_is_paginated_and_filters_by_active(catalog):
    catalog.delete("/admin/categories/career", as_user=ADMIN)

    first = catalog.get("/admin/categories?limit=3", as_user=ADMIN).json
    second = catalog.get(f"/admin/categories?limit=3&cursor={first['pagination']['nextCursor']}", as_user=ADMIN).json

    assert ids(first["data"]) == ["career", "general", "love"] and first["pagination"]["hasNext"] is True
    assert ids(second["data"]) == ["spiritual"] and second["pagination"]["hasNext"] is False
    assert (first["pagination"]["page"], first["pagination"]["hasPrev"]) == (1, False)
    assert first["pagination"]["totalPages"] is None  # unknown before the last page
    assert (second["pagination"]["page"], second["pagination"]["hasPrev"], second["pagination"]["totalPages"]) == (
        2, True, 2)
    assert first["meta"]["cached"] is False and "generatedAt" in first["meta"]
    assert [e["active"] for e in first["data"]] == [False, True, True]
    retired = catalog.get("/admin/categories?active=false", as_user=ADMIN).json["data"]
    live = catalog.get("/admin/categories?active=true", as_user=ADMIN).json["data"]
    assert ids(retired) == ["career"] and ids(live) == ["general", "love", "spiritual"]


def test_a_cursor_from_another_collection_is_a_400(catalog):
    page = catalog.get("/admin/attributes?limit=2", as_user=ADMIN).json
    response = catalog.get(f"/admin/badges?limit=2&cursor={page['pagination']['nextCursor']}", as_user=ADMIN)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_unknown_id_is_a_404(catalog, method):
    body = {"name": "x"} if method == "PATCH" else None
    response = catalog.request(method, "/admin/badges/no-such-badge", as_user=ADMIN, json_body=body)
    assert response.status_code == 404


# --------------------------------------------------------------------------- update


def test_patch_changes_only_the_fields_sent_and_the_catalog_shows_it(catalog):
    response = catalog.patch("/admin/credit-packages/seeker", as_user=ADMIN, json_body={"price": 1899})

    assert response.status_code == 200
    body = response.json
    assert (body["price"], body["credits"], body["discount"], body["isPopular"]) == (1899, 60, 10, True)
    assert body["version"] == 2 and response.headers["ETag"] == '"2"'
    [seeker] = [p for p in public_catalog(catalog)["creditPackages"] if p["id"] == "seeker"]
    assert seeker["price"] == 1899
    [record] = history("credit_package", "seeker")
    assert record.action == "catalog.credit_package.updated"
    assert record.before.as_dict()["price"] == 1799 and record.after.as_dict()["price"] == 1899
    assert record.before.as_dict()["version"] == 1 and record.after.as_dict()["version"] == 2


def test_patch_replaces_badge_requirements_as_a_whole(catalog):
    response = catalog.patch("/admin/badges/tarot-gold", as_user=ADMIN,
                             json_body={"requirements": {"readingsCompleted": 150}})
    assert response.status_code == 200
    assert response.json["requirements"] == {"readingsCompleted": 150}
    assert response.json["tier"] == "Gold" and response.json["attribute"] == "tarot"


def test_patch_cannot_point_a_badge_at_an_unknown_attribute(catalog):
    response = catalog.patch("/admin/badges/tarot-gold", as_user=ADMIN, json_body={"attribute": "nope"})
    assert response.status_code == 422
    assert catalog.get("/admin/badges/tarot-gold", as_user=ADMIN).json["attribute"] == "tarot"


@pytest.mark.parametrize("body,field", [
    ({"name": None}, "(body)"),
    ({}, "(body)"),
    ({"kind": "abilities"}, "kind"),
    ({"name": "Tarot", "version": 3}, "version"),
    ({"position": -1}, "position"),
])
def test_patch_refuses_nulls_empty_bodies_and_fixed_fields(catalog, body, field):
    response = catalog.patch("/admin/attributes/tarot", as_user=ADMIN, json_body=body)

    assert response.status_code == 400
    assert field in [f["path"] for f in response.json["error"]["details"]["fields"]]
    assert catalog.get("/admin/attributes/tarot", as_user=ADMIN).json["version"] == 1


def test_patch_with_a_stale_if_match_is_a_409_and_changes_nothing(catalog):
    first = catalog.patch("/admin/plans/monthly-60", as_user=ADMIN, json_body={"trialDays": 3},
                          headers={"If-Match": '"1"'})
    stale = catalog.patch("/admin/plans/monthly-60", as_user=ADMIN, json_body={"name": "Renamed"},
                          headers={"If-Match": '"1"'})

    assert (first.status_code, stale.status_code) == (200, 409)
    assert stale.json["error"]["code"] == "version_mismatch"
    assert stale.json["error"]["details"] == {"currentVersion": 2}
    plan = catalog.get("/admin/plans/monthly-60", as_user=ADMIN).json
    assert (plan["name"], plan["trialDays"], plan["version"]) == ("Monthly Seeker", 3, 2)
    assert len(history("plan", "monthly-60")) == 1


def test_a_malformed_if_match_is_a_400(catalog):
    response = catalog.patch("/admin/plans/monthly-60", as_user=ADMIN, json_body={"trialDays": 3},
                             headers={"If-Match": "yesterday"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_if_match"


def test_two_concurrent_patches_of_different_fields_both_land(catalog, monkeypatch):
    """The second PATCH reads the package, then the first commits before the second writes:
    the second's conditional write fails, it re-reads and re-applies only its own field."""
    from chalicelib.services import catalog_admin

    real_read = catalog_admin._read
    interleaved = []

    def read_then_lose_the_race(kind, item_id):
        item = real_read(kind, item_id)
        if not interleaved:
            interleaved.append(True)
            first = catalog.patch("/admin/credit-packages/mystic", as_user=ADMIN, json_body={"discount": 20})
            assert first.status_code == 200
        return item  # the second PATCH goes on with the version it read before the first committed

    monkeypatch.setattr(catalog_admin, "_read", read_then_lose_the_race)
    second = catalog.patch("/admin/credit-packages/mystic", as_user=ADMIN, json_body={"isPopular": True})

    assert second.status_code == 200
    package = catalog.get("/admin/credit-packages/mystic", as_user=ADMIN).json
    assert (package["discount"], package["isPopular"], package["version"]) == (20, True, 3)
    records = history("credit_package", "mystic")
    assert [r.after.as_dict()["version"] for r in records] == [2, 3]
    assert records[1].before.as_dict()["discount"] == 20  # the audit saw the version it replaced


def test_a_stale_if_match_loses_the_same_race_with_a_409(catalog, monkeypatch):
    from chalicelib.services import catalog_admin

    real_read = catalog_admin._read
    interleaved = []

    def read_then_lose_the_race(kind, item_id):
        item = real_read(kind, item_id)
        if not interleaved:
            interleaved.append(True)
            catalog.patch("/admin/credit-packages/mystic", as_user=ADMIN, json_body={"discount": 20})
        return item

    monkeypatch.setattr(catalog_admin, "_read", read_then_lose_the_race)
    second = catalog.patch("/admin/credit-packages/mystic", as_user=ADMIN, json_body={"isPopular": True},
                           headers={"If-Match": '"1"'})

    assert second.status_code == 409
    package = catalog.get("/admin/credit-packages/mystic", as_user=ADMIN).json
    assert (package["discount"], package["isPopular"], package["version"]) == (20, False, 2)


# --------------------------------------------------------------------------- delete (retire)


def test_deleting_an_attribute_retires_it(catalog):
    response = catalog.delete("/admin/attributes/tarot", as_user=ADMIN)

    assert response.status_code == 200
    assert (response.json["active"], response.json["version"]) == (False, 2)
    assert "tarot" not in ids(public_catalog(catalog)["attributes"]["tools"])
    kept = catalog.get("/admin/attributes/tarot", as_user=ADMIN).json
    assert (kept["name"], kept["active"]) == ("Tarot", False)
    [record] = history("attribute", "tarot")
    assert record.action == "catalog.attribute.retired"
    assert (record.before.as_dict()["active"], record.after.as_dict()["active"]) == (True, False)


def test_retiring_twice_changes_nothing_the_second_time(catalog):
    catalog.delete("/admin/time-spans/45-min", as_user=ADMIN)
    again = catalog.delete("/admin/time-spans/45-min", as_user=ADMIN)
    assert again.status_code == 200 and again.json["version"] == 2
    assert len(history("time_span", "45-min")) == 1


def test_a_retired_entry_can_be_restored(catalog):
    catalog.delete("/admin/plans/monthly-150", as_user=ADMIN)
    assert "monthly-150" not in ids(public_catalog(catalog)["subscriptionPlans"])

    response = catalog.patch("/admin/plans/monthly-150", as_user=ADMIN, json_body={"active": True})

    assert response.status_code == 200 and response.json["active"] is True
    assert "monthly-150" in ids(public_catalog(catalog)["subscriptionPlans"])
    assert [r.action for r in history("plan", "monthly-150")] == ["catalog.plan.retired", "catalog.plan.restored"]


def test_a_badge_of_a_retired_attribute_cannot_be_restored(catalog):
    catalog.delete("/admin/badges/runes-gold", as_user=ADMIN)
    catalog.delete("/admin/attributes/runes", as_user=ADMIN)

    response = catalog.patch("/admin/badges/runes-gold", as_user=ADMIN, json_body={"active": True})

    assert response.status_code == 422
    assert catalog.get("/admin/badges/runes-gold", as_user=ADMIN).json["active"] is False


def test_a_category_can_only_name_active_specialties_and_topics(catalog):
    """A status category's abilities, tools and topic decide which readers a status concerns
    and what a suggestion books: each must be an active catalog entry (422 otherwise)."""
    unknown_tool = catalog.post("/admin/categories", as_user=ADMIN,
                                json_body={"name": "Family", "toolIds": ["tea-leaves"]})
    assert unknown_tool.status_code == 422, unknown_tool.json
    assert unknown_tool.json["error"]["code"] == "unknown_attribute"
    unknown_topic = catalog.patch("/admin/categories/love", as_user=ADMIN, json_body={"topicId": "weather"})
    assert unknown_topic.status_code == 422 and unknown_topic.json["error"]["code"] == "unknown_topic"
    shown = {c["id"]: c for c in public_catalog(catalog)["categories"]}
    assert shown["love"]["topicId"] == "love-relationships" and "family" not in shown
