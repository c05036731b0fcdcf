"""/me and /me/preferences: own fields only, bad values rejected, nothing half-written."""

from __future__ import annotations

import json

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.support.calls import dynamodb_calls
from tests.support.threads import all_at_once


def test_patch_me_changes_the_display_name(api):
    response = api.patch("/me", as_user="user_a", json_body={"displayName": "Ada"})
    assert response.status_code == 200
    assert response.json["displayName"] == "Ada"
    assert api.get("/me", as_user="user_a").json["displayName"] == "Ada"


@pytest.mark.parametrize("field,value", [("role", "admin"), ("credits", {"available": 1000}), ("email", "x@y.z"),
                                         ("status", "active"), ("isAdmin", True)])
def test_patch_me_refuses_fields_that_are_not_the_users_to_change(api, field, value):
    api.get("/me", as_user="user_a")
    response = api.patch("/me", as_user="user_a", json_body={"displayName": "Ada", field: value})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert [f["path"] for f in response.json["error"]["details"]["fields"]] == [field]
    me = api.get("/me", as_user="user_a").json
    assert me["role"] == "client" and me["credits"] == 0
    assert me["balance"] == {"available": 0, "held": 0, "earnings": 0, "payable": 0, "owed": 0}
    assert me.get("displayName") is None  # the valid part of a rejected request is not stored either


@pytest.mark.parametrize("name", ["", "x" * 81, "bad\u0000name"])
def test_patch_me_rejects_a_bad_display_name(api, name):
    response = api.patch("/me", as_user="user_a", json_body={"displayName": name})
    assert response.status_code == 400
    assert response.json["error"]["details"]["fields"][0]["path"] == "displayName"


