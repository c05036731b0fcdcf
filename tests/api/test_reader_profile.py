"""A reader's own profile, reading options, availability and online status, and the public
card built from them. Bad values are 400s that change nothing; non-readers get 403."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.test_reader_applications import ADMIN, COMPLETE, become_reader, events, seed_catalog, stored

READER = "user_luna"
OPTION = {"type": "phone_call", "name": "Quick call", "description": "One question", "duration": 15, "price": 30,
          "isActive": True}


@pytest.fixture()
def reader(api, make_user):
    seed_catalog()
    make_user(ADMIN, role="admin")
    become_reader(api, make_user, READER)
    return api


def _paths(response: Any) -> list[str]:
    return [field["path"] for field in response.json["error"]["details"]["fields"]]


def _profile(api: Any) -> dict[str, Any]:
    response = api.get("/reader/profile", as_user=READER)
    assert response.status_code == 200
    return response.json


# --- who may call -----------------------------------------------------------------------------------


ROUTES = [("GET", "/reader/profile", None), ("PATCH", "/reader/profile", {"tagline": "x"}),
          ("PUT", "/reader/reading-options", {"readingOptions": [OPTION]}),
          ("PUT", "/reader/availability", {"timezone": "UTC"}), ("PUT", "/reader/online", {"online": True})]


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_clients_pending_applicants_and_admins_get_403_on_reader_routes(reader, make_user, method, path, body):
    api = reader
    make_user("user_client")
    make_user("user_pending")
    assert COMPLETE and api.put("/reader-application", as_user="user_pending", json_body=COMPLETE).status_code == 200
    assert api.post("/reader-application/submit", as_user="user_pending").status_code == 200
    for caller in ("user_client", "user_pending", ADMIN):
        response = api.request(method, path, as_user=caller, json_body=body)
        assert response.status_code == 403, caller
        assert response.json["error"]["code"] == "forbidden_role"
    assert stored("user_pending").status == "pending" and not stored("user_pending").is_online


def test_a_suspended_reader_profile_cannot_be_edited(reader):
    from chalicelib.models.readers import ReaderProfile

    ReaderProfile(reader_id=READER, version=0).update(actions=[ReaderProfile.status.set("suspended")],
                                                       add_version_condition=False)
    response = reader.patch("/reader/profile", as_user=READER, json_body={"tagline": "Back again"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "reader_profile_not_active"
    assert reader.put("/reader/online", as_user=READER, json_body={"online": True}).status_code == 403
    assert stored(READER).tagline == COMPLETE["tagline"] and not stored(READER).is_online
    assert reader.get(f"/readers/{READER}").status_code == 404


def test_a_reader_without_a_profile_gets_404(api, make_user):
    make_user("user_orphan", role="reader")
    assert api.get("/reader/profile", as_user="user_orphan").status_code == 404
    assert api.patch("/reader/profile", as_user="user_orphan", json_body={"tagline": "x"}).status_code == 404
    assert api.put("/reader/online", as_user="user_orphan", json_body={"online": True}).status_code == 404


# --- profile --------------------------------------------------------------------------------------


def test_the_reader_sees_the_approved_application_as_their_profile(reader):
    profile = _profile(reader)
    assert profile["status"] == "approved" and profile["id"] == READER
    assert profile["tagline"] == COMPLETE["tagline"]
    assert len(profile["readingOptions"]) == 2  # the inactive one too
    assert profile["isOnline"] is False and profile["ratingCount"] == 0 and profile["badges"] == []


def test_patch_changes_only_the_fields_sent(reader):
    response = reader.patch("/reader/profile", as_user=READER, json_body={
        "tagline": "New line", "location": "Lisbon", "backgroundImage": "https://images.example.com/sky.webp",
        "attributes": {"tools": ["runes", "pendulum", "astrology"], "abilities": ["medium", "empath", "scrying"],
                       "style": "compassionate"}})
    assert response.status_code == 200
    body = response.json
    assert (body["tagline"], body["location"], body["bio"]) == ("New line", "Lisbon", COMPLETE["bio"])
    assert body["backgroundImage"] == "https://images.example.com/sky.webp"
    assert body["attributeNames"]["runes"] == "Runes" and body["attributeNames"]["compassionate"] == "Compassionate"
    assert "tarot" not in body["attributeNames"]
    assert _profile(reader) == body


def test_null_clears_optional_fields(reader):
    response = reader.patch("/reader/profile", as_user=READER, json_body={"location": None, "profileImage": None})
    assert response.status_code == 200
    assert "location" not in response.json and "profileImage" not in response.json


@pytest.mark.parametrize("body,path", [
    ({"attributes": {"tools": ["tarot", "runes", "pendulum", "astrology"], "abilities": ["empath"],
                     "style": "compassionate"}}, "attributes.tools"),  # a fourth tool
    ({"attributes": {"tools": ["tarot"], "abilities": ["empath"], "style": ["compassionate", "inspirational"]}},
     "attributes.style"),  # a second style
    ({"attributes": {"tools": ["tarot"], "abilities": ["x-ray-vision"], "style": "compassionate"}},
     "attributes.abilities.0"),  # not in the catalog
    ({"attributes": {"tools": ["empath"], "abilities": ["empath"], "style": "compassionate"}},
     "attributes.tools.0"),  # an ability is not a tool
    ({"attributes": {"tools": ["tarot"], "abilities": ["empath"], "style": "tarot"}}, "attributes.style"),
    ({"attributes": {"tools": [], "abilities": ["empath"], "style": "compassionate"}}, "attributes.tools"),
    ({"attributes": {"tools": ["tarot"], "abilities": ["empath"]}}, "attributes.style"),
    ({"attributes": None}, "attributes"),
    ({"tagline": None}, "tagline"),
    ({"tagline": ""}, "tagline"),
    ({"displayName": "bad\u0000name"}, "displayName"),
    ({"profileImage": "http://images.example.com/a.png"}, "profileImage"),
    ({"profileImage": "javascript:alert(1)"}, "profileImage"),
    ({"profileImage": "media/user_someone_else/p.png"}, "profileImage"),
    ({"profileImage": f"media/{READER}/../user_x/p.png"}, "profileImage"),
    ({"profileImage": f"media/{READER}/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AF.png"}, "profileImage"),  # raw upload
    ({"ratingAverage": 5}, "ratingAverage"),
    ({"status": "approved"}, "status"),
])
def test_bad_profile_values_are_400_and_nothing_changes(reader, body, path):
    before = _profile(reader)
    response = reader.patch("/reader/profile", as_user=READER, json_body={"location": "Changed", **body})
    assert response.status_code == 400
    assert path in _paths(response)
    assert _profile(reader) == before


def test_a_retired_attribute_cannot_be_chosen(reader):
    from chalicelib.models.catalog import CatalogItem

    CatalogItem.get("catalog", "attribute#runes").update(actions=[CatalogItem.active.set(False)])
    response = reader.patch("/reader/profile", as_user=READER, json_body={
        "attributes": {"tools": ["tarot", "runes"], "abilities": ["empath"], "style": "compassionate"}})
    assert response.status_code == 400
    assert _paths(response) == ["attributes.tools.1"]


# --- reading options ------------------------------------------------------------------------------


def test_reading_options_are_replaced_and_keep_their_ids(reader):
    first = reader.put("/reader/reading-options", as_user=READER, json_body={"readingOptions": [
        OPTION, {**OPTION, "type": "live_video", "name": "Live", "duration": 30, "price": 80, "isActive": False}]})
    assert first.status_code == 200
    options = first.json["readingOptions"]
    assert [o["type"] for o in options] == ["phone_call", "live_video"] and all(o["id"] for o in options)

    kept = {**options[0], "price": 35}  # sent back as read, listed prices included (read-only, ignored)
    second = reader.put("/reader/reading-options", as_user=READER, json_body={"readingOptions": [kept]})
    listed = ("basePrice", "prices")
    assert [{k: v for k, v in o.items() if k not in listed} for o in second.json["readingOptions"]] == [
        {k: v for k, v in kept.items() if k not in listed}]
    assert second.json["readingOptions"][0]["basePrice"] == 35
    assert _profile(reader)["readingOptions"] == second.json["readingOptions"]


@pytest.mark.parametrize("change,path", [
    ({"price": 0}, "readingOptions.0.price"),
    ({"price": -5}, "readingOptions.0.price"),
    ({"price": 10_001}, "readingOptions.0.price"),
    ({"price": 9.5}, "readingOptions.0.price"),
    ({"price": "30"}, "readingOptions.0.price"),
    ({"duration": 0}, "readingOptions.0.duration"),
    ({"duration": 1000}, "readingOptions.0.duration"),
    ({"duration": 4}, "readingOptions.0.duration"),
    ({"type": "tarot_chat"}, "readingOptions.0.type"),
    ({"type": None}, "readingOptions.0.type"),
    ({"name": ""}, "readingOptions.0.name"),
    ({"isActive": "yes"}, "readingOptions.0.isActive"),
    ({"id": "has spaces"}, "readingOptions.0.id"),
    ({"discount": 50}, "readingOptions.0.discount"),
])
def test_bad_reading_options_are_400_and_nothing_changes(reader, change, path):
    before = _profile(reader)["readingOptions"]
    response = reader.put("/reader/reading-options", as_user=READER,
                          json_body={"readingOptions": [{**OPTION, **change}]})
    assert response.status_code == 400
    assert path in _paths(response)
    assert _profile(reader)["readingOptions"] == before


@pytest.mark.parametrize("options", [
    [OPTION, {**OPTION, "name": "Same again", "price": 99}],  # same type and duration
    [{**OPTION, "id": "opt_a"}, {**OPTION, "id": "opt_a", "duration": 30}],  # same id
    [{**OPTION, "duration": 5 + n} for n in range(13)],  # too many
])
def test_duplicate_or_too_many_options_are_rejected(reader, options):
    before = _profile(reader)["readingOptions"]
    response = reader.put("/reader/reading-options", as_user=READER, json_body={"readingOptions": options})
    assert response.status_code == 400
    assert _paths(response) == ["readingOptions"]
    assert _profile(reader)["readingOptions"] == before


def test_a_reading_type_the_catalog_no_longer_offers_is_refused(reader):
    from chalicelib.models.catalog import CatalogItem

    CatalogItem.get("catalog", "reading_type#live_video").update(actions=[CatalogItem.active.set(False)])
    response = reader.put("/reader/reading-options", as_user=READER, json_body={"readingOptions": [
        OPTION, {**OPTION, "type": "live_video"}]})
    assert response.status_code == 400
    assert _paths(response) == ["readingOptions.1.type"]


# --- availability ---------------------------------------------------------------------------------


def test_availability_is_replaced_with_sorted_slots(reader):
    response = reader.put("/reader/availability", as_user=READER, json_body={
        "timezone": "Asia/Tokyo", "instantBooking": False,
        "schedule": {"tue": [{"start": "14:00", "end": "24:00"}, {"start": "09:00", "end": "14:00"}]}})
    assert response.status_code == 200
    assert response.json == {
        "timezone": "Asia/Tokyo", "instantBooking": False,
        "schedule": {"mon": [], "tue": [{"start": "09:00", "end": "14:00"}, {"start": "14:00", "end": "24:00"}],
                     "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}}
    assert _profile(reader)["availability"] == response.json


@pytest.mark.parametrize("body,path", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "+02:00"}, "timezone"),
    ({"instantBooking": True}, "timezone"),  # the timezone is required
    ({"timezone": "UTC", "schedule": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}},
     "schedule.mon"),  # overlapping
    ({"timezone": "UTC", "schedule": {"wed": [{"start": "10:00", "end": "12:00"}, {"start": "08:00", "end": "20:00"}]}},
     "schedule.wed"),  # one slot inside another
    ({"timezone": "UTC", "schedule": {"fri": [{"start": "18:00", "end": "09:00"}]}}, "schedule.fri.0"),  # inverted
    ({"timezone": "UTC", "schedule": {"fri": [{"start": "09:00", "end": "09:00"}]}}, "schedule.fri.0"),  # empty
    ({"timezone": "UTC", "schedule": {"sat": [{"start": "25:00", "end": "26:00"}]}}, "schedule.sat.0.start"),
    ({"timezone": "UTC", "schedule": {"sat": [{"start": "9:00", "end": "10:00"}]}}, "schedule.sat.0.start"),
    ({"timezone": "UTC", "schedule": {"sat": [{"start": "24:00", "end": "24:00"}]}}, "schedule.sat.0.start"),
    ({"timezone": "UTC", "schedule": {"funday": []}}, "schedule.funday"),
    ({"timezone": "UTC", "instantBooking": "yes"}, "instantBooking"),
])
def test_bad_availability_is_400_and_nothing_changes(reader, body, path):
    before = _profile(reader)["availability"]
    response = reader.put("/reader/availability", as_user=READER, json_body=body)
    assert response.status_code == 400
    assert path in _paths(response)
    assert _profile(reader)["availability"] == before


# --- online status --------------------------------------------------------------------------------


def test_going_online_heartbeats_and_going_offline(reader):
    api = reader
    online = api.put("/reader/online", as_user=READER, json_body={"online": True})
    assert online.status_code == 200
    assert (online.json["isOnline"], online.json["changed"]) == (True, True)
    assert stored(READER).online_flag == "online"

    heartbeat = api.put("/reader/online", as_user=READER, json_body={"online": True})
    assert (heartbeat.json["isOnline"], heartbeat.json["changed"]) == (True, False)
    assert heartbeat.json["lastSeenAt"] >= online.json["lastSeenAt"]
    assert stored(READER).last_seen_at == heartbeat.json["lastSeenAt"]

    offline = api.put("/reader/online", as_user=READER, json_body={"online": False})
    assert (offline.json["isOnline"], offline.json["changed"]) == (False, True)
    assert stored(READER).online_flag is None and stored(READER).is_online is False

    changes = [(e["is_online"], e["reason"]) for e in events("reader.online_changed")]
    assert changes == [(True, "toggle"), (False, "toggle")]  # the heartbeat emitted nothing


def test_online_takes_a_boolean_only(reader):
    for body in ({"online": "yes"}, {"online": 1}, {}, {"online": True, "lastSeenAt": "2020-01-01T00:00:00Z"}):
        assert reader.put("/reader/online", as_user=READER, json_body=body).status_code == 400
    assert stored(READER).is_online is False


def test_heartbeats_do_not_disturb_the_profile_version_checks_of_an_application(reader):
    """Edits after many heartbeats still apply (profile writes are not version-conditioned)."""
    for _ in range(3):
        reader.put("/reader/online", as_user=READER, json_body={"online": True})
    assert reader.patch("/reader/profile", as_user=READER, json_body={"tagline": "Still me"}).status_code == 200


# --- the public card ------------------------------------------------------------------------------


def test_the_public_card_shows_what_the_frontend_needs(reader):
    api = reader
    api.put("/reader/online", as_user=READER, json_body={"online": True})
    response = api.get(f"/readers/{READER}")  # no token: public
    assert response.status_code == 200
    card = response.json
    assert card["id"] == card["userId"] == READER
    assert (card["displayName"], card["tagline"], card["location"], card["bio"]) == (
        COMPLETE["displayName"], COMPLETE["tagline"], COMPLETE["location"], COMPLETE["bio"])
    assert card["profileImage"] == COMPLETE["profileImage"]
    assert card["attributes"] == COMPLETE["attributes"]
    assert card["attributeNames"] == {"tarot": "Tarot", "oracle-cards": "Oracle Cards", "clairvoyant": "Clairvoyant",
                                      "straightforward": "Straightforward"}
    assert [o["type"] for o in card["readingOptions"]] == ["phone_call"]  # the inactive option is hidden
    assert card["availability"]["timezone"] == "America/Chicago" and card["availability"]["instantBooking"] is True
    assert card["availability"]["schedule"]["mon"] == [{"start": "09:00", "end": "17:00"}]
    assert card["isOnline"] is True and card["lastActive"].endswith("Z")
    # no data is null, not 0: a frontend shows "no rating yet", not "0.0★ · 0% completion"
    assert (card["ratingAverage"], card["ratingCount"], card["totalReadings"]) == (None, 0, 0)
    assert card["stats"] == {"totalReadings": 0, "averageRating": None, "completionRate": None}
    assert card["visibility"] == "public"
    assert card["badges"] == [] and card["reviews"] == [] and card["isApproved"] is True
    assert card["createdAt"] == card["createdDate"]
    assert "status" not in card and "declineReason" not in card and "submittedAt" not in card


def test_the_card_is_cacheable_for_a_minute_with_an_etag(reader):
    first = reader.get(f"/readers/{READER}")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert reader.get(f"/readers/{READER}", headers={"If-None-Match": etag}).status_code == 304
    reader.patch("/reader/profile", as_user=READER, json_body={"tagline": "Changed"})
    assert reader.get(f"/readers/{READER}", headers={"If-None-Match": etag}).status_code == 200


def test_a_reader_hiding_their_online_status_shows_offline(reader):
    reader.put("/reader/online", as_user=READER, json_body={"online": True})
    reader.put("/me/preferences", as_user=READER, json_body={"privacy": {"showOnlineStatus": False}})
    card = reader.get(f"/readers/{READER}").json
    assert card["isOnline"] is False and "lastActive" not in card


def test_only_approved_readers_have_a_public_card(reader, make_user):
    api = reader
    make_user("user_drafting")
    api.put("/reader-application", as_user="user_drafting", json_body={"tagline": "soon"})
    make_user("user_waiting")
    api.put("/reader-application", as_user="user_waiting", json_body=copy.deepcopy(COMPLETE))
    api.post("/reader-application/submit", as_user="user_waiting")
    make_user("user_declined")
    api.put("/reader-application", as_user="user_declined", json_body=copy.deepcopy(COMPLETE))
    api.post("/reader-application/submit", as_user="user_declined")
    api.post("/admin/reader-applications/user_declined/decline", as_user=ADMIN, json_body={"reason": "no"})
    for reader_id in ("user_drafting", "user_waiting", "user_declined", "user_nobody", ADMIN, "x" * 300):
        response = api.get(f"/readers/{reader_id}")
        assert response.status_code == 404, reader_id
        assert response.json["error"]["code"] == "reader_not_found"


def test_a_suspended_account_has_no_public_card(reader):
    from chalicelib.models.users import User

    User(user_id=READER).update(actions=[User.status.set("suspended")])
    assert reader.get(f"/readers/{READER}").status_code == 404


def test_the_card_lists_the_processed_image_variants(reader):
    from chalicelib.models.readers import ReaderProfile

    upload_id = "01JDQ8V6M4Z2X7N3K5R9T1W0AF"
    base = f"media/{READER}/profile_image/{upload_id}"
    ReaderProfile(reader_id=READER, version=0).update(actions=[
        ReaderProfile.profile_image.set(f"{base}/256.webp"),
        ReaderProfile.profile_image_variants.set({"uploadId": upload_id, "96": f"{base}/96.webp",
                                                  "256": f"{base}/256.webp", "768": f"{base}/768.webp"}),
    ], add_version_condition=False)
    card = reader.get(f"/readers/{READER}").json
    cdn = "http://api.test.auralumic.example/cdn"  # MEDIA_BASE_URL's default: API_BASE_URL + /cdn
    assert card["profileImage"] == f"{cdn}/{base}/256.webp"
    assert card["profileImageVariants"] == {"96": f"{cdn}/{base}/96.webp", "256": f"{cdn}/{base}/256.webp",
                                            "768": f"{cdn}/{base}/768.webp"}
    assert "backgroundImageVariants" not in card
