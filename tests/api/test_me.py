"""/me and /me/preferences: own fields only, bad values rejected, nothing half-written."""

from __future__ import annotations

import json

import pytest


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
    assert me["role"] == "client" and me["credits"] == {"available": 0, "held": 0, "earnings": 0, "owed": 0}
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
    assert {k: v for k, v in got.items() if k not in ("updatedAt", "createdAt", "id", "userId")} == document
    assert got["id"] == got["userId"] == "user_a"
    assert got["updatedAt"].endswith("Z")
    # What GET answered can be PUT back as it is (its read-only fields are ignored).
    assert api.put("/me/preferences", as_user="user_a", json_body=got).status_code == 200
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