def test_malformed_json_is_a_400_and_changes_nothing(api):
    api.patch("/me", as_user="user_a", json_body={"displayName": "Before"})
    response = api.patch("/me", as_user="user_a", body='{"displayName": "After"',
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert api.get("/me", as_user="user_a").json["displayName"] == "Before"


def test_a_json_array_body_is_a_validation_error(api):
    response = api.patch("/me", as_user="user_a", json_body=[{"displayName": "A"}])
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_wrong_content_type_is_a_415(api):
    response = api.patch("/me", as_user="user_a", body="displayName=Ada",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_a_413(api):
    body = json.dumps({"displayName": "A", "padding": "x" * (70 * 1024)})
    response = api.patch("/me", as_user="user_a", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_empty_body_is_a_400(api):
    response = api.patch("/me", as_user="user_a", body="", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_preferences_start_as_defaults(api):
    response = api.get("/me/preferences", as_user="user_a")
    assert response.status_code == 200
    body = response.json
    assert body["theme"] == "auto" and body["timezone"] == "UTC" and body["language"] == "en"
    assert body["notifications"]["inApp"] is True and body["notifications"]["marketingEmails"] is False
    assert body["privacy"]["profileVisibility"] == "public"
    assert "updatedAt" not in body


def test_put_preferences_replaces_the_document(api):
    document = {
        "theme": "dark",
        "language": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "notifications": {"email": False, "push": True, "inApp": True, "readingReminders": False,
                          "marketingEmails": True},
        "accessibility": {"highContrast": True, "fontSize": "large", "screenReader": False, "reducedMotion": True},
        "privacy": {"profileVisibility": "readers_only", "showOnlineStatus": False, "allowDirectMessages": False},
    }
    put = api.put("/me/preferences", as_user="user_a", json_body=document)
    assert put.status_code == 200
    got = api.get("/me/preferences", as_user="user_a").json
    assert {k: v for k, v in got.items() if k not in ("updatedAt", "createdAt", "id", "userId", "version")} == document
    assert got["id"] == got["userId"] == "user_a"
    assert got["updatedAt"].endswith("Z")
    assert got["version"] == put.json["version"] == 1
    # What GET answered can be PUT back as it is (its read-only fields are ignored; its
    # version is still the stored one).
    assert api.put("/me/preferences", as_user="user_a", json_body=got).json["version"] == 2
    assert api.get("/me/preferences", as_user="user_a").json["theme"] == "dark"
    # A later PUT that omits sections resets them to defaults (replace, not merge).
    api.put("/me/preferences", as_user="user_a", json_body={"theme": "light"})
    again = api.get("/me/preferences", as_user="user_a").json
    assert again["theme"] == "light" and again["timezone"] == "UTC" and again["privacy"]["showOnlineStatus"] is True


@pytest.mark.parametrize("document,path", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"timezone": "+02:00"}, "timezone"),
    ({"theme": "neon"}, "theme"),
    ({"language": "english"}, "language"),
    ({"notifications": {"sms": True}}, "notifications.sms"),
    ({"notifications": {"email": "yes please"}}, "notifications.email"),
    ({"accessibility": {"fontSize": "huge"}}, "accessibility.fontSize"),
    ({"privacy": {"profileVisibility": "everyone"}}, "privacy.profileVisibility"),
    ({"favouriteColour": "blue"}, "favouriteColour"),
])
def test_bad_preferences_are_rejected_with_the_field_path_and_not_stored(api, document, path):
    api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark", "timezone": "Europe/Paris"})
    response = api.put("/me/preferences", as_user="user_a", json_body=document)
    assert response.status_code == 400
    assert path in [f["path"] for f in response.json["error"]["details"]["fields"]]
    kept = api.get("/me/preferences", as_user="user_a").json
    assert (kept["theme"], kept["timezone"]) == ("dark", "Europe/Paris")


def test_one_users_preferences_are_not_anothers(api):
    api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark"})
    assert api.get("/me/preferences", as_user="user_b").json["theme"] == "auto"


# --- optimistic locking of preferences (UserPreferences.version) -------------------------------

def test_preferences_version_starts_at_0_and_rises_by_one_on_every_save(api):
    assert api.get("/me/preferences", as_user="user_a").json["version"] == 0
    first = api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark"})
    assert first.status_code == 200 and first.json["version"] == 1
    assert api.put("/me/preferences", as_user="user_a", json_body={"theme": "light"}).json["version"] == 2
    assert api.get("/me/preferences", as_user="user_a").json["version"] == 2
    assert api.get("/me", as_user="user_a").json["preferences"]["version"] == 2


def test_a_put_naming_a_version_that_is_no_longer_stored_is_a_409_and_changes_nothing(api):
    api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark"})  # version 1
    api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark", "language": "fr"})  # version 2

    stale = api.put("/me/preferences", as_user="user_a", json_body={"version": 1, "theme": "light"})
    assert stale.status_code == 409
    error = stale.json["error"]
    assert error["code"] == "version_conflict" and error["details"] == {"version": 2}
    assert error["message"].startswith("Your preferences were changed elsewhere") and error["message"].endswith(".")
    kept = api.get("/me/preferences", as_user="user_a").json
    assert (kept["theme"], kept["language"], kept["version"]) == ("dark", "fr", 2)

    # Before the first save the version is 0, and 0 is what a first conditional PUT names.
    assert api.put("/me/preferences", as_user="user_b", json_body={"version": 1}).status_code == 409
    assert api.put("/me/preferences", as_user="user_b", json_body={"version": 0}).json["version"] == 1

    fresh = api.put("/me/preferences", as_user="user_a", json_body={"version": 2, "theme": "light"})
    assert fresh.status_code == 200 and (fresh.json["theme"], fresh.json["version"]) == ("light", 3)


def test_two_saves_of_the_same_version_at_once_one_wins(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.errors import Conflict
    from chalicelib.services import users

    api.put("/me/preferences", as_user="user_a", json_body={"theme": "dark"})  # version 1

    def save(n: int) -> str:
        try:
            users.put_preferences("user_a", {"theme": ["light", "auto"][n]}, expected_version=1)
        except Conflict as exc:
            return exc.code
        return "saved"

    assert sorted(all_at_once(2, save)) == ["saved", "version_conflict"]
    assert api.get("/me/preferences", as_user="user_a").json["version"] == 2


# --- GET /me is one DynamoDB call ----------------------------------------------------------------

def test_get_me_makes_exactly_one_dynamodb_call_with_a_subscription_and_preferences(api, make_user):
    from chalicelib.services.payments import apply_subscription

    make_user("sub_user", credits_available=12)
    apply_subscription({"id": "sub_one", "status": "active", "created": 1_764_547_200, "customer": "cus_1",
                        "metadata": {"userId": "sub_user", "planId": "monthly-60"}})
    api.put("/me/preferences", as_user="sub_user", json_body={"theme": "dark"})

    with dynamodb_calls() as calls:
        me = api.get("/me", as_user="sub_user")
    assert me.status_code == 200
    assert (me.json["subscriptionId"], me.json["credits"], me.json["preferences"]["theme"]) == ("sub_one", 12, "dark")
    assert calls == ["GetItem"]
