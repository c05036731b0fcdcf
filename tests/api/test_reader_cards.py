"""The public card tells the truth: live counters and the completion rate (kept by event
consumers, once per event), recent reviews with first names (scrubbed when the client's
account is deleted), the reader's profile visibility, no card for a suspended or deleted
reader, and a ``reader.card_changed`` event committed with every change of a card."""

from __future__ import annotations

import pytest

from tests.support.readings import make_client, make_reader, outbox_events

pytestmark = pytest.mark.usefixtures("default_catalog")


def _call(api, client="cli", reader="rdr", *, key):
    created = api.post("/readings", as_user=client, headers={"Idempotency-Key": key}, json_body={
        "readerId": reader, "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
        "question": "Will it work out?"})
    assert created.status_code == 201, created.body
    return created.json_body["id"]


def _complete(api, rid, reader="rdr"):
    for step in ("accept", "start", "complete"):
        assert api.post(f"/readings/{rid}/{step}", as_user=reader).status_code == 200


def test_completing_readings_moves_the_cards_counters_and_completion_rate(api, drain):
    make_client("cli", 500)
    make_reader("rdr")
    _complete(api, _call(api, key="a"))
    _complete(api, _call(api, key="b"))
    accepted_only = _call(api, key="c")
    assert api.post(f"/readings/{accepted_only}/accept", as_user="rdr").status_code == 200
    declined = _call(api, key="d")
    assert api.post(f"/readings/{declined}/decline", as_user="rdr", json_body={"reason": "Not today"}).status_code \
        == 200

    before = api.get("/readers/rdr").json_body
    assert (before["totalReadings"], before["stats"]["completionRate"]) == (0, None)  # counted by consumers
    drain()

    card = api.get("/readers/rdr").json_body
    assert card["totalReadings"] == card["stats"]["totalReadings"] == 2
    assert card["stats"]["completionRate"] == 66.7  # 2 completed of 3 accepted
    own = api.get("/reader/profile", as_user="rdr").json_body
    assert (own["totalReadings"], own["stats"]["completionRate"]) == (2, 66.7)


def test_an_unrated_reader_shows_null_until_the_first_review_and_completion_then_numbers(api, drain):
    make_client("cli", 500)
    make_reader("rdr")
    rid = _call(api, key="a")
    assert api.post(f"/readings/{rid}/accept", as_user="rdr").status_code == 200
    drain()

    card = api.get("/readers/rdr").json_body  # accepted, nothing finished, nobody rated: no data, not 0
    assert (card["ratingAverage"], card["ratingCount"]) == (None, 0)
    assert card["stats"] == {"totalReadings": 0, "averageRating": None, "completionRate": None}
    own = api.get("/reader/profile", as_user="rdr").json_body
    assert (own["ratingAverage"], own["stats"]["averageRating"], own["stats"]["completionRate"]) == (None, None, None)

    for step in ("start", "complete"):
        assert api.post(f"/readings/{rid}/{step}", as_user="rdr").status_code == 200
    assert api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": 4}).status_code == 201
    drain()

    card = api.get("/readers/rdr").json_body
    assert (card["ratingAverage"], card["ratingCount"]) == (4, 1)
    assert card["stats"] == {"totalReadings": 1, "averageRating": 4, "completionRate": 100}
    own = api.get("/reader/profile", as_user="rdr").json_body
    assert (own["ratingAverage"], own["stats"]["averageRating"], own["stats"]["completionRate"]) == (4, 4, 100)


def test_a_redelivered_event_changes_no_counter_and_no_profile_version(api, drain):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import events

    make_client("cli", 500)
    make_reader("rdr")
    _complete(api, _call(api, key="a"))
    version = ReaderProfile.get("rdr", consistent_read=True).version
    delivered = drain()
    for message in delivered:  # SQS delivers at least once: everything again
        events.dispatch(message)

    profile = ReaderProfile.get("rdr", consistent_read=True)
    assert (profile.accepted_count, profile.completed_count, profile.total_readings) == (1, 1, 1)
    assert profile.version == version  # counters never make a concurrent edit or review retry


