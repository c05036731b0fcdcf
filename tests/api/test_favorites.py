"""/me/favorites and /me/recommendations through the API: idempotent changes, the cap, cards
from the explore snapshot, privacy between users, and recommendations fed by events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calls import dynamodb_calls
from tests.support.explore import reader
from tests.support.readings import make_client


@pytest.fixture()
def world(api: Any, default_catalog: None) -> Any:
    """Two clients and a few approved readers; explore caches fresh."""
    from chalicelib.services.explore import service

    service.forget_cached()
    make_client("alice")
    make_client("bob")
    reader("luna", tools=("tarot",), abilities=("clairvoyant",), style="straightforward")
    reader("tara", tools=("tarot",), abilities=("medium",), style="compassionate", online=True)
    reader("rune", tools=("runes",), abilities=("empath",), style="inspirational")
    reader("astra", tools=("astrology",), abilities=("empath",), style="inspirational")
    yield api
    service.forget_cached()


def _rebuild() -> None:
    from chalicelib.services.explore import store

    store.rebuild()


def _suspend(user_id: str) -> None:
    from chalicelib.models.users import User

    User(user_id=user_id).update(actions=[User.status.set("suspended")])


def _favorite_ids(api: Any, user: str, query: str = "") -> list[str]:
    response = api.get(f"/me/favorites{query}", as_user=user)
    assert response.status_code == 200, response.body
    return [card["id"] for card in response.json["data"]]


def test_a_favorite_is_added_once_and_listed_newest_first_with_its_card(world):
    first = world.put("/me/favorites/luna", as_user="alice")
    again = world.put("/me/favorites/luna", as_user="alice")
    world.put("/me/favorites/tara", as_user="alice")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json["added"] is True and again.json["added"] is False
    assert again.json["favoritedAt"] == first.json["favoritedAt"]
    _rebuild()
    response = world.get("/me/favorites", as_user="alice")
    assert [card["id"] for card in response.json["data"]] == ["tara", "luna"]
    tara = response.json["data"][0]
    assert tara["isFavorite"] is True and tara["isOnline"] is True and tara["displayName"] == "Tara Reader"
    assert tara["favoritedAt"] >= first.json["favoritedAt"]


def test_favorites_page_with_a_cursor_bound_to_their_owner(world):
    for reader_id in ("luna", "tara", "rune"):
        assert world.put(f"/me/favorites/{reader_id}", as_user="alice").status_code == 200
    _rebuild()

    page1 = world.get("/me/favorites?limit=2", as_user="alice").json
    cursor = page1["pagination"]["nextCursor"]
    page2 = world.get(f"/me/favorites?limit=2&cursor={cursor}", as_user="alice").json
    stolen = world.get(f"/me/favorites?limit=2&cursor={cursor}", as_user="bob")

    assert [c["id"] for c in page1["data"] + page2["data"]] == ["rune", "tara", "luna"]
    assert page2["pagination"]["hasNext"] is False
    assert stolen.status_code == 400 and stolen.json["error"]["code"] == "invalid_cursor"


def test_another_users_favorites_are_never_visible_or_changed(world):
    world.put("/me/favorites/luna", as_user="alice")
    _rebuild()

    assert _favorite_ids(world, "bob") == []
    assert world.delete("/me/favorites/luna", as_user="bob").status_code == 204
    assert _favorite_ids(world, "alice") == ["luna"]
    recommended = world.get("/me/recommendations", as_user="bob").json["data"]
    assert all(item["reader"]["isFavorite"] is False for item in recommended)


def test_removing_is_idempotent_and_204_without_a_body(world):
    world.put("/me/favorites/luna", as_user="alice")
    first = world.delete("/me/favorites/luna", as_user="alice")
    second = world.delete("/me/favorites/luna", as_user="alice")
    _rebuild()

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.body in (b"", "")
    assert _favorite_ids(world, "alice") == []


@pytest.mark.parametrize("state", ["unknown", "pending", "suspended", "deleted", "private"])
def test_only_a_reader_with_a_shown_card_can_be_favorited(world, state):
    if state == "pending":
        reader("gone", status="pending")
    elif state == "suspended":
        reader("gone", user_status="suspended")
    elif state == "deleted":
        reader("gone", user_status="deleted")
    elif state == "private":
        reader("gone", visibility="private")

    response = world.put("/me/favorites/gone", as_user="alice")

    assert response.status_code == 404, response.body


def test_a_reader_cannot_favorite_their_own_card(world):
    response = world.put("/me/favorites/luna", as_user="luna")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "own_card"


def test_the_501st_favorite_is_a_422_and_one_removed_makes_room(world):
    from chalicelib.models.favorites import SUMMARY_SK, Interaction
    from chalicelib.services.favorites import MAX_FAVORITES

    world.put("/me/favorites/luna", as_user="alice")
    # 499 more favorites, as the counter the cap checks records them
    Interaction(client_id="alice", sk=SUMMARY_SK).update(actions=[Interaction.favorite_count.set(MAX_FAVORITES)])

    refused = world.put("/me/favorites/tara", as_user="alice")
    world.delete("/me/favorites/luna", as_user="alice")
    accepted = world.put("/me/favorites/tara", as_user="alice")

    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "too_many_favorites"
    assert refused.json["error"]["message"] == ("You can keep at most 500 favorite readers; remove one to add "
                                                "another.")
    assert accepted.status_code == 200


def test_a_favorite_whose_reader_is_no_longer_shown_is_left_out(world):
    world.put("/me/favorites/luna", as_user="alice")
    world.put("/me/favorites/tara", as_user="alice")
    _suspend("luna")
    _rebuild()

    assert _favorite_ids(world, "alice") == ["tara"]


def test_the_membership_set_is_one_query(world):
    from chalicelib.services import favorites

    world.put("/me/favorites/luna", as_user="alice")
    world.put("/me/favorites/rune", as_user="alice")

    with dynamodb_calls() as calls:
        ids = favorites.ids_of("alice")

    assert ids == frozenset({"luna", "rune"})
    assert calls == ["Query"]
    assert favorites.ids_of(None) == frozenset()


# --- recommendations ---------------------------------------------------------------------------------


def test_a_new_client_gets_a_cold_start_with_reasons(world):
    _rebuild()
    response = world.get("/me/recommendations", as_user="alice")

    assert response.status_code == 200, response.body
    body = response.json
    assert body["personalized"] is False
    assert {item["reader"]["id"] for item in body["data"]} == {"luna", "tara", "rune", "astra"}
    assert body["data"][0]["reader"]["id"] == "tara"  # the one online now
    assert "Online now" in body["data"][0]["reasons"]
    assert all(item["reasons"] for item in body["data"])


def test_a_client_who_rated_a_tarot_reader_5_stars_is_shown_tarot_readers_first(world, drain):
    from chalicelib.services import events

    events.dispatch({"eventId": "evt-1", "type": "review.created", "occurredAt": "2026-11-28T17:30:00.000Z",
                     "data": {"readingId": "r1", "readerId": "luna", "clientId": "alice", "rating": 5}})
    reader("tilde", tools=("tarot",), abilities=("empath",), style="inspirational")
    _rebuild()

    body = world.get("/me/recommendations?limit=3", as_user="alice").json

    assert body["personalized"] is True
    ids = [item["reader"]["id"] for item in body["data"]]
    assert len(ids) == 3 and set(ids[:2]) == {"tara", "tilde"}
    assert body["data"][0]["reasons"][0] == "Tarot, like readers you rated 5 stars"


def test_recommendations_never_list_a_suspended_reader_or_the_caller(world):
    reader("gone", user_status="suspended")
    _rebuild()

    ids = [item["reader"]["id"] for item in world.get("/me/recommendations", as_user="luna").json["data"]]

    assert "gone" not in ids and "luna" not in ids


@pytest.mark.parametrize(("query", "status", "count"), [("limit=0", 400, None), ("limit=2", 200, 2),
                                                         ("limit=500", 200, 4), ("limit=x", 400, None)])
def test_recommendations_limit(world, query, status, count):
    _rebuild()
    response = world.get(f"/me/recommendations?{query}", as_user="alice")
    assert response.status_code == status, response.body
    if count is not None:
        assert len(response.json["data"]) == count


def test_favorite_changes_feed_the_interactions(world):
    from chalicelib.services.recommend import interactions

    world.put("/me/favorites/rune", as_user="alice")
    world.put("/me/favorites/rune", as_user="alice")
    world.put("/me/favorites/astra", as_user="alice")
    world.delete("/me/favorites/astra", as_user="alice")

    history = interactions.history("alice")
    assert history.readers["rune"].is_favorite is True and history.readers["rune"].favorites == 1
    assert history.readers["astra"].is_favorite is False


def test_a_signed_in_view_of_a_card_is_counted_and_an_anonymous_one_is_not(world):
    from chalicelib.services.recommend import interactions

    assert world.get("/readers/rune", as_user="alice").status_code == 200
    assert world.get("/readers/rune", as_user="alice").status_code == 200
    assert world.get("/readers/rune").status_code == 200

    assert interactions.history("alice").readers["rune"].views == 2


def test_a_readers_only_card_is_neither_favorited_nor_listed_for_a_client(world):
    reader("hidden", visibility="readers_only")

    assert world.put("/me/favorites/hidden", as_user="alice").status_code == 404
    assert world.put("/me/favorites/hidden", as_user="luna").status_code == 200  # readers see it
    _rebuild()
    assert _favorite_ids(world, "luna") == ["hidden"]
    ids = [item["reader"]["id"] for item in world.get("/me/recommendations", as_user="alice").json["data"]]
    assert "hidden" not in ids
