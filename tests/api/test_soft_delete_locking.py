"""The product's BaseModel (``version``, ``deletedAt``) on what clients and readers write:

* statuses: an ETag of their version; PATCH, close and DELETE honour If-Match; two edits of
  one version never both land; DELETE is a soft delete that every read leaves out;
* the reader profile: an ETag of what PATCH edits; a stale If-Match is a 409 that changes
  nothing; heartbeats do not move it;
* reviews: immutable once posted (no edit, no delete: the product defines none); only
  moderation hides one (services/moderation).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.support.readings import make_client, make_reader, outbox_events
from tests.support.threads import all_at_once

pytestmark = pytest.mark.usefixtures("default_catalog")

CONTENT = "I keep meeting the same kind of partner and it never lasts. What am I missing?"
EDITED = "Why do my relationships always end after three months?"


def _post(api: Any, client: str = "cli", **extra: Any) -> Any:
    body = {"content": CONTENT, "category": "love", **extra}
    response = api.post("/statuses", as_user=client, json_body=body)
    assert response.status_code == 201, response.body
    return response


def _posted(api: Any, client: str = "cli", **extra: Any) -> str:
    return str(_post(api, client, **extra).json_body["id"])


def _suggested(api: Any, reader: str, status_id: str) -> str:
    response = api.post(
        f"/statuses/{status_id}/suggestions",
        as_user=reader,
        json_body={
            "title": "Three-card relationship spread",
            "description": "The pattern, its root and the way out.",
            "suggestedType": "phone_call",
            "estimatedDuration": 30,
        },
    )
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json_body["error"]["code"]


def _stored(status_id: str) -> Any:
    from chalicelib.models.statuses import Status

    return Status.get(status_id, consistent_read=True)


# --- statuses: versions and If-Match --------------------------------------------------------------


def test_a_status_answers_its_version_as_etag_and_every_change_raises_it(api):
    make_client("cli")
    make_reader("rdr")
    posted = _post(api)
    status_id = posted.json_body["id"]
    assert (posted.headers["ETag"], posted.json_body["version"]) == ('"1"', 1)

    edited = api.patch(
        f"/statuses/{status_id}", as_user="cli", json_body={"content": EDITED}, headers={"If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.body
    assert (edited.headers["ETag"], edited.json_body["version"]) == ('"2"', 2)

    suggestion = _suggested(api, "rdr", status_id)  # the client's view changed: a new version
    assert api.get(f"/statuses/{status_id}", as_user="cli").headers["ETag"] == '"3"'
    withdrawn = api.delete(f"/statuses/{status_id}/suggestions/{suggestion}", as_user="rdr")
    assert withdrawn.status_code == 200 and withdrawn.json_body["version"] == 4
    closed = api.post(f"/statuses/{status_id}/close", as_user="cli", headers={"If-Match": '"4"'})
    assert closed.status_code == 200 and (closed.json_body["state"], closed.headers["ETag"]) == ("closed", '"5"')


def test_a_stale_if_match_is_a_409_with_the_current_version_and_changes_nothing(api):
    make_client("cli")
    status_id = _posted(api)
    assert api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"mood": "hopeful"}).status_code == 200

    for stale in (
        api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"content": EDITED}, headers={"If-Match": '"1"'}),
        api.post(f"/statuses/{status_id}/close", as_user="cli", headers={"If-Match": '"1"'}),
        api.delete(f"/statuses/{status_id}", as_user="cli", headers={"If-Match": 'W/"1"'}),
    ):
        assert _error(stale) == (409, "version_mismatch")
        assert stale.json_body["error"]["details"] == {"currentVersion": 2}
        assert "version 2, not 1" in stale.json_body["error"]["message"]
    stored = _stored(status_id)
    assert (stored.content, stored.state, stored.deleted_at, stored.version) == (CONTENT, "active", None, 2)
    for not_a_version in ("yesterday", '"\u00b2"', "9" * 5000):  # "²".isdigit(), yet int() refuses it
        malformed = api.patch(
            f"/statuses/{status_id}", as_user="cli", json_body={"mood": "x"}, headers={"If-Match": not_a_version}
        )
        assert _error(malformed) == (400, "invalid_if_match")
    assert _stored(status_id).version == 2


def test_two_patches_with_the_same_if_match_one_200_one_409(api, monkeypatch):
    """The second PATCH reads version 1, then the first commits before the second writes: the
    second's write is conditional on version 1, so it fails instead of overwriting."""
    from chalicelib.services.statuses import posting

    make_client("cli")
    status_id = _posted(api)
    real_owned = posting.owned
    answers: list[Any] = []

    def read_then_lose_the_race(status_id: str, client_id: str) -> Any:
        status = real_owned(status_id, client_id)
        if not answers:
            answers.append(None)  # the first PATCH, inside this one, reads without interleaving
            answers[0] = api.patch(
                f"/statuses/{status_id}", as_user="cli", json_body={"content": EDITED}, headers={"If-Match": '"1"'}
            )
        return status  # the second PATCH goes on with version 1, read before the first committed

    monkeypatch.setattr(posting, "owned", read_then_lose_the_race)
    second = api.patch(
        f"/statuses/{status_id}",
        as_user="cli",
        json_body={"content": "Something else entirely, and just as long."},
        headers={"If-Match": '"1"'},
    )

    assert (answers[0].status_code, second.status_code) == (200, 409)
    assert second.json_body["error"] == {
        "code": "version_mismatch",
        "details": {"currentVersion": 2},
        "message": second.json_body["error"]["message"],
    }
    assert (_stored(status_id).content, _stored(status_id).version) == (EDITED, 2)