AT = "2026-11-02T10:00:00.000Z"  # every relayed event carries its time


def test_every_step_that_pays_the_reader_counts_as_completed_and_a_refunded_no_show_does_not(api):
    from chalicelib.services import events, reader_stats

    make_reader("rdr")
    assert set(reader_stats.COMPLETING_EVENTS) == {"reading.completed", "reading.delivered", "reading.no_show"}
    messages = [
        {"eventId": "e1", "occurredAt": AT, "type": "reading.accepted",
         "data": {"readerId": "rdr", "readingId": "r1"}},
        {"eventId": "e2", "occurredAt": AT, "type": "reading.delivered",
         "data": {"readerId": "rdr", "readingId": "r1", "paid": 32}},
        {"eventId": "e3", "occurredAt": AT, "type": "reading.accepted",
         "data": {"readerId": "rdr", "readingId": "r2"}},
        {"eventId": "e4", "occurredAt": AT, "type": "reading.no_show",
         "data": {"readerId": "rdr", "readingId": "r2", "paid": 48}},
        {"eventId": "e5", "occurredAt": AT, "type": "reading.accepted",
         "data": {"readerId": "rdr", "readingId": "r3"}},
        {"eventId": "e6", "occurredAt": AT, "type": "reading.no_show",
         "data": {"readerId": "rdr", "readingId": "r3", "refunded": 60}},
    ]
    for message in messages:
        events.dispatch(message)
    card = api.get("/readers/rdr").json_body
    assert (card["totalReadings"], card["stats"]["completionRate"]) == (2, 66.7)


def test_an_event_for_a_reader_without_a_profile_is_recorded_and_creates_nothing(api):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import reader_stats

    assert reader_stats.count("e1", "ghost", accepted=1) is False
    assert reader_stats.count("e1", "ghost", accepted=1) is False
    with pytest.raises(ReaderProfile.DoesNotExist):
        ReaderProfile.get("ghost", consistent_read=True)


def test_reviews_show_on_the_card_with_first_names_and_a_deleted_client_becomes_former_client(api, drain):
    from chalicelib.models.base import utcnow
    from chalicelib.services import clerk_sync

    make_client("cli", 500)
    make_reader("rdr")
    rid = _call(api, key="a")
    _complete(api, rid)
    assert api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": 5, "comment": "Spot on"}) \
        .status_code == 201
    card = api.get("/readers/rdr").json_body
    assert [(r["rating"], r["comment"], r["clientName"]) for r in card["reviews"]] == [(5, "Spot on", "Cli")]

    assert clerk_sync.delete_user("cli", now=utcnow())
    drain()

    card = api.get("/readers/rdr").json_body
    assert [(r["rating"], r["comment"], r["clientName"]) for r in card["reviews"]] == \
        [(5, "Spot on", "Former client")]
    listed = api.get("/readers/rdr/reviews").json_body["data"]
    assert [r.get("clientName") for r in listed] == ["Former client"]


def _set_privacy(user_id, **privacy):
    from chalicelib.models.users import User

    User(user_id=user_id).update(actions=[User.preferences.set({"privacy": privacy})])


def test_a_private_profile_has_no_public_card_for_anyone(api, make_user):
    make_reader("rdr")
    make_user("other_reader", role="reader")
    make_user("adm", role="admin")
    _set_privacy("rdr", profileVisibility="private")

    assert {who: api.get("/readers/rdr", **({"as_user": who} if who else {})).status_code
            for who in (None, "rdr", "other_reader", "adm")} == {None: 404, "rdr": 404, "other_reader": 404,
                                                                 "adm": 404}
    assert api.get("/reader/profile", as_user="rdr").status_code == 200  # the reader still sees their own


def test_a_readers_only_card_is_shown_to_signed_in_readers_and_admins_only(api, make_user):
    make_reader("rdr")
    make_client("cli")
    make_user("other_reader", role="reader")
    make_user("adm", role="admin")
    _set_privacy("rdr", profileVisibility="readers_only")

    statuses = {who: api.get("/readers/rdr", **({"as_user": who} if who else {})).status_code
                for who in (None, "cli", "other_reader", "adm")}
    assert statuses == {None: 404, "cli": 404, "other_reader": 200, "adm": 200}
    assert api.get("/readers/rdr", as_user="adm").json_body["visibility"] == "readers_only"


