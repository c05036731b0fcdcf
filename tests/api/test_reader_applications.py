"""Reader applications: a multi-step draft, submission of a complete profile, the admin
queue, and an approval that makes the applicant a reader in one transaction (or not at all)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

ADMIN = "user_admin"
APPLICANT = "user_applicant"

COMPLETE: dict[str, Any] = {
    "displayName": "Luna Marquez",
    "tagline": "Tarot that tells it straight",
    "bio": "Fifteen years of reading tarot.\nNow for you.",
    "location": "Austin, TX",
    "profileImage": "https://images.example.com/luna.webp",
    "attributes": {"tools": ["tarot", "oracle-cards"], "abilities": ["clairvoyant"], "style": "straightforward"},
    "readingOptions": [
        {"type": "phone_call", "name": "Quick call", "description": "One question", "duration": 15, "price": 30,
         "isActive": True},
        {"type": "video_message", "name": "Recorded spread", "description": "A full spread", "duration": 20,
         "price": 45, "isActive": False},
    ],
    "availability": {"timezone": "America/Chicago", "instantBooking": True,
                     "schedule": {"mon": [{"start": "09:00", "end": "17:00"}]}},
    "experience": "expert",
    "step": 4,
}


# --- helpers (also used by the reader profile and presence tests) --------------------------------


def seed_catalog() -> None:
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())


def events(event_type: str | None = None) -> list[dict[str, Any]]:
    from chalicelib.models.outbox import OutboxEvent

    found = sorted(OutboxEvent.scan(), key=lambda e: (e.created_at, e.event_id))  # oldest first
    return [{"type": e.event_type, **e.data.as_dict()} for e in found
            if event_type is None or e.event_type == event_type]


def audit_records(entity_type: str, entity_id: str) -> list[Any]:
    from chalicelib.services import audit

    return audit.history(entity_type, entity_id)


def stored(user_id: str) -> Any:
    from chalicelib.models.readers import ReaderProfile

    return ReaderProfile.get(user_id, consistent_read=True)


def role_of(user_id: str) -> str:
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True).role


def apply(api: Any, user_id: str, **overrides: Any) -> Any:
    """Save a complete draft and submit it; returns the submit response."""
    body = {**copy.deepcopy(COMPLETE), **overrides}
    saved = api.put("/reader-application", as_user=user_id, json_body=body)
    assert saved.status_code == 200, saved.json
    return api.post("/reader-application/submit", as_user=user_id)


def become_reader(api: Any, make_user: Any, user_id: str, admin_id: str = ADMIN, **overrides: Any) -> None:
    """The real path: apply, submit, an admin (who must exist) approves."""
    make_user(user_id)
    assert apply(api, user_id, **overrides).status_code == 200
    approved = api.post(f"/admin/reader-applications/{user_id}/approve", as_user=admin_id)
    assert approved.status_code == 200, approved.json


@pytest.fixture()
def world(api, make_user):
    seed_catalog()
    make_user(ADMIN, role="admin")
    make_user(APPLICANT)
    return api


def _paths(response: Any) -> list[str]:
    return [field["path"] for field in response.json["error"]["details"]["fields"]]


# --- the draft ----------------------------------------------------------------------------------


def test_a_draft_is_saved_step_by_step_and_says_what_is_missing(world):
    api = world
    first = api.put("/reader-application", as_user=APPLICANT,
                    json_body={"displayName": "Luna", "tagline": "Straight talk", "step": 1})
    assert first.status_code == 200
    assert first.json["status"] == "draft"
    assert "submittedAt" not in first.json
    assert set(first.json["missingForSubmit"]) == {"bio", "attributes", "readingOptions", "availability"}

    second = api.put("/reader-application", as_user=APPLICANT, json_body={
        "attributes": {"tools": ["tarot"], "abilities": ["empath"], "style": "compassionate"}, "step": 2})
    assert second.status_code == 200

    got = api.get("/reader-application", as_user=APPLICANT).json
    assert (got["displayName"], got["tagline"], got["step"]) == ("Luna", "Straight talk", 2)  # earlier steps kept
    assert got["attributes"] == {"tools": ["tarot"], "abilities": ["empath"], "style": "compassionate"}
    assert got["attributeNames"] == {"tarot": "Tarot", "empath": "Empath", "compassionate": "Compassionate"}
    assert set(got["missingForSubmit"]) == {"bio", "readingOptions", "availability"}


def test_null_clears_a_draft_field(world):
    api = world
    api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "Hello", "location": "Lisbon"})
    response = api.put("/reader-application", as_user=APPLICANT, json_body={"location": None})
    assert response.status_code == 200
    assert "location" not in response.json and response.json["tagline"] == "Hello"


def test_new_reading_options_get_ids(world):
    api = world
    response = api.put("/reader-application", as_user=APPLICANT,
                       json_body={"readingOptions": COMPLETE["readingOptions"]})
    ids = [option["id"] for option in response.json["readingOptions"]]
    assert all(ids) and len(set(ids)) == 2


def test_no_application_yet_is_a_404(world):
    response = world.get("/reader-application", as_user=APPLICANT)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "application_not_found"


@pytest.mark.parametrize("body,path", [
    ({"attributes": {"tools": ["tarot", "runes", "pendulum", "astrology"]}}, "attributes.tools"),  # a fourth tool
    ({"attributes": {"style": ["compassionate", "inspirational"]}}, "attributes.style"),  # a second style
    ({"attributes": {"abilities": ["telekinesis"]}}, "attributes.abilities.0"),  # not in the catalog
    ({"attributes": {"abilities": ["tarot"]}}, "attributes.abilities.0"),  # a tool is not an ability
    ({"attributes": {"tools": ["tarot", "tarot"]}}, "attributes.tools"),
    ({"attributes": {"tools": ["no-tools", "tarot"]}}, "attributes.tools"),
    ({"attributes": {"tools": ["Tarot!"]}}, "attributes.tools.0"),
    ({"readingOptions": [{**COMPLETE["readingOptions"][0], "price": 0}]}, "readingOptions.0.price"),
    ({"readingOptions": [{**COMPLETE["readingOptions"][0], "duration": 1000}]}, "readingOptions.0.duration"),
    ({"readingOptions": [{**COMPLETE["readingOptions"][0], "type": "tarot_chat"}]}, "readingOptions.0.type"),
    ({"availability": {"timezone": "Mars/Olympus_Mons"}}, "availability.timezone"),
    ({"availability": {"schedule": {"mon": [{"start": "12:00", "end": "09:00"}]}}}, "availability.schedule.mon.0"),
    ({"experience": "guru"}, "experience"),
    ({"step": 0}, "step"),
    ({"tagline": "x" * 121}, "tagline"),
    ({"profileImage": "http://insecure.example.com/a.png"}, "profileImage"),
    ({"profileImage": "media/user_someone_else/profile/a.png"}, "profileImage"),
    ({"status": "approved"}, "status"),  # not the applicant's to set
    ({"role": "reader"}, "role"),
])
def test_bad_values_in_a_draft_are_rejected_and_nothing_is_saved(world, body, path):
    api = world
    api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "Before"})
    response = api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "After", **body})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert path in _paths(response)
    kept = api.get("/reader-application", as_user=APPLICANT).json
    assert kept["tagline"] == "Before" and kept["status"] == "draft"


def test_an_admin_has_no_application_route(world):
    assert world.put("/reader-application", as_user=ADMIN, json_body={"tagline": "x"}).status_code == 403


# --- submission -----------------------------------------------------------------------------------


def test_submitting_a_complete_application_makes_it_pending_and_records_the_event(world):
    response = apply(world, APPLICANT)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "pending" and body["submittedAt"].endswith("Z")
    assert body["submissionCount"] == 1 and body["missingForSubmit"] == []
    assert [(e["application_id"], e["submission"]) for e in events("reader_application.submitted")] == [
        (APPLICANT, 1)]
    assert world.get("/reader-application", as_user=APPLICANT).json["status"] == "pending"


def test_an_incomplete_application_cannot_be_submitted(world):
    api = world
    api.put("/reader-application", as_user=APPLICANT, json_body={
        "displayName": "Luna", "tagline": "Hi", "bio": "Me",
        "attributes": {"tools": ["tarot"], "abilities": []},
        "readingOptions": [{**COMPLETE["readingOptions"][0], "isActive": False}],
        "availability": {"instantBooking": False}})
    response = api.post("/reader-application/submit", as_user=APPLICANT)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "application_incomplete"
    assert set(_paths(response)) == {"attributes.abilities", "attributes.style", "readingOptions", "availability"}
    assert stored(APPLICANT).status == "draft"
    assert events() == []


def test_submitting_with_nothing_saved_is_a_404(world):
    assert world.post("/reader-application/submit", as_user=APPLICANT).status_code == 404


def test_a_duplicate_submission_is_a_409_and_a_pending_application_is_frozen(world):
    api = world
    assert apply(api, APPLICANT).status_code == 200
    again = api.post("/reader-application/submit", as_user=APPLICANT)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "application_pending"
    edit = api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "Changed my mind"})
    assert edit.status_code == 409
    assert stored(APPLICANT).tagline == COMPLETE["tagline"]
    assert len(events("reader_application.submitted")) == 1


def test_an_attribute_retired_after_the_draft_blocks_the_submission(world):
    from chalicelib.models.catalog import CatalogItem

    api = world
    api.put("/reader-application", as_user=APPLICANT, json_body=COMPLETE)
    CatalogItem.get("catalog", "attribute#oracle-cards").update(actions=[CatalogItem.active.set(False)])
    response = api.post("/reader-application/submit", as_user=APPLICANT)
    assert response.status_code == 422
    assert _paths(response) == ["attributes.tools.1"]
    assert stored(APPLICANT).status == "draft"


def test_a_reader_applying_again_is_a_409(world, make_user):
    become_reader(world, make_user, "user_luna")
    for response in (world.put("/reader-application", as_user="user_luna", json_body={"tagline": "Again"}),
                     world.post("/reader-application/submit", as_user="user_luna")):
        assert response.status_code == 409
        assert response.json["error"]["code"] == "already_reader"
    assert world.get("/reader-application", as_user="user_luna").json["status"] == "approved"


# --- the admin queue ----------------------------------------------------------------------------


def _pending_application(user_id: str, submitted_at: str, status: str = "pending") -> None:
    from chalicelib.models.readers import ReaderProfile

    ReaderProfile(reader_id=user_id, status=status, display_name=user_id, submitted_at=submitted_at,
                  created_at=submitted_at, updated_at=submitted_at).save()


def test_the_admin_queue_pages_through_pending_applications_oldest_first(world):
    api = world
    for n in range(25):
        _pending_application(f"user_p{n:02d}", f"2030-01-01T00:{59 - n:02d}:00.000Z")
    _pending_application("user_old_decline", "2020-01-01T00:00:00.000Z", status="declined")
    api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "just a draft"})

    seen, cursor, sizes = [], None, []
    while True:
        path = "/admin/reader-applications?limit=10" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, as_user=ADMIN)
        assert page.status_code == 200
        sizes.append(len(page.json["data"]))
        seen += [(a["id"], a["submittedAt"]) for a in page.json["data"]]
        cursor = page.json["pagination"]["nextCursor"]
        if not cursor:
            break
    assert sizes == [10, 10, 5]
    assert [s for _, s in seen] == sorted(s for _, s in seen)  # oldest first
    assert {i for i, _ in seen} == {f"user_p{n:02d}" for n in range(25)}  # no drafts, no declined

    declined = api.get("/admin/reader-applications?status=declined", as_user=ADMIN).json["data"]
    assert [a["id"] for a in declined] == ["user_old_decline"]


def test_a_cursor_from_one_status_is_refused_for_another(world):
    api = world
    for n in range(3):
        _pending_application(f"user_p{n}", f"2030-01-01T00:00:0{n}.000Z")
    cursor = api.get("/admin/reader-applications?limit=1", as_user=ADMIN).json["pagination"]["nextCursor"]
    response = api.get(f"/admin/reader-applications?status=declined&cursor={cursor}", as_user=ADMIN)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


def test_an_unknown_status_filter_is_a_400(world):
    response = world.get("/admin/reader-applications?status=draft", as_user=ADMIN)
    assert response.status_code == 400


# --- decisions ------------------------------------------------------------------------------------


def test_approval_makes_the_applicant_a_reader_with_audit_and_event(world):
    api = world
    apply(api, APPLICANT)
    response = api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user=ADMIN)
    assert response.status_code == 200
    assert response.json["status"] == "approved" and response.json["decidedAt"].endswith("Z")

    assert role_of(APPLICANT) == "reader"
    assert api.get("/me", as_user=APPLICANT).json["role"] == "reader"
    assert api.get("/reader/profile", as_user=APPLICANT).status_code == 200
    assert api.get(f"/readers/{APPLICANT}").status_code == 200
    [approved] = events("reader_application.approved")
    assert (approved["user_id"], approved["decided_by"]) == (APPLICANT, ADMIN)
    [decision] = audit_records("reader_application", APPLICANT)
    assert (decision.actor_id, decision.action, decision.before.as_dict(), decision.after.as_dict()) == (
        ADMIN, "reader_application.approve", {"status": "pending"}, {"status": "approved"})
    [role_change] = audit_records("user", APPLICANT)
    assert (role_change.action, role_change.before.as_dict(), role_change.after.as_dict()) == (
        "user.role_change", {"role": "client"}, {"role": "reader"})
    assert role_change.request_id


def test_decline_needs_a_reason_and_tells_the_applicant(world):
    api = world
    apply(api, APPLICANT)
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 42}):
        response = api.post(f"/admin/reader-applications/{APPLICANT}/decline", as_user=ADMIN, json_body=bad)
        assert response.status_code == 400, bad
    assert stored(APPLICANT).status == "pending"

    response = api.post(f"/admin/reader-applications/{APPLICANT}/decline", as_user=ADMIN,
                        json_body={"reason": "Please add a longer bio."})
    assert response.status_code == 200
    mine = api.get("/reader-application", as_user=APPLICANT).json
    assert (mine["status"], mine["declineReason"]) == ("declined", "Please add a longer bio.")
    assert role_of(APPLICANT) == "client"
    [declined] = events("reader_application.declined")
    assert declined["reason"] == "Please add a longer bio."
    [record] = audit_records("reader_application", APPLICANT)
    assert record.action == "reader_application.decline" and record.after.as_dict()["declineReason"]


def test_a_declined_applicant_may_edit_and_resubmit(world):
    api = world
    apply(api, APPLICANT)
    api.post(f"/admin/reader-applications/{APPLICANT}/decline", as_user=ADMIN, json_body={"reason": "Longer bio"})
    edit = api.put("/reader-application", as_user=APPLICANT, json_body={"bio": "A much longer bio. " * 20})
    assert edit.status_code == 200
    assert edit.json["status"] == "declined" and edit.json["declineReason"] == "Longer bio"  # still visible

    again = api.post("/reader-application/submit", as_user=APPLICANT)
    assert again.status_code == 200
    assert again.json["status"] == "pending" and again.json["submissionCount"] == 2
    assert "declineReason" not in again.json
    assert [a["id"] for a in api.get("/admin/reader-applications", as_user=ADMIN).json["data"]] == [APPLICANT]


def test_an_admin_cannot_approve_their_own_application(world):
    _pending_application(ADMIN, "2030-01-01T00:00:00.000Z")
    for action, body in (("approve", None), ("decline", {"reason": "no"})):
        response = world.post(f"/admin/reader-applications/{ADMIN}/{action}", as_user=ADMIN, json_body=body)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "self_approval"
    assert stored(ADMIN).status == "pending"


def test_a_client_or_reader_or_the_applicant_cannot_approve(world, make_user):
    api = world
    become_reader(api, make_user, "user_luna")
    make_user("user_other_client")
    apply(api, APPLICANT)
    for caller in ("user_other_client", "user_luna", APPLICANT):
        response = api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user=caller)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden_role"
    assert stored(APPLICANT).status == "pending" and role_of(APPLICANT) == "client"


def test_deciding_a_draft_or_a_missing_application(world):
    api = world
    api.put("/reader-application", as_user=APPLICANT, json_body={"tagline": "draft"})
    draft = api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user=ADMIN)
    assert draft.status_code == 409 and draft.json["error"]["code"] == "application_not_pending"
    assert api.post("/admin/reader-applications/user_nobody/approve", as_user=ADMIN).status_code == 404


def test_a_second_decision_is_a_409(world):
    api = world
    apply(api, APPLICANT)
    assert api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user=ADMIN).status_code == 200
    late = api.post(f"/admin/reader-applications/{APPLICANT}/decline", as_user=ADMIN, json_body={"reason": "no"})
    assert late.status_code == 409
    assert stored(APPLICANT).status == "approved"
    assert len(events("reader_application.approved")) == 1 and events("reader_application.declined") == []


def test_racing_approve_and_decline_give_one_winner_and_a_409(world, make_user, monkeypatch):
    """The decline reads the pending application; the approval commits before the decline
    writes; the decline's conditional write fails and nothing of it remains."""
    from chalicelib.services import reader_applications

    api = world
    make_user("user_admin_2", role="admin")
    apply(api, APPLICANT)
    original = reader_applications._get
    raced: list[int] = []

    def read_then_lose_the_race(user_id):
        snapshot = original(user_id)
        if not raced:
            raced.append(0)  # the competing approval below reads through here too
            raced[0] = api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user="user_admin_2").status_code
        return snapshot

    monkeypatch.setattr(reader_applications, "_get", read_then_lose_the_race)
    loser = api.post(f"/admin/reader-applications/{APPLICANT}/decline", as_user=ADMIN, json_body={"reason": "no"})
    monkeypatch.setattr(reader_applications, "_get", original)

    assert (raced, loser.status_code) == ([200], 409)
    assert loser.json["error"]["code"] == "application_not_pending"
    assert stored(APPLICANT).status == "approved" and stored(APPLICANT).decline_reason is None
    assert len(events("reader_application.approved")) == 1 and events("reader_application.declined") == []
    assert [r.action for r in audit_records("reader_application", APPLICANT)] == ["reader_application.approve"]


@pytest.mark.parametrize("role", ["admin", "reader"])
def test_approval_is_all_or_nothing_when_the_role_condition_fails(world, role):
    """The applicant's role changed after submitting: the transaction is cancelled, the
    application stays pending, and no audit record or event exists."""
    from chalicelib.models.users import User

    api = world
    apply(api, APPLICANT)
    User(user_id=APPLICANT).update(actions=[User.role.set(role)])

    response = api.post(f"/admin/reader-applications/{APPLICANT}/approve", as_user=ADMIN)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "applicant_not_client"
    assert stored(APPLICANT).status == "pending" and stored(APPLICANT).decided_at is None
    assert role_of(APPLICANT) == role
    assert events("reader_application.approved") == []
    assert audit_records("reader_application", APPLICANT) == [] and audit_records("user", APPLICANT) == []
