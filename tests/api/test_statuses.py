"""Client statuses and suggested readings over HTTP: posting and its limits, who sees what,
the readers' feed (matching specialties first), suggesting (price rules, once per status),
accepting into a reading (one transaction, once), closing, withdrawing and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.report import report
from tests.support.readings import balance, make_client, make_reader, outbox_events, race, status_of

pytestmark = pytest.mark.usefixtures("default_catalog")

CALL = 57  # the reader's 30-minute call: 60 credits / 30 min x 30 min x 0.95 (the 30-min time span)
CONTENT = "I keep meeting the same kind of partner and it never lasts. What am I missing?"


def _reader(user_id: str, *, abilities: tuple[str, ...] = (), tools: tuple[str, ...] = (), **kwargs: Any) -> Any:
    profile = make_reader(user_id, **kwargs)
    profile.update(actions=[type(profile).attributes.set({"abilities": list(abilities), "tools": list(tools)})])
    return profile


def _post(api, client: str, *, category: str = "love", content: str = CONTENT, **extra: Any):
    return api.post("/statuses", as_user=client, json_body={"content": content, "category": category, **extra})


def _posted(api, client: str, **kwargs: Any) -> str:
    response = _post(api, client, **kwargs)
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def _suggestion(**overrides: Any) -> dict[str, Any]:
    return {"title": "Three-card relationship spread", "description": "The pattern, its root and the way out.",
            "suggestedType": "phone_call", "estimatedDuration": 30, "message": "I read for this question often.",
            **overrides}


def _suggest(api, reader: str, status_id: str, **overrides: Any):
    return api.post(f"/statuses/{status_id}/suggestions", as_user=reader, json_body=_suggestion(**overrides))


def _suggested(api, reader: str, status_id: str, **overrides: Any) -> str:
    response = _suggest(api, reader, status_id, **overrides)
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def _accept(api, client: str, status_id: str, suggestion_id: str, **body: Any):
    return api.post(f"/statuses/{status_id}/suggestions/{suggestion_id}/accept", as_user=client, json_body=body)


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json_body["error"]["code"]


def _stored(status_id: str) -> Any:
    from chalicelib.models.statuses import Status

    return Status.get(status_id, consistent_read=True)


# --- posting ------------------------------------------------------------------------------------

def test_a_client_posts_a_status_and_finds_it_among_their_own(api):
    make_client("cli")
    response = _post(api, "cli", mood="hopeful")

    assert response.status_code == 201, response.body
    body = response.json_body
    assert response.headers["Location"] == f"/statuses/{body['id']}"
    assert {k: body[k] for k in ("userId", "content", "mood", "category", "categoryName", "isActive", "state",
                                 "suggestedReadings", "suggestionCount")} == {
        "userId": "cli", "content": CONTENT, "mood": "hopeful", "category": "love", "categoryName": "Love",
        "isActive": True, "state": "active", "suggestedReadings": [], "suggestionCount": 0}
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00")) - created == timedelta(days=7)
    mine = api.get("/statuses/mine", as_user="cli").json_body
    assert [s["id"] for s in mine["data"]] == [body["id"]]
    assert mine["pagination"]["hasNext"] is False


def test_a_fourth_active_status_is_refused_until_one_is_closed(api):
    make_client("cli")
    first = _posted(api, "cli")
    _posted(api, "cli", category="career", content="Should I take the job offer abroad or stay?")
    _posted(api, "cli", category="spiritual", content="I dream of my late grandmother every night.")

    refused = _post(api, "cli", category="general", content="What does next year hold for me?")
    assert _error(refused) == (422, "too_many_active_statuses")
    assert "close one" in refused.json_body["error"]["message"]
    assert len(api.get("/statuses/mine", as_user="cli").json_body["data"]) == 3

    closed = api.post(f"/statuses/{first}/close", as_user="cli")
    assert closed.status_code == 200 and closed.json_body["state"] == "closed"
    assert _post(api, "cli", category="general", content="What does next year hold for me?").status_code == 201


def test_bad_statuses_are_400s_that_store_nothing(api):
    make_client("cli")
    assert _post(api, "cli", category="weather").status_code == 400
    assert _post(api, "cli", content="short").status_code == 400
    assert _post(api, "cli", content="x" * 1001).status_code == 400
    assert api.post("/statuses", as_user="cli", json_body={"content": CONTENT, "category": "love",
                                                           "userId": "someone_else"}).status_code == 400
    assert api.get("/statuses/mine", as_user="cli").json_body["data"] == []


def test_another_client_cannot_see_edit_close_or_accept_a_status(api):
    make_client("cli", 500)
    make_client("other", 500)
    _reader("rdr")
    status_id = _posted(api, "cli")
    suggestion = _suggested(api, "rdr", status_id)

    assert _error(api.get(f"/statuses/{status_id}", as_user="other")) == (404, "not_found")
    assert _error(api.patch(f"/statuses/{status_id}", as_user="other", json_body={"mood": "x"})) == (404, "not_found")
    assert _error(api.delete(f"/statuses/{status_id}", as_user="other")) == (404, "not_found")
    assert _error(api.post(f"/statuses/{status_id}/close", as_user="other")) == (404, "not_found")
    assert _error(_accept(api, "other", status_id, suggestion)) == (404, "not_found")
    assert _stored(status_id).state == "active" and balance("other") == (500, 0, 0)


def test_the_client_edits_until_a_reader_answers(api):
    make_client("cli")
    _reader("rdr")
    status_id = _posted(api, "cli", mood="lost")

    edited = api.patch(f"/statuses/{status_id}", as_user="cli",
                       json_body={"content": "Why do my relationships end after three months?", "mood": None})
    assert edited.status_code == 200, edited.body
    assert edited.json_body["content"] == "Why do my relationships end after three months?"
    assert "mood" not in edited.json_body

    _suggested(api, "rdr", status_id)
    refused = api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"content": "Something else entirely."})
    assert _error(refused) == (409, "status_has_suggestions")
    assert _stored(status_id).content == "Why do my relationships end after three months?"


# --- the readers' feed ---------------------------------------------------------------------------

def test_the_feed_shows_matching_categories_first_newest_first_and_pages_without_repeats(api):
    from chalicelib.models.statuses import Status

    _reader("rdr", tools=("tarot",))  # tarot matches love and career (the default catalog)
    posts = [("c1", "spiritual"), ("c2", "love"), ("c3", "general"), ("c4", "career"), ("c5", "love")]
    ids = {}
    base = datetime.now(UTC) - timedelta(hours=5)
    for n, (client, category) in enumerate(posts):
        make_client(client)
        ids[client] = _posted(api, client, category=category)
        created = base + timedelta(minutes=n)  # c1 oldest ... c5 newest
        Status(status_id=ids[client]).update(actions=[Status.created_at.set(created.isoformat().replace("+00:00",
                                                                                                      "Z"))])

    first = api.get("/statuses", as_user="rdr").json_body
    order = [row["id"] for row in first["data"]]
    assert order == [ids["c5"], ids["c4"], ids["c2"], ids["c3"], ids["c1"]]
    assert [row["matchesSpecialties"] for row in first["data"]] == [True, True, True, False, False]

    paged, cursor = [], None
    while True:
        query = "/statuses?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, as_user="rdr").json_body
        paged += [row["id"] for row in page["data"]]
        cursor = page["pagination"].get("nextCursor")
        if not cursor:
            break
    assert paged == order
    report(f"status feed: {len(order)} statuses, pages of 2 -> the same order as one page")


def test_the_feed_leaves_out_closed_and_overdue_statuses_and_shows_authors_as_privacy_allows(api):
    from chalicelib.models.statuses import Status
    from chalicelib.models.users import User

    _reader("rdr")
    make_client("open")
    make_client("shy")
    make_client("done")
    make_client("old")
    User(user_id="shy").update(actions=[User.preferences.set({"privacy": {"profileVisibility": "private"}})])
    open_id = _posted(api, "open")
    shy_id = _posted(api, "shy")
    api.post(f"/statuses/{_posted(api, 'done')}/close", as_user="done")
    old_id = _posted(api, "old")
    eight_days = (datetime.now(UTC) - timedelta(days=8)).isoformat().replace("+00:00", "Z")
    Status(status_id=old_id).update(actions=[Status.created_at.set(eight_days)])

    rows = {row["id"]: row for row in api.get("/statuses", as_user="rdr").json_body["data"]}
    assert set(rows) == {open_id, shy_id}
    assert rows[open_id]["author"] == {"userId": "open", "displayName": "Open"}  # no picture uploaded
    assert rows[open_id]["userId"] == "open"
    assert rows[shy_id]["author"] == {} and "userId" not in rows[shy_id]


def test_only_readers_read_the_feed_and_only_approved_readers_suggest(api, make_user):
    from chalicelib.models.readers import ReaderProfile

    make_client("cli")
    status_id = _posted(api, "cli")
    make_user("pending", role="reader")
    ReaderProfile(reader_id="pending", status="pending", created_at="2026-01-01T00:00:00Z",
                  updated_at="2026-01-01T00:00:00Z").save()

    assert _error(api.get("/statuses", as_user="cli")) == (403, "forbidden_role")
    assert _error(_suggest(api, "cli", status_id)) == (403, "forbidden_role")
    assert _error(_suggest(api, "pending", status_id)) == (403, "reader_not_approved")
    assert _stored(status_id).suggestion_count == 0


# --- suggesting ----------------------------------------------------------------------------------

def test_a_suggestion_carries_the_reader_and_its_price_and_is_made_once(api):
    make_client("cli")
    _reader("rdr")
    status_id = _posted(api, "cli")

    response = _suggest(api, "rdr", status_id, suggestedPrice=45)
    assert response.status_code == 201, response.body
    body = response.json_body
    assert {k: body[k] for k in ("statusId", "readerId", "readerName", "suggestedType", "estimatedDuration",
                                 "suggestedPrice", "listedPrice", "isDiscount", "isAccepted", "state")} == {
        "statusId": status_id, "readerId": "rdr", "readerName": "Rdr Reader", "suggestedType": "phone_call",
        "estimatedDuration": 30, "suggestedPrice": 45, "listedPrice": CALL, "isDiscount": True,
        "isAccepted": False, "state": "active"}

    again = _suggest(api, "rdr", status_id)
    assert _error(again) == (409, "already_suggested")
    assert _stored(status_id).suggestion_count == 1
    assert [e["suggestionId"] for e in outbox_events("status.suggested")] == [body["id"]]


def test_a_suggestion_above_the_readers_listed_price_is_422_and_stores_nothing(api):
    make_client("cli")
    _reader("rdr")
    status_id = _posted(api, "cli")

    refused = _suggest(api, "rdr", status_id, suggestedPrice=CALL + 1)
    assert _error(refused) == (422, "price_above_listed")
    assert refused.json_body["error"]["details"]["listedPrice"] == CALL
    assert f"at most {CALL}" in refused.json_body["error"]["message"]
    assert _stored(status_id).suggestion_count == 0
    listed = _suggest(api, "rdr", status_id)  # no price: the listed one, not a discount
    assert (listed.json_body["suggestedPrice"], listed.json_body["isDiscount"]) == (CALL, False)


def test_the_client_sees_every_suggestion_and_each_reader_only_their_own(api):
    make_client("cli")
    _reader("ra")
    _reader("rb")
    status_id = _posted(api, "cli")
    a = _suggested(api, "ra", status_id)
    b = _suggested(api, "rb", status_id, suggestedType="video_message", estimatedDuration=15)

    owner = api.get(f"/statuses/{status_id}", as_user="cli").json_body
    assert {s["id"] for s in owner["suggestedReadings"]} == {a, b} and owner["suggestionCount"] == 2
    seen_by_a = api.get(f"/statuses/{status_id}", as_user="ra").json_body
    assert [s["id"] for s in seen_by_a["suggestedReadings"]] == [a]
    assert seen_by_a["suggestedByYou"] is True and seen_by_a["author"]["displayName"] == "Cli"


def test_a_withdrawn_suggestion_disappears_for_the_client_and_the_reader_may_suggest_again(api):
    make_client("cli")
    _reader("rdr")
    status_id = _posted(api, "cli")
    first = _suggested(api, "rdr", status_id)

    withdrawn = api.delete(f"/statuses/{status_id}/suggestions/{first}", as_user="rdr")
    assert withdrawn.status_code == 200, withdrawn.body
    assert api.get(f"/statuses/{status_id}", as_user="cli").json_body["suggestedReadings"] == []
    second = _suggested(api, "rdr", status_id, title="A deeper look, by video")
    assert [s["id"] for s in api.get(f"/statuses/{status_id}", as_user="cli").json_body["suggestedReadings"]] == [
        second]


# --- accepting -----------------------------------------------------------------------------------

def test_accepting_books_the_reading_at_the_suggested_price_and_closes_the_status(api):
    make_client("cli", 200)
    _reader("ra")
    _reader("rb")
    status_id = _posted(api, "cli")
    chosen = _suggested(api, "ra", status_id, suggestedPrice=45)
    _suggested(api, "rb", status_id)

    response = _accept(api, "cli", status_id, chosen)
    assert response.status_code == 201, response.body
    status, reading = response.json_body["status"], response.json_body["reading"]
    assert response.headers["Location"] == f"/readings/{reading['id']}"
    assert (status["state"], status["isActive"], status["acceptedSuggestedReadingId"], status["readingId"]) == (
        "accepted", False, chosen, reading["id"])
    assert {s["id"]: s["state"] for s in status["suggestedReadings"]}[chosen] == "accepted"
    assert sorted(s["state"] for s in status["suggestedReadings"]) == ["accepted", "closed"]
    assert (reading["status"], reading["creditsCost"], reading["question"]) == ("requested", 45, CONTENT)
    assert reading["pricing"]["total"] == 45 and reading["pricing"]["listedTotal"] == CALL
    assert reading["reader"]["id"] == "ra" and reading["topicId"] == "love-relationships"
    assert balance("cli") == (155, 45, 0)
    [closed] = outbox_events("status.closed")
    assert (closed["reason"], closed["readerIds"], closed["acceptedReaderId"]) == ("accepted", ["rb"], "ra")
    assert api.get("/statuses", as_user="rb").json_body["data"] == []  # it left the feed


def test_accepting_again_or_another_suggestion_of_a_closed_status_is_409(api):
    make_client("cli", 200)
    _reader("ra")
    _reader("rb")
    status_id = _posted(api, "cli")
    a = _suggested(api, "ra", status_id)
    b = _suggested(api, "rb", status_id)
    reading_id = _accept(api, "cli", status_id, a).json_body["reading"]["id"]

    for again in (_accept(api, "cli", status_id, a), _accept(api, "cli", status_id, b)):
        assert _error(again) == (409, "status_closed")
        assert again.json_body["error"]["details"]["readingId"] == reading_id
    assert balance("cli") == (200 - CALL, CALL, 0)


def test_accepting_with_too_few_credits_is_422_and_changes_nothing(api):
    make_client("cli", 20)
    _reader("rdr")
    status_id = _posted(api, "cli")
    suggestion = _suggested(api, "rdr", status_id)

    refused = _accept(api, "cli", status_id, suggestion)
    assert _error(refused) == (422, "insufficient_credits")
    assert _stored(status_id).state == "active" and balance("cli") == (20, 0, 0)
    assert outbox_events("reading.requested") == [] and outbox_events("status.closed") == []


def test_accepting_needs_the_age_declaration_like_any_booking(api):
    make_client("cli", 200, verified=False)
    _reader("rdr")
    status_id = _posted(api, "cli")
    suggestion = _suggested(api, "rdr", status_id)

    assert _error(_accept(api, "cli", status_id, suggestion)) == (422, "age_verification_required")
    assert _stored(status_id).state == "active"


def test_a_proposed_time_books_a_scheduled_reading_with_its_slots(api):
    from tests.support.readings import next_local

    make_client("cli", 200)
    _reader("rdr", online=False)
    status_id = _posted(api, "cli")
    start = next_local(1, "10:00")  # a Tuesday morning inside the reader's week
    at = start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    suggestion = _suggested(api, "rdr", status_id, scheduledAt=at)

    response = _accept(api, "cli", status_id, suggestion)
    assert response.status_code == 201, response.body
    reading = response.json_body["reading"]
    assert reading["schedule"] == "scheduled"
    assert datetime.fromisoformat(reading["scheduledStart"].replace("Z", "+00:00")) == start
    # The reader's time is taken: a booking of the same slot is refused.
    from tests.support.readings import book

    make_client("late", 200)
    with pytest.raises(Exception) as taken:
        book("late", "rdr", at=start)
    assert getattr(taken.value, "code", None) == "slot_taken"


def test_an_immediate_suggestion_needs_the_reader_online_when_accepted(api):
    from chalicelib.models.readers import ReaderProfile

    make_client("cli", 200)
    _reader("rdr")
    status_id = _posted(api, "cli")
    suggestion = _suggested(api, "rdr", status_id)
    ReaderProfile.get("rdr").update(actions=[ReaderProfile.is_online.set(False)])

    refused = _accept(api, "cli", status_id, suggestion)
    assert _error(refused) == (409, "reader_offline")
    assert "choose a time (scheduledAt)" in refused.json_body["error"]["message"]
    assert _stored(status_id).state == "active" and balance("cli") == (200, 0, 0)


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_accepts_book_exactly_one_reading(api):
    from chalicelib.models.users import User
    from chalicelib.services import statuses

    make_client("cli", 1000)
    readers = [f"r{n}" for n in range(4)]
    for reader in readers:
        _reader(reader)
    status_id = _posted(api, "cli")
    suggestions = [_suggested(api, reader, status_id) for reader in readers]
    client = User.get("cli")
    calls = [lambda s=s: statuses.accept(client, status_id, s) for s in suggestions for _ in range(3)]

    outcomes = race(calls)
    booked = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [getattr(o, "code", repr(o)) for o in outcomes if isinstance(o, Exception)]
    assert len(booked) == 1, outcomes
    assert set(refused) == {"status_closed"}, refused
    reading = booked[0].reading
    assert status_of(reading.reading_id) == "requested"
    assert balance("cli") == (1000 - CALL, CALL, 0)
    assert len(outbox_events("reading.requested")) == 1
    report(f"status accept: {len(calls)} concurrent accepts of {len(suggestions)} suggestions -> 1 reading, "
           f"{len(refused)} x 409 status_closed")


# --- closing and expiry --------------------------------------------------------------------------

def test_closing_tells_the_readers_who_suggested(api):
    make_client("cli")
    _reader("ra")
    status_id = _posted(api, "cli")
    _suggested(api, "ra", status_id)

    closed = api.post(f"/statuses/{status_id}/close", as_user="cli")
    assert closed.json_body["state"] == "closed"
    assert [s["state"] for s in closed.json_body["suggestedReadings"]] == ["closed"]
    assert api.post(f"/statuses/{status_id}/close", as_user="cli").status_code == 200  # again: unchanged
    [event] = outbox_events("status.closed")
    assert (event["reason"], event["readerIds"]) == ("closed_by_client", ["ra"])
    # The reader who suggested still sees how it ended; another reader does not.
    _reader("rb")
    assert api.get(f"/statuses/{status_id}", as_user="ra").json_body["state"] == "closed"
    assert _error(api.get(f"/statuses/{status_id}", as_user="rb")) == (404, "not_found")


def test_the_expiry_job_closes_statuses_past_their_time(api):
    from chalicelib.services import statuses

    make_client("cli")
    _reader("ra")
    status_id = _posted(api, "cli")
    fresh = _posted(api, "cli", category="career", content="Should I take the job offer abroad or stay?")
    _suggested(api, "ra", status_id)
    created = datetime.fromisoformat(_stored(status_id).created_at.replace("Z", "+00:00"))

    assert statuses.expire_due(now=created + timedelta(days=6, hours=23)) == 0
    assert statuses.expire_due(now=created + timedelta(days=7, minutes=1)) == 2
    assert (_stored(status_id).state, _stored(fresh).state) == ("expired", "expired")
    expired = [e for e in outbox_events("status.closed") if e["statusId"] == status_id]
    assert expired[0]["reason"] == "expired" and expired[0]["readerIds"] == ["ra"]
    # The client's places are free again.
    assert _post(api, "cli", category="general", content="What does next year hold for me?").status_code == 201


def test_a_deleted_accounts_statuses_close_and_leave_the_feed(api, drain):
    from chalicelib.services import outbox
    from chalicelib.services.tx import Transaction

    make_client("cli")
    _reader("ra")
    status_id = _posted(api, "cli")
    _suggested(api, "ra", status_id)
    tx = Transaction()
    outbox.emit(tx, "user.deleted", user_id="cli", source="clerk", deleted_at="2026-12-01T00:00:00Z")
    tx.commit()
    drain()

    assert _stored(status_id).state == "closed"
    assert api.get("/statuses", as_user="ra").json_body["data"] == []
    [closed] = outbox_events("status.closed")
    assert (closed["reason"], closed["readerIds"]) == ("account_deleted", ["ra"])


def test_accept_needs_no_body_and_a_losing_reader_sees_only_their_own_offer(api):
    make_client("cli", 200)
    _reader("ra")
    _reader("rb")
    status_id = _posted(api, "cli")
    chosen = _suggested(api, "ra", status_id)
    _suggested(api, "rb", status_id)

    response = api.post(f"/statuses/{status_id}/suggestions/{chosen}/accept", as_user="cli")  # no body at all
    assert response.status_code == 201, response.body
    assert response.json_body["status"]["suggestionCount"] == 2  # the accepted one and the closed one
    seen_by_loser = api.get(f"/statuses/{status_id}", as_user="rb").json_body
    assert "acceptedSuggestedReadingId" not in seen_by_loser and "readingId" not in seen_by_loser
    assert [s["state"] for s in seen_by_loser["suggestedReadings"]] == ["closed"]
    seen_by_winner = api.get(f"/statuses/{status_id}", as_user="ra").json_body
    assert seen_by_winner["acceptedSuggestedReadingId"] == chosen
    assert seen_by_winner["readingId"] == response.json_body["reading"]["id"]


def test_a_suggestion_landing_while_the_client_accepts_is_closed_and_its_reader_told(api, monkeypatch):
    from chalicelib.services.readings import booking

    make_client("cli", 200)
    _reader("ra")
    _reader("late")
    status_id = _posted(api, "cli")
    chosen = _suggested(api, "ra", status_id)
    commit = booking.commit
    arrived: list[str] = []

    def suggestion_lands_first(*args, **kwargs):
        if not arrived:  # between the accept's read of the status and its transaction
            arrived.append(_suggested(api, "late", status_id, title="A late offer"))
        return commit(*args, **kwargs)

    monkeypatch.setattr(booking, "commit", suggestion_lands_first)
    response = _accept(api, "cli", status_id, chosen)

    assert response.status_code == 201, response.body
    states = {s["id"]: s["state"] for s in response.json_body["status"]["suggestedReadings"]}
    assert states == {chosen: "accepted", arrived[0]: "closed"}
    assert {s["id"]: s["state"] for s in _stored(status_id).suggestion_list()} == states
    [closed] = outbox_events("status.closed")
    assert closed["readerIds"] == ["late"]