def test_an_answer_for_a_signed_in_caller_is_never_shared_and_a_bad_token_is_a_401(api):
    make_reader("rdr")
    make_client("cli")

    anonymous = api.get("/readers/rdr")
    signed_in = api.get("/readers/rdr", as_user="cli")
    assert anonymous.headers["Cache-Control"] == "public, max-age=60"
    assert signed_in.headers["Cache-Control"] == "private, no-store"
    assert anonymous.headers["Vary"] == "Authorization"
    bad = api.get("/readers/rdr", token="not-a-jwt")
    assert bad.status_code == 401 and bad.json_body["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("how", ["suspended", "deleted"])
def test_a_suspended_or_deleted_reader_has_no_card(api, how):
    from chalicelib.models.base import utcnow
    from chalicelib.models.users import User
    from chalicelib.services import clerk_sync

    make_reader("rdr")
    assert api.get("/readers/rdr").status_code == 200
    if how == "suspended":
        User(user_id="rdr").update(actions=[User.status.set("suspended")])
    else:
        assert clerk_sync.delete_user("rdr", now=utcnow())
    assert api.get("/readers/rdr").status_code == 404


def test_every_change_of_a_card_commits_a_card_changed_event(api):
    make_reader("rdr")
    changes = [
        ("patch", "/reader/profile", {"tagline": "Clear answers"}, "profile"),
        ("put", "/reader/reading-options", {"readingOptions": [
            {"type": "phone_call", "name": "Call", "description": "", "duration": 30, "price": 60,
             "isActive": True}]}, "reading_options"),
        ("put", "/reader/availability", {"timezone": "UTC", "instantBooking": False, "schedule": {}},
         "availability"),
    ]
    for method, path, body, _ in changes:
        response = api.request(method.upper(), path, as_user="rdr", json_body=body)
        assert response.status_code == 200, (path, response.body)
    assert [(e["readerId"], e["reason"]) for e in outbox_events("reader.card_changed")] == \
        [("rdr", reason) for *_, reason in changes]


def test_a_refused_change_commits_no_event_and_says_why(api):
    from chalicelib.models.readers import ReaderProfile

    make_reader("rdr")
    ReaderProfile.get("rdr").update(actions=[ReaderProfile.status.set("suspended")])
    response = api.patch("/reader/profile", as_user="rdr", json_body={"tagline": "Clear answers"})
    assert response.status_code == 403 and response.json_body["error"]["code"] == "reader_profile_not_active"
    assert outbox_events("reader.card_changed") == []


def test_a_reader_making_their_profile_private_through_preferences_hides_the_card_with_an_event(api):
    make_reader("rdr")
    make_client("cli")
    saved = api.put("/me/preferences", as_user="rdr", json_body={"privacy": {"profileVisibility": "private"}})
    assert saved.status_code == 200, saved.body
    assert saved.json_body["version"] == 1 and saved.json_body["privacy"]["profileVisibility"] == "private"
    assert api.get("/readers/rdr").status_code == 404
    assert [(e["readerId"], e["reason"]) for e in outbox_events("reader.card_changed")] == [("rdr", "preferences")]

    again = api.put("/me/preferences", as_user="rdr", json_body={"version": 1, "privacy": {"showOnlineStatus": False}})
    assert again.status_code == 200 and again.json_body["version"] == 2
    card = api.get("/readers/rdr").json_body
    assert card["isOnline"] is False and "lastActive" not in card
    stale = api.put("/me/preferences", as_user="rdr", json_body={"version": 1})
    assert stale.status_code == 409 and stale.json_body["error"]["code"] == "version_conflict"
    assert len(outbox_events("reader.card_changed")) == 2  # a refused save emits nothing

    assert api.put("/me/preferences", as_user="cli", json_body={"theme": "dark"}).status_code == 200
    assert len(outbox_events("reader.card_changed")) == 2  # a client has no card