def test_without_if_match_a_concurrent_edit_is_a_409_too_never_a_silent_overwrite(api, monkeypatch):
    from chalicelib.services.statuses import posting

    make_client("cli")
    status_id = _posted(api)
    real_owned = posting.owned
    first: list[Any] = []

    def read_then_lose_the_race(status_id: str, client_id: str) -> Any:
        status = real_owned(status_id, client_id)
        if not first:
            first.append(None)
            first[0] = api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"content": EDITED})
        return status

    monkeypatch.setattr(posting, "owned", read_then_lose_the_race)
    second = api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"mood": "hopeful"})

    assert (first[0].status_code, _error(second)) == (200, (409, "version_mismatch"))
    assert "changed while you edited it" in second.json_body["error"]["message"]
    assert (_stored(status_id).content, _stored(status_id).mood) == (EDITED, None)


def test_two_edits_of_the_same_version_at_once_one_wins(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.errors import Conflict
    from chalicelib.services import statuses

    make_client("cli")
    status_id = _posted(api)
    texts = [EDITED, "Will the next one be different from the last three?"]

    def edit(n: int) -> str:
        try:
            statuses.update("cli", status_id, {"content": texts[n]}, expected_version=1)
        except Conflict as exc:
            return exc.code
        return "saved"

    assert sorted(all_at_once(2, edit)) == ["saved", "version_mismatch"]
    stored = _stored(status_id)
    assert stored.content in texts and stored.version == 2


# --- statuses: soft delete -------------------------------------------------------------------------


def test_a_deleted_status_vanishes_from_the_owners_list_the_feed_and_get_by_id(api, make_user):
    make_client("cli")
    make_reader("rdr")
    make_user("adm", role="admin")
    status_id = _posted(api)
    kept = _posted(api, category="career", content="Should I take the job offer abroad or stay?")
    _suggested(api, "rdr", status_id)
    assert {row["id"] for row in api.get("/statuses", as_user="rdr").json_body["data"]} == {status_id, kept}

    deleted = api.delete(f"/statuses/{status_id}", as_user="cli")

    assert deleted.status_code == 200, deleted.body
    body = deleted.json_body
    assert (body["state"], body["isActive"], body["version"]) == ("deleted", False, 3)
    assert body["deletedAt"] and [s["state"] for s in body["suggestedReadings"]] == ["closed"]
    assert [s["id"] for s in api.get("/statuses/mine", as_user="cli").json_body["data"]] == [kept]
    assert [row["id"] for row in api.get("/statuses", as_user="rdr").json_body["data"]] == [kept]
    for caller in ("cli", "rdr", "adm"):
        assert _error(api.get(f"/statuses/{status_id}", as_user=caller)) == (404, "not_found"), caller
    # Gone for every write too.
    assert _error(api.delete(f"/statuses/{status_id}", as_user="cli")) == (404, "not_found")
    assert _error(api.patch(f"/statuses/{status_id}", as_user="cli", json_body={"mood": "x"})) == (404, "not_found")
    assert _error(api.post(f"/statuses/{status_id}/close", as_user="cli")) == (404, "not_found")
    make_reader("rdr2")
    assert _suggested_error(api, "rdr2", status_id) == (404, "not_found")
    # Kept in storage (the export and the account's erasure find it), closed: the reader told,
    # the client's active place freed.
    stored = _stored(status_id)
    assert (stored.state, stored.deleted_at, stored.feed_category) == ("deleted", body["deletedAt"], None)
    [closed] = outbox_events("status.closed")
    assert (closed["statusId"], closed["reason"], closed["readerIds"]) == (status_id, "deleted_by_client", ["rdr"])
    _posted(api, category="spiritual", content="I dream of my late grandmother every night.")
    _posted(api, category="general", content="What does next year hold for me?")


def _suggested_error(api: Any, reader: str, status_id: str) -> tuple[int, str]:
    return _error(
        api.post(
            f"/statuses/{status_id}/suggestions",
            as_user=reader,
            json_body={
                "title": "Three-card relationship spread",
                "description": "The pattern, its root and the way out.",
                "suggestedType": "phone_call",
                "estimatedDuration": 30,
            },
        )
    )


def test_a_closed_status_can_be_deleted_and_leaves_the_list_too(api):
    make_client("cli")
    status_id = _posted(api)
    assert api.post(f"/statuses/{status_id}/close", as_user="cli").json_body["state"] == "closed"
    closed_events = len(outbox_events("status.closed"))

    deleted = api.delete(f"/statuses/{status_id}", as_user="cli", headers={"If-Match": '"2"'})

    assert deleted.status_code == 200 and deleted.json_body["state"] == "deleted"
    assert api.get("/statuses/mine", as_user="cli").json_body["data"] == []
    assert len(outbox_events("status.closed")) == closed_events  # closed once, not twice


def test_the_owners_pages_stay_full_around_deleted_statuses(api):
    from chalicelib.models.statuses import Status

    make_client("cli")
    ids = [_posted(api, content=f"{CONTENT} ({n})") for n in range(3)]  # newest last
    for status_id in ids:
        api.post(f"/statuses/{status_id}/close", as_user="cli")
    for n, status_id in enumerate(ids):  # distinct creation times, oldest first
        Status(status_id=status_id).update(actions=[Status.created_at.set(f"2026-11-0{n + 1}T10:00:00Z")])
    more = [_posted(api, content=f"{CONTENT} [{n}]") for n in range(2)]
    api.delete(f"/statuses/{more[1]}", as_user="cli")  # the newest
    api.delete(f"/statuses/{ids[1]}", as_user="cli")

    first = api.get("/statuses/mine?limit=2", as_user="cli").json_body
    second = api.get(f"/statuses/mine?limit=2&cursor={first['pagination']['nextCursor']}", as_user="cli").json_body

    assert [s["id"] for s in first["data"]] == [more[0], ids[2]]
    assert [s["id"] for s in second["data"]] == [ids[0]] and second["pagination"]["hasNext"] is False


# --- the reader profile ------------------------------------------------------------------------------


def test_the_reader_profile_answers_its_version_and_a_stale_if_match_changes_nothing(api):
    make_reader("rdr")
    read = api.get("/reader/profile", as_user="rdr")
    assert (read.headers["ETag"], read.json_body["version"]) == ('"1"', 1)

    saved = api.patch(
        "/reader/profile",
        as_user="rdr",
        json_body={"tagline": "Tarot that tells it straight"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.body
    assert (saved.headers["ETag"], saved.json_body["version"]) == ('"2"', 2)

    stale = api.patch(
        "/reader/profile",
        as_user="rdr",
        json_body={"tagline": "Something else", "location": "Lisbon"},
        headers={"If-Match": '"1"'},
    )
    assert _error(stale) == (409, "version_mismatch")
    assert stale.json_body["error"]["details"] == {"currentVersion": 2}
    now = api.get("/reader/profile", as_user="rdr").json_body
    assert (now["tagline"], now.get("location"), now["version"]) == ("Tarot that tells it straight", None, 2)
    assert _error(
        api.patch("/reader/profile", as_user="rdr", json_body={"tagline": "x"}, headers={"If-Match": "v2"})
    ) == (400, "invalid_if_match")


def test_heartbeats_do_not_move_the_profile_version(api):
    make_reader("rdr")
    etag = api.get("/reader/profile", as_user="rdr").headers["ETag"]
    assert api.put("/reader/online", as_user="rdr", json_body={"online": True}).status_code == 200
    assert api.put("/reader/online", as_user="rdr", json_body={"online": False}).status_code == 200

    saved = api.patch("/reader/profile", as_user="rdr", json_body={"location": "Lisbon"}, headers={"If-Match": etag})
    assert saved.status_code == 200, saved.body


def test_without_if_match_two_edits_of_different_fields_both_land(api, monkeypatch):
    """A PATCH applies only the fields it sends, to the profile as stored."""
    from chalicelib.services import readers

    make_reader("rdr")
    real_screen = readers.moderation.screen
    first: list[Any] = []

    def screen_then_lose_the_race(*args: Any, **kwargs: Any) -> Any:
        verdict = real_screen(*args, **kwargs)
        if not first:
            first.append(None)
            first[0] = api.patch("/reader/profile", as_user="rdr", json_body={"location": "Lisbon"})
        return verdict

    monkeypatch.setattr(readers.moderation, "screen", screen_then_lose_the_race)
    second = api.patch("/reader/profile", as_user="rdr", json_body={"tagline": "Tarot that tells it straight"})

    assert (first[0].status_code, second.status_code) == (200, 200)
    profile = api.get("/reader/profile", as_user="rdr").json_body
    assert (profile["location"], profile["tagline"], profile["version"]) == (
        "Lisbon",
        "Tarot that tells it straight",
        3,
    )


# --- reviews -------------------------------------------------------------------------------------------


def test_a_review_is_immutable_for_its_client_no_edit_no_delete_no_second_one(api):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readings import Reading
    from tests.support.readings import book

    make_client("cli", 400)
    make_reader("rdr")
    reading = book("cli")
    Reading(reading_id=reading.reading_id).update(
        actions=[Reading.status.set("completed"), Reading.completed_at.set(iso(utcnow()))], add_version_condition=False
    )
    path = f"/readings/{reading.reading_id}/review"
    assert api.post(path, as_user="cli", json_body={"rating": 5, "comment": "Spot on"}).status_code == 201

    for method in ("PATCH", "PUT", "DELETE"):
        assert api.request(method, path, as_user="cli", json_body={"rating": 1}).status_code == 405, method
    again = api.post(path, as_user="cli", json_body={"rating": 1, "comment": "Changed my mind"})
    assert _error(again) == (409, "already_reviewed")
    listed = api.get("/readers/rdr/reviews").json_body
    assert [(r["rating"], r["comment"]) for r in listed["data"]] == [(5, "Spot on")]
    assert listed["pagination"]["total"] == 1
