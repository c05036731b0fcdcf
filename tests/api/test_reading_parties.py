"""What a UI shows beside a reading's ids: both parties' display names and avatars, with
the client's privacy respected, at a constant number of DynamoDB calls per list page; and
the reviewer's first name on reviews."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.support.calls import dynamodb_calls
from tests.support.readings import QUESTION, TOPIC, make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")

LUNA_KEY = "media/rdr/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AF/256.webp"
MEDIA_BASE_URL = "http://api.test.auralumic.example/cdn"  # the default: API_BASE_URL + /cdn
CLIENT_IMAGE = "https://img.clerk.com/cli.png"


def _book(api, client: str, reader: str = "rdr") -> str:
    response = api.post("/readings", as_user=client, json_body={
        "readerId": reader, "optionType": "phone_call", "duration": 30, "topicId": TOPIC, "question": QUESTION})
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def _party(document: dict[str, Any]) -> dict[str, Any]:
    """A party as shown, with the fields a response leaves out (null) as None."""
    return {key: document.get(key) for key in ("id", "displayName", "avatarUrl")}


def _set(model: Any, key: str, **values: Any) -> None:
    item = model.get(key, consistent_read=True)
    for name, value in values.items():
        setattr(item, name, value)
    item.save()


def _people(credits: int = 400) -> None:
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    make_client("cli", credits)
    _set(User, "cli", display_name="Clara Lopes Ferreira", image_url=CLIENT_IMAGE)
    make_reader("rdr")
    _set(ReaderProfile, "rdr", display_name="Luna Star", profile_image=LUNA_KEY)
    make_reader("sol")
    _set(ReaderProfile, "sol", display_name="Sol Mystic", profile_image="https://images.example.com/sol.webp")


def test_a_clients_list_shows_each_readers_name_and_an_avatar_url_that_loads(api):
    _people()
    first, second = _book(api, "cli", "rdr"), _book(api, "cli", "sol")

    data = api.get("/readings?as=client&tab=requested", as_user="cli").json_body["data"]

    readers = {r["id"]: _party(r["reader"]) for r in data}
    assert readers[second] == {"id": "sol", "displayName": "Sol Mystic",
                               "avatarUrl": "https://images.example.com/sol.webp"}
    luna = readers[first]
    assert (luna["id"], luna["displayName"]) == ("rdr", "Luna Star")
    assert luna["avatarUrl"] == f"{MEDIA_BASE_URL}/{LUNA_KEY}"  # on the media CDN, not a bare key
    assert all(r["readerId"] == r["reader"]["id"] and r["clientId"] == "cli" for r in data)


def test_a_readers_list_shows_the_clients_first_name_only(api):
    _people()
    make_client("bo", 100)  # "Bo Client" by default
    mine, theirs = _book(api, "cli"), _book(api, "bo")

    data = api.get("/readings?as=reader&tab=requested", as_user="rdr").json_body["data"]

    clients = {r["id"]: _party(r["client"]) for r in data}
    assert clients == {mine: {"id": "cli", "displayName": "Clara", "avatarUrl": CLIENT_IMAGE},
                       theirs: {"id": "bo", "displayName": "Bo", "avatarUrl": None}}


def test_detail_and_transitions_carry_both_parties(api):
    _people()
    rid = _book(api, "cli")
    expected_client = {"id": "cli", "displayName": "Clara", "avatarUrl": CLIENT_IMAGE}

    for viewer in ("cli", "rdr"):
        seen = api.get(f"/readings/{rid}", as_user=viewer).json_body
        assert _party(seen["client"]) == expected_client and seen["reader"]["displayName"] == "Luna Star"
    accepted = api.post(f"/readings/{rid}/accept", as_user="rdr").json_body
    assert accepted["status"] == "accepted"
    assert _party(accepted["client"]) == expected_client and accepted["reader"]["displayName"] == "Luna Star"


def test_a_private_client_shows_no_avatar_and_still_only_a_first_name(api):
    _people()
    rid = _book(api, "cli")
    private = {"privacy": {"profileVisibility": "private"}}  # PUT replaces; the rest takes the defaults
    assert api.put("/me/preferences", as_user="cli", json_body=private).status_code == 200

    seen = _party(api.get(f"/readings/{rid}", as_user="rdr").json_body["client"])
    assert seen == {"id": "cli", "displayName": "Clara", "avatarUrl": None}
    listed = api.get("/readings?as=reader&tab=requested", as_user="rdr").json_body["data"]
    assert [_party(r["client"]) for r in listed] == [seen]


def test_a_missing_party_answers_with_the_id_alone(api):
    from chalicelib.models.users import User

    _people()
    rid = _book(api, "cli")
    User.get("cli").delete()  # e.g. an item written before accounts were kept, or erased

    seen = api.get(f"/readings/{rid}", as_user="rdr")
    assert seen.status_code == 200, seen.body
    assert _party(seen.json_body["client"]) == {"id": "cli", "displayName": None, "avatarUrl": None}


def test_a_list_page_costs_the_same_dynamodb_calls_for_one_row_or_twenty(api):
    _people(credits=0)
    for index in range(20):
        make_client(f"c{index}", 100)
        _book(api, f"c{index}")

    def page_calls(limit: int) -> int:
        api.get("/readings?as=reader&tab=requested&limit=1", as_user="rdr")  # warm the caller's session
        with dynamodb_calls() as calls:
            response = api.get(f"/readings?as=reader&tab=requested&limit={limit}", as_user="rdr")
        assert response.status_code == 200 and len(response.json_body["data"]) == limit
        assert all(r["client"]["displayName"] == "C" + r["clientId"][1:] for r in response.json_body["data"])
        return len(calls)

    one, twenty = page_calls(1), page_calls(20)
    assert one == twenty, (one, twenty)

    with dynamodb_calls() as calls:
        api.get("/readings?as=reader&tab=requested&limit=20", as_user="rdr")
    assert calls.count("BatchGetItem") == 2  # the clients' users, the readers' profiles


def test_reviews_carry_the_reviewers_first_name_on_every_review_object(api):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readings import Reading

    _people()
    rid = _book(api, "cli")
    _set(Reading, rid, status="completed", completed_at=iso(utcnow()))

    reviewed = api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": 5, "comment": "Spot on"})
    assert reviewed.status_code == 201, reviewed.body
    assert reviewed.json_body["review"]["clientName"] == "Clara"
    listed = api.get("/readers/rdr/reviews").json_body["data"]
    assert [(r["clientName"], r["rating"]) for r in listed] == [("Clara", 5)]
    assert api.get(f"/readings/{rid}", as_user="rdr").json_body["review"]["clientName"] == "Clara"
    card = api.get("/readers/rdr").json_body["reviews"]
    assert [(r["id"], r["clientName"], r["rating"], r["comment"]) for r in card] == [(rid, "Clara", 5, "Spot on")]


def test_the_public_card_keeps_the_five_newest_reviews(api):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readings import Reading

    _people(credits=1000)
    ids = []
    for rating in (1, 2, 3, 4, 5, 5):
        rid = _book(api, "cli")
        _set(Reading, rid, status="completed", completed_at=iso(utcnow()))
        assert api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": rating}).status_code == 201
        ids.append(rid)

    card = api.get("/readers/rdr").json_body
    assert [r["id"] for r in card["reviews"]] == list(reversed(ids))[:5]
    assert {r["clientName"] for r in card["reviews"]} == {"Clara"} and card["ratingCount"] == 6


def test_the_demo_seed_lists_names_on_both_sides(api, issuer):
    from tools.seed import READERS, STAFF_AND_CLIENTS, seed_demo, user_id

    seed_demo(issuer)
    names = {user_id(r["handle"]): r["name"] for r in READERS}
    first_names = {user_id(handle): name.split()[0] for handle, name, role in STAFF_AND_CLIENTS if role == "client"}

    for reader_id in (user_id("reader1"), user_id("reader5")):
        for tab in ("requested", "accepted", "archived"):
            for reading in api.get(f"/readings?as=reader&tab={tab}", as_user=reader_id).json_body["data"]:
                assert reading["client"]["displayName"] == first_names[reading["clientId"]]
                assert reading["reader"]["displayName"] == names[reader_id]
    client_id = user_id("client2")
    archived = api.get("/readings?as=client&tab=archived", as_user=client_id).json_body["data"]
    assert archived and all(r["reader"]["displayName"] == names[r["readerId"]] for r in archived)
    reviews = api.get(f"/readers/{user_id('reader3')}/reviews").json_body["data"]
    assert [r["clientName"] for r in reviews] == [first_names[user_id("client1")]]
