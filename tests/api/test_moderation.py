"""Moderation over HTTP: contact details held from the public until a moderator approves them,
rules that refuse text outright, reports that queue content, and the admin's decisions that hide
it from every public read and bring it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.moderation import PHONE_STATUS
from tests.support.readings import MONDAY, book, make_client, make_reader, outbox_events

pytestmark = pytest.mark.usefixtures("default_catalog")

ADMIN, CLIENT, OTHER, READER = "user_mod_admin", "user_mod_client", "user_mod_other", "rdr"
CONTENT = "I keep meeting the same kind of partner and it never lasts. What am I missing?"


@pytest.fixture()
def people(make_user: Any) -> None:
    make_user(ADMIN, role="admin")
    make_client(CLIENT, 500)
    make_client(OTHER, 500)
    make_reader(READER)


def _queue(api: Any, **query: str) -> list[dict[str, Any]]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = api.get(f"/admin/moderation?{params}", as_user=ADMIN)
    assert response.status_code == 200, response.body
    return list(response.json_body["data"])


def _decide(api: Any, item_id: str, decision: str, notes: str | None = None) -> Any:
    body = {"decision": decision, **({"notes": notes} if notes else {})}
    return api.post(f"/admin/moderation/{item_id}/decide", as_user=ADMIN, json_body=body)


def _post_status(api: Any, client: str = CLIENT, content: str = CONTENT) -> Any:
    return api.post("/statuses", as_user=client, json_body={"content": content, "category": "love"})


def _feed_ids(api: Any) -> list[str]:
    response = api.get("/statuses?limit=50", as_user=READER)
    assert response.status_code == 200, response.body
    return [row["id"] for row in response.json_body["data"]]


def _report(api: Any, who: str, content_type: str, content_id: str, reason: str = "harassment", **extra: Any) -> Any:
    return api.post(
        "/reports",
        as_user=who,
        json_body={"contentType": content_type, "contentId": content_id, "reason": reason, **extra},
    )


def _reviewed(api: Any, comment: str, rating: int = 2) -> str:
    from chalicelib.services import readings

    reading = book(CLIENT, READER, now=MONDAY)
    rid = reading.reading_id
    readings.accept(rid, READER, "reader", now=MONDAY)
    readings.start(rid, READER, "reader", now=MONDAY + timedelta(minutes=1))
    readings.complete(rid, CLIENT, "client", now=MONDAY + timedelta(minutes=31))
    readings.review(rid, CLIENT, "client", rating=rating, comment=comment, now=MONDAY + timedelta(hours=1))
    return str(rid)


# --- contact details -----------------------------------------------------------------------------


def test_a_phone_number_in_a_reader_bio_waits_for_a_moderator_before_the_public_sees_it(api, people):
    bio = "Twenty years of tarot. Text me on 555 123 4567 and we skip the fees."
    patched = api.patch("/reader/profile", as_user=READER, json_body={"bio": bio, "tagline": "Honest tarot"})

    assert patched.status_code == 200, patched.body
    own = patched.json_body
    assert own["bio"] == bio and list(own["moderation"]) == ["bio"]  # the author still sees it, marked
    assert own["moderation"]["bio"]["state"] == "held"
    card = api.get(f"/readers/{READER}").json_body
    assert card.get("bio") is None and card["tagline"] == "Honest tarot"  # the rest of the card is unaffected
    [item] = _queue(api)
    assert (item["contentType"], item["contentId"], item["priority"], item["flaggedBy"], item["held"]) == (
        "profile",
        READER,
        "high",
        "auto",
        True,
    )
    assert [(f["field"], f["kind"]) for f in item["findings"]] == [("bio", "phone")]
    assert item["excerpts"]["bio"] == bio

    approved = _decide(api, item["id"], "approve", "A studio landline the reader may show.")

    assert approved.status_code == 200, approved.body
    assert approved.json_body["status"] == "approved" and approved.json_body["moderatorId"] == ADMIN
    assert api.get(f"/readers/{READER}").json_body["bio"] == bio
    assert "moderation" not in api.get("/reader/profile", as_user=READER).json_body
    assert _queue(api) == []
    # the reader is told, about their bio
    assert [(e["outcome"], e["fields"]) for e in outbox_events("moderation.decided")] == [("published", ["bio"])]


def test_a_held_display_name_keeps_the_approved_one_public_and_a_clean_edit_replaces_both(api, people):
    held = api.patch("/reader/profile", as_user=READER, json_body={"displayName": "Luna luna.star@gmail.com"})
    assert held.status_code == 200, held.body
    assert held.json_body["displayName"] == "Luna luna.star@gmail.com"

    card = api.get(f"/readers/{READER}")
    assert card.status_code == 200 and card.json_body["displayName"] == "Rdr Reader"

    api.patch("/reader/profile", as_user=READER, json_body={"displayName": "Luna Star"})
    card = api.get(f"/readers/{READER}")
    assert card.status_code == 200 and card.json_body["displayName"] == "Luna Star"
    assert "moderation" not in api.get("/reader/profile", as_user=READER).json_body


OLD_BIO = "Tarot and tea leaves, read plainly and kindly."
NEW_BIO = "Tarot and tea leaves. Call me on 555 123 4567 for a private reading."


def _held_bio_edit(api: Any) -> str:
    """The reader's approved bio, then an edit moderation holds; returns the item's id."""
    from chalicelib.services.explore import store

    assert api.patch("/reader/profile", as_user=READER, json_body={"bio": OLD_BIO}).status_code == 200
    edited = api.patch("/reader/profile", as_user=READER, json_body={"bio": NEW_BIO})
    assert edited.status_code == 200, edited.body
    assert edited.json_body["bio"] == NEW_BIO and edited.json_body["moderation"]["bio"]["state"] == "held"
    assert api.get(f"/readers/{READER}").json_body["bio"] == OLD_BIO
    store.rebuild()
    assert _explore_card(api)["bio"] == OLD_BIO
    [item] = _queue(api)
    return str(item["id"])


def _explore_card(api: Any) -> dict[str, Any]:
    from chalicelib.services.explore import store

    store.rebuild()
    return next(card for card in api.get("/readers?limit=50").json_body["data"] if card["id"] == READER)


def test_a_held_bio_edit_keeps_the_approved_bio_public_until_approved(api, people):
    item_id = _held_bio_edit(api)
    own = api.get("/reader/profile", as_user=READER).json_body
    assert own["bio"] == NEW_BIO and own["moderation"]["bio"]["state"] == "held"

    assert _decide(api, item_id, "approve").status_code == 200

    assert api.get(f"/readers/{READER}").json_body["bio"] == NEW_BIO
    assert _explore_card(api)["bio"] == NEW_BIO
    own = api.get("/reader/profile", as_user=READER).json_body
    assert own["bio"] == NEW_BIO and "moderation" not in own


def test_a_rejected_bio_edit_leaves_the_approved_bio_public_and_the_reader_sees_theirs_hidden(api, people):
    item_id = _held_bio_edit(api)

    assert _decide(api, item_id, "reject").status_code == 200

    assert api.get(f"/readers/{READER}").json_body["bio"] == OLD_BIO
    assert _explore_card(api)["bio"] == OLD_BIO
    own = api.get("/reader/profile", as_user=READER).json_body
    assert own["bio"] == NEW_BIO and own["moderation"]["bio"]["state"] == "hidden"
    # the rejected text sent again stays hidden; a new clean text replaces both
    again = api.patch("/reader/profile", as_user=READER, json_body={"bio": NEW_BIO})
    assert again.json_body["moderation"]["bio"]["state"] == "hidden"
    assert api.get(f"/readers/{READER}").json_body["bio"] == OLD_BIO
    fresh = "Tarot, tea leaves and a quiet hour."
    assert "moderation" not in api.patch("/reader/profile", as_user=READER, json_body={"bio": fresh}).json_body
    assert api.get(f"/readers/{READER}").json_body["bio"] == fresh
    # a decision taken back: the rejected item approved publishes nothing now (its text is gone)
    assert _decide(api, item_id, "approve").status_code == 200
    assert api.get(f"/readers/{READER}").json_body["bio"] == fresh


def test_a_rejected_edit_approved_after_all_becomes_public(api, people):
    item_id = _held_bio_edit(api)
    assert _decide(api, item_id, "reject").status_code == 200

    assert _decide(api, item_id, "approve").status_code == 200

    assert api.get(f"/readers/{READER}").json_body["bio"] == NEW_BIO
    assert "moderation" not in api.get("/reader/profile", as_user=READER).json_body


def test_a_held_edit_of_a_hidden_bio_does_not_bring_the_hidden_text_back(api, people):
    assert api.patch("/reader/profile", as_user=READER, json_body={"bio": OLD_BIO}).status_code == 200
    assert _report(api, CLIENT, "profile", READER, reason="false_claims").status_code == 201
    [report] = _queue(api)
    assert _decide(api, report["id"], "reject").status_code == 200
    assert api.get(f"/readers/{READER}").status_code == 404  # the display name was reported too

    api.patch("/reader/profile", as_user=READER, json_body={"displayName": "Rdr Reader Two", "bio": NEW_BIO})

    card = api.get(f"/readers/{READER}").json_body
    assert card["displayName"] == "Rdr Reader Two" and card.get("bio") is None
    own = api.get("/reader/profile", as_user=READER).json_body
    assert own["bio"] == NEW_BIO and own["moderation"]["bio"]["state"] == "held"


def test_a_status_with_contact_details_stays_out_of_the_feed_until_approved(api, people):
    posted = _post_status(api, content=PHONE_STATUS)

    assert posted.status_code == 201, posted.body
    status_id = posted.json_body["id"]
    assert posted.json_body["moderation"]["state"] == "held"
    assert status_id not in _feed_ids(api)
    assert api.get(f"/statuses/{status_id}", as_user=READER).status_code == 404
    assert outbox_events("status.posted")[0]["excerpt"] is None  # no reader is told the number either
    [item] = _queue(api, priority="high")

    assert _decide(api, item["id"], "approve").status_code == 200

    assert status_id in _feed_ids(api)
    assert "moderation" not in api.get(f"/statuses/{status_id}", as_user=CLIENT).json_body


# --- rules ----------------------------------------------------------------------------------------


def test_a_keyword_rule_refuses_a_status_with_a_sentence_and_stores_nothing(api, people):
    rule = api.post(
        "/admin/moderation-rules",
        as_user=ADMIN,
        json_body={
            "name": "Curse removal",
            "description": "No paid curse removal offers.",
            "contentType": "status",
            "conditions": {"keywords": ["curse removal"]},
            "action": "auto_reject",
        },
    )
    assert rule.status_code == 201, rule.body

    refused = _post_status(api, content="Who offers CURSE  removal? My ex hexed me and nothing works anymore.")

    assert refused.status_code == 422
    error = refused.json_body["error"]
    assert error["code"] == "content_rejected"
    [field] = error["details"]["fields"]
    assert field["path"] == "content" and "\u201ccurse removal\u201d" in field["message"]
    assert field["message"].endswith(".")
    assert api.get("/statuses/mine", as_user=CLIENT).json_body["data"] == []
    assert _queue(api) == [] and outbox_events("status.posted") == []


def test_rules_are_edited_turned_off_and_deleted_by_admins_and_audited(api, people):
    created = api.post(
        "/admin/moderation-rules",
        as_user=ADMIN,
        json_body={
            "name": "Guarantees",
            "contentType": "any",
            "conditions": {"keywords": ["guaranteed"]},
            "action": "flag",
            "flaggedReason": "false_claims",
        },
    )
    rule_id = created.json_body["id"]
    assert created.headers["Location"] == f"/admin/moderation-rules/{rule_id}"
    flagged = _post_status(api, content="Is a guaranteed reunion spell real? I need to know before I pay anyone.")
    assert flagged.status_code == 201 and "moderation" not in flagged.json_body  # a flag keeps it visible
    assert flagged.json_body["id"] in _feed_ids(api)
    [item] = _queue(api, status="pending", priority="medium")
    assert (item["flaggedReason"], item["findings"][0]["ruleId"]) == ("false_claims", rule_id)

    off = api.patch(f"/admin/moderation-rules/{rule_id}", as_user=ADMIN, json_body={"isActive": False})
    assert off.status_code == 200 and off.json_body["isActive"] is False and off.json_body["version"] == 2
    assert _post_status(api, OTHER, content="A guaranteed answer would be nice, is that too much?").status_code == 201
    assert len(_queue(api)) == 1  # the inactive rule flagged nothing

    assert api.delete(f"/admin/moderation-rules/{rule_id}", as_user=ADMIN).status_code == 200
    assert api.get(f"/admin/moderation-rules/{rule_id}", as_user=ADMIN).status_code == 404
    log = api.get(f"/admin/audit-log?entityType=moderation_rule&entityId={rule_id}", as_user=ADMIN).json_body["data"]
    assert [entry["action"] for entry in log] == [
        "moderation_rule.deleted",
        "moderation_rule.updated",
        "moderation_rule.created",
    ]


def test_a_rule_needs_a_condition(api, people):
    response = api.post(
        "/admin/moderation-rules",
        as_user=ADMIN,
        json_body={"name": "Everything", "contentType": "any", "conditions": {}, "action": "auto_approve"},
    )

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["fields"][0]["path"] == "conditions"


# --- reports and decisions ---------------------------------------------------------------------------


def test_a_reported_status_is_hidden_from_the_feed_by_a_reject_and_back_on_approve(api, people):
    status_id = _post_status(api).json_body["id"]
    reported = _report(api, READER, "status", status_id, reason="spam", note="Looks copied from elsewhere.")

    assert reported.status_code == 201, reported.body
    assert status_id in _feed_ids(api)  # a report alone hides nothing
    [item] = _queue(api)
    assert (item["flaggedBy"], item["flaggedById"], item["reportCount"], item["priority"]) == ("user", READER, 1, "low")
    assert item["reports"][0]["note"] == "Looks copied from elsewhere."

    rejected = _decide(api, item["id"], "reject", "Spam.")

    assert rejected.status_code == 200 and rejected.json_body["status"] == "rejected"
    assert status_id not in _feed_ids(api)
    assert api.get(f"/statuses/{status_id}", as_user=READER).status_code == 404
    own = api.get(f"/statuses/{status_id}", as_user=CLIENT).json_body
    assert own["moderation"]["state"] == "hidden" and own["content"] == CONTENT
    assert _queue(api, status="rejected")[0]["id"] == item["id"]

    assert _decide(api, item["id"], "approve").status_code == 200  # restore
    assert status_id in _feed_ids(api)
    log = api.get(f"/admin/audit-log?entityType=moderation_item&entityId={item['id']}", as_user=ADMIN)
    assert [e["action"] for e in log.json_body["data"]] == ["moderation.approve", "moderation.reject"]
    assert [e["outcome"] for e in outbox_events("moderation.decided")] == ["hidden", "published"]


def test_a_rejected_review_leaves_the_readers_reviews_and_rating_and_comes_back(api, people):
    rid = _reviewed(api, "This reader is a fraud and a liar, avoid.", rating=1)
    assert api.get(f"/readers/{READER}").json_body["ratingCount"] == 1
    assert _report(api, READER, "review", rid, reason="harassment").status_code == 201
    [item] = _queue(api, priority="high")  # harassment: high from the first report

    assert _decide(api, item["id"], "reject").status_code == 200

    assert api.get(f"/readers/{READER}/reviews").json_body["data"] == []
    assert api.get(f"/readers/{READER}/reviews").json_body["pagination"]["total"] == 0
    card = api.get(f"/readers/{READER}").json_body
    assert (card["ratingCount"], card["ratingAverage"], card["reviews"]) == (0, None, [])
    as_reader = api.get(f"/readings/{rid}", as_user=READER).json_body["review"]
    assert as_reader["rating"] == 1 and as_reader["comment"] == "" and "moderation" not in as_reader
    as_client = api.get(f"/readings/{rid}", as_user=CLIENT).json_body["review"]
    assert as_client["comment"].startswith("This reader") and as_client["moderation"]["state"] == "hidden"

    assert _decide(api, item["id"], "approve").status_code == 200

    reviews = api.get(f"/readers/{READER}/reviews").json_body["data"]
    assert [(r["readingId"], r["rating"]) for r in reviews] == [(rid, 1)]
    card = api.get(f"/readers/{READER}").json_body
    assert (card["ratingCount"], card["ratingAverage"], [r["id"] for r in card["reviews"]]) == (1, 1.0, [rid])


def test_a_review_with_an_email_is_held_out_of_the_rating_until_approved(api, people):
    rid = _reviewed(api, "Great! Write to me at clara dot n at gmail dot com", rating=5)

    assert api.get(f"/readers/{READER}/reviews").json_body["data"] == []
    assert api.get(f"/readers/{READER}").json_body["ratingCount"] == 0
    [item] = _queue(api)
    assert _decide(api, item["id"], "approve").status_code == 200
    assert [r["readingId"] for r in api.get(f"/readers/{READER}/reviews").json_body["data"]] == [rid]
    assert api.get(f"/readers/{READER}").json_body["ratingAverage"] == 5.0


def test_a_suggestion_is_reported_by_its_client_and_a_reject_takes_it_from_them(api, people):
    status_id = _post_status(api).json_body["id"]
    suggested = api.post(
        f"/statuses/{status_id}/suggestions",
        as_user=READER,
        json_body={
            "title": "Three-card spread",
            "description": "The pattern, its root and the way out.",
            "suggestedType": "phone_call",
            "estimatedDuration": 30,
        },
    )
    suggestion_id = suggested.json_body["id"]

    missing_status = _report(api, CLIENT, "suggestion", suggestion_id)
    reported = _report(api, CLIENT, "suggestion", suggestion_id, statusId=status_id)

    assert missing_status.status_code == 400
    assert reported.status_code == 201, reported.body
    [item] = _queue(api)
    assert _decide(api, item["id"], "reject").status_code == 200
    assert api.get(f"/statuses/{status_id}", as_user=CLIENT).json_body["suggestedReadings"] == []
    accept = api.post(f"/statuses/{status_id}/suggestions/{suggestion_id}/accept", as_user=CLIENT, json_body={})
    assert accept.status_code == 404
    own = api.get(f"/statuses/{status_id}", as_user=READER).json_body["suggestedReadings"]
    assert own[0]["moderation"]["state"] == "hidden"


def test_more_reports_raise_the_priority_and_each_user_reports_once(api, people, make_user):
    status_id = _post_status(api).json_body["id"]
    reporters = [f"rdr_{n}" for n in range(3)]
    for reporter in reporters:
        make_reader(reporter)

    answers = [_report(api, reporter, "status", status_id, reason="spam").status_code for reporter in reporters]
    again = _report(api, reporters[0], "status", status_id, reason="other")

    assert answers == [201, 201, 201]
    assert (again.status_code, again.json_body["error"]["code"]) == (409, "already_reported")
    [item] = _queue(api)
    assert (item["reportCount"], item["priority"]) == (3, "high")


def test_nobody_reports_their_own_content_or_content_they_cannot_see(api, people):
    status_id = _post_status(api).json_body["id"]

    own = _report(api, CLIENT, "status", status_id)
    unseen = _report(api, OTHER, "status", status_id)  # a client never sees another client's status
    unknown = _report(api, READER, "review", "rdg_nope")

    assert (own.status_code, own.json_body["error"]["code"]) == (422, "own_content")
    assert unseen.status_code == 404 and unknown.status_code == 404
    assert _queue(api) == []


def test_a_decision_is_taken_once_and_on_the_latest_item_only(api, people):
    status_id = _post_status(api, content=PHONE_STATUS).json_body["id"]
    [item] = _queue(api)

    escalated = _decide(api, item["id"], "escalate")
    assert (escalated.json_body["status"], escalated.json_body["priority"]) == ("escalated", "urgent")
    assert _queue(api, status="escalated")[0]["id"] == item["id"]
    assert _decide(api, item["id"], "approve").status_code == 200
    twice = _decide(api, item["id"], "approve")
    assert (twice.status_code, twice.json_body["error"]["code"]) == (409, "already_decided")

    assert _report(api, READER, "status", status_id).status_code == 201  # a new item for the same status
    stale = _decide(api, item["id"], "reject")
    assert (stale.status_code, stale.json_body["error"]["code"]) == (409, "superseded")
    assert (
        api.post("/admin/moderation/mod_nope/decide", as_user=ADMIN, json_body={"decision": "reject"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/moderation"),
        ("POST", "/admin/moderation/mod_x/decide"),
        ("GET", "/admin/moderation-rules"),
        ("POST", "/admin/moderation-rules"),
        ("PATCH", "/admin/moderation-rules/mrl_x"),
        ("DELETE", "/admin/moderation-rules/mrl_x"),
    ],
)
def test_only_admins_moderate(api, people, method, path):
    for who in (CLIENT, READER):
        assert api.request(method, path, as_user=who, json_body={}).status_code == 403


# --- edits, applications, explore -------------------------------------------------------------------


def test_new_text_replaces_what_was_held_but_the_rejected_text_sent_again_stays_hidden(api, people):
    status_id = _post_status(api, content=PHONE_STATUS).json_body["id"]
    [item] = _queue(api)

    cleaned = api.patch(f"/statuses/{status_id}", as_user=CLIENT, json_body={"content": CONTENT})
    assert cleaned.status_code == 200 and "moderation" not in cleaned.json_body
    assert status_id in _feed_ids(api)

    assert _decide(api, item["id"], "reject").status_code == 200  # decisions apply to the status as it is
    assert status_id not in _feed_ids(api)
    again = api.patch(f"/statuses/{status_id}", as_user=CLIENT, json_body={"content": CONTENT, "mood": "hopeful"})
    assert again.json_body["moderation"]["state"] == "hidden" and status_id not in _feed_ids(api)


def test_an_edit_racing_a_moderators_hide_is_a_409_and_the_status_stays_hidden(api, people, monkeypatch):
    """The edit reads the status, a moderator hides it (the version does not move), then the
    edit writes: its feed key was worked out from the unhidden status, so it must not land."""
    from chalicelib.services.statuses import posting

    status_id = _post_status(api).json_body["id"]
    assert _report(api, READER, "status", status_id, reason="spam").status_code == 201
    [item] = _queue(api)
    real_owned = posting.owned
    hidden: list[Any] = []

    def read_then_get_hidden(status_id: str, client_id: str) -> Any:
        status = real_owned(status_id, client_id)
        if not hidden:
            hidden.append(_decide(api, item["id"], "reject"))
        return status

    monkeypatch.setattr(posting, "owned", read_then_get_hidden)
    edited = api.patch(f"/statuses/{status_id}", as_user=CLIENT, json_body={"category": "career"})

    assert hidden[0].status_code == 200, hidden[0].body
    assert edited.status_code == 409 and edited.json_body["error"]["code"] == "moderation_changed", edited.body
    assert edited.json_body["error"]["message"].startswith("A moderator reviewed this status")
    assert status_id not in _feed_ids(api)
    own = api.get(f"/statuses/{status_id}", as_user=CLIENT).json_body
    assert (own["category"], own["moderation"]["state"]) == ("love", "hidden")
    monkeypatch.undo()
    again = api.patch(f"/statuses/{status_id}", as_user=CLIENT, json_body={"category": "career"})
    assert again.status_code == 200 and again.json_body["moderation"]["state"] == "hidden"
    assert status_id not in _feed_ids(api)


def test_an_application_with_a_handle_in_its_bio_becomes_a_card_without_it(api, people, make_user):
    from chalicelib.services.explore import store
    from tests.api.test_reader_applications import become_reader

    bio = "Intuitive tarot for twenty years. Find me on Instagram and book me there for less."
    become_reader(api, make_user, "applicant", admin_id=ADMIN, bio=bio)

    assert api.get("/reader-application", as_user="applicant").json_body["bio"] == bio
    assert api.get("/readers/applicant").json_body.get("bio") is None
    store.rebuild()
    cards = {card["id"]: card for card in api.get("/readers?limit=50").json_body["data"]}
    assert "applicant" in cards and cards["applicant"].get("bio") is None
    [item] = _queue(api)
    assert (item["contentType"], item["fields"], item["findings"][0]["kind"]) == ("profile", ["bio"], "messaging")


def test_a_rejected_profile_report_withholds_the_card_until_approved(api, people):
    assert _report(api, CLIENT, "profile", READER, reason="false_claims", note="Promises cures.").status_code == 201
    [item] = _queue(api, priority="medium")
    assert item["fields"] == ["bio", "displayName", "location", "tagline"]

    assert _decide(api, item["id"], "reject").status_code == 200
    assert api.get(f"/readers/{READER}").status_code == 404
    own = api.get("/reader/profile", as_user=READER).json_body
    assert own["moderation"]["displayName"]["state"] == "hidden"

    assert _decide(api, item["id"], "approve").status_code == 200
    assert api.get(f"/readers/{READER}").status_code == 200
