"""GET /readers: validation, who is listed to whom, live online status, caching headers,
the pagination walk, and the calls a warm request makes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.calls import aws_calls
from tests.support.explore import reader
from tests.support.readings import make_client


@pytest.fixture()
def explore(api: Any, default_catalog: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The API with fresh explore caches and a controllable clock for them."""
    from chalicelib.services.explore import overlay, service, store

    service.forget_cached()
    moment = [1000.0]
    for module in (overlay, store, service):
        monkeypatch.setattr(module, "monotonic", lambda: moment[0])
    api.clock = moment
    yield api
    service.forget_cached()


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.body
    return [card["id"] for card in response.json["data"]]


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "field"), [
    ("abilities=clairvoyant,mind-reading", "abilities"),
    ("tools=tarot&tools=tea-leaves", "tools"),
    ("styles=grumpy", "styles"),
    ("readingTypes=carrier_pigeon", "readingTypes"),
    ("badges=tarot-platinum", "badges"),
    ("priceMin=50&priceMax=10", "priceMax"),
    ("limit=0", "limit"),
    ("minRating=6", "minRating"),
    ("sort=cheapest", "sort"),
    ("availability=someday", "availability"),
    ("priceMin=-1", "priceMin"),
])
def test_malformed_filters_are_400s_naming_the_field(explore, query, field):
    response = explore.get(f"/readers?{query}")
    assert response.status_code == 400, response.body
    fields = response.json["error"]["details"]["fields"]
    assert [f["path"] for f in fields] and {f["path"].split(".")[0] for f in fields} == {field}, fields
    assert all(f["message"].endswith(".") for f in fields)


def test_an_unknown_id_is_named_in_the_message(explore):
    response = explore.get("/readers?tools=tarot,tea-leaves")
    assert response.status_code == 400
    assert response.json["error"]["details"]["fields"] == [
        {"path": "tools", "message": "'tea-leaves' is not an active tool in the catalog.", "type": "not_in_catalog"}]


def test_known_ids_comma_separated_or_repeated_are_accepted(explore):
    reader("one")
    for query in ("tools=tarot,runes&abilities=clairvoyant", "tools=tarot&tools=runes&readingTypes=phone_call",
                  "badges=tarot-gold&styles=compassionate"):
        assert explore.get(f"/readers?{query}").status_code == 200


def test_favorites_need_a_signed_in_caller(explore):
    response = explore.get("/readers?favorites=true")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "sign_in_required"
    make_client("cli")
    signed_in = explore.get("/readers?favorites=true", as_user="cli")
    assert signed_in.status_code == 200 and signed_in.json["data"] == []  # no favorites yet


# --- who is listed -------------------------------------------------------------------------------------


def test_only_approved_active_public_readers_are_listed(explore):
    reader("shown")
    reader("pending", status="pending")
    reader("declined", status="declined")
    reader("suspended", status="suspended")
    reader("user-suspended", user_status="suspended")
    reader("deleted", user_status="deleted")
    reader("private", visibility="private")
    reader("members", visibility="readers_only")
    make_client("cli")

    anonymous = explore.get("/readers")
    assert _ids(anonymous) == ["shown"]
    assert anonymous.json["totalCount"] == 1
    assert _ids(explore.get("/readers", as_user="cli")) == ["shown"]  # readers_only: not for clients
    assert sorted(_ids(explore.get("/readers", as_user="shown"))) == ["members", "shown"]  # a signed-in reader


def test_online_status_is_live_and_respects_privacy(explore):
    from chalicelib.services import presence
    from chalicelib.services.explore import overlay

    reader("open", online=True)
    reader("shy", online=True, show_online=False)
    reader("away")
    first = explore.get("/readers?onlineNow=true")
    assert _ids(first) == ["open"]
    cards = {card["id"]: card for card in explore.get("/readers").json["data"]}
    assert cards["open"]["isOnline"] is True and cards["shy"]["isOnline"] is False
    assert cards["shy"].get("lastActive") is None

    presence.set_online("away", True)  # no rebuild: the overlay sees it once its window passes
    explore.clock[0] += overlay.TTL_S
    assert sorted(_ids(explore.get("/readers?onlineNow=true"))) == ["away", "open"]


# --- caching -----------------------------------------------------------------------------------------


def test_anonymous_answers_are_shared_cacheable_with_etag_and_304(explore):
    reader("one")
    first = explore.get("/readers?tools=tarot")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=30"
    assert first.headers["Vary"] == "Authorization"
    etag = first.headers["ETag"]
    again = explore.get("/readers?tools=tarot", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body in (b"", "")
    assert explore.get("/readers?tools=runes", headers={"If-None-Match": etag}).status_code == 200
    assert first.json["meta"]["cached"] is True
    assert first.json["meta"]["generatedAt"].endswith("Z")


def test_the_answer_has_the_documented_shape(explore):
    from chalicelib.schemas.explore import ExplorePage

    reader("one", tools=("tarot", "runes"))
    reader("two", tools=("runes",))
    body = explore.get("/readers?tools=runes").json
    page = ExplorePage.model_validate(body)
    assert page.total_count == 2 and {card.id for card in page.data} == {"one", "two"}
    assert {(facet.id, facet.count) for facet in page.facets.tools} == {("runes", 2), ("tarot", 1)}
    assert page.facets.ratings and page.facets.price_ranges
    assert sum(band.count for band in page.facets.price_ranges) >= 2  # each reader lists prices in some band


def test_signed_in_answers_are_private(explore):
    reader("one")
    make_client("cli")
    response = explore.get("/readers", as_user="cli")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    assert response.json["data"][0]["isFavorite"] is False


def test_a_bad_token_is_a_401_not_an_anonymous_answer(explore):
    response = explore.get("/readers", token="not-a-token")
    assert response.status_code == 401


# --- pagination ------------------------------------------------------------------------------------------


def test_the_pagination_walk_visits_every_reader_once(explore):
    for index in range(7):
        reader(f"rdr{index}", created_at=f"2026-11-0{index + 1}T10:00:00.000Z")
    seen: list[str] = []
    path = "/readers?sort=newest&limit=3"
    pages = []
    while True:
        response = explore.get(path)
        body = response.json
        seen += _ids(response)
        pages.append(body["pagination"])
        if not body["pagination"]["hasNext"]:
            break
        path = f"/readers?sort=newest&limit=3&cursor={body['pagination']['nextCursor']}"
    assert seen == [f"rdr{index}" for index in reversed(range(7))]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert [p["hasPrev"] for p in pages] == [False, True, True]
    assert {p["total"] for p in pages} == {7} and {p["totalPages"] for p in pages} == {3}


def test_a_cursor_of_another_search_is_a_400(explore):
    for index in range(3):
        reader(f"rdr{index}")
    cursor = explore.get("/readers?limit=1").json["pagination"]["nextCursor"]
    assert explore.get(f"/readers?limit=1&cursor={cursor}").status_code == 200
    other = explore.get(f"/readers?limit=1&tools=tarot&cursor={cursor}")
    assert other.status_code == 400 and other.json["error"]["code"] == "invalid_cursor"


# --- calls per request -------------------------------------------------------------------------------------


def test_a_warm_request_reads_only_the_overlay(explore):
    from chalicelib.services.explore import overlay

    for index in range(5):
        reader(f"rdr{index}", online=index % 2 == 0)
    make_client("cli")
    query = "/readers?tools=tarot&readingTypes=phone_call&minRating=0&sort=rating"
    assert explore.get(query).status_code == 200  # cold: loads the snapshot, the catalog ids, the overlay
    assert explore.get(query, as_user="cli").status_code == 200  # and the caller's user item

    explore.clock[0] += overlay.TTL_S
    with aws_calls() as calls:
        response = explore.get(query)
    assert response.status_code == 200 and len(response.json["data"]) == 5
    # The caller's rate-limit counter (public_reads, services/rate_limits.py), then the overlay: onlineReaders.
    assert calls == [("dynamodb", "UpdateItem"), ("dynamodb", "Query")]

    with aws_calls() as calls:
        assert explore.get("/readers?styles=compassionate&sort=price").status_code == 200
    assert calls == [("dynamodb", "UpdateItem")]  # within the overlay's window: the rate-limit counter only

    with aws_calls() as calls:
        assert explore.get(query, as_user="cli").status_code == 200
    # Authenticating the caller, their rate-limit counter, and one Query of their favorites
    # (isFavorite on every card).
    assert Counter(op for _service, op in calls) == Counter({"GetItem": 1, "UpdateItem": 1, "Query": 1})


def test_a_signed_in_caller_sees_isfavorite_and_can_list_only_favorites(explore):
    for reader_id in ("ada", "bea", "cy"):
        reader(reader_id)
    make_client("cli")
    make_client("other")
    for reader_id in ("ada", "cy"):
        assert explore.put(f"/me/favorites/{reader_id}", as_user="cli").status_code == 200
    assert explore.put("/me/favorites/bea", as_user="other").status_code == 200

    marked = explore.get("/readers", as_user="cli").json["data"]
    assert {card["id"]: card["isFavorite"] for card in marked} == {"ada": True, "bea": False, "cy": True}
    only = explore.get("/readers?favorites=true&sort=newest", as_user="cli")
    assert sorted(_ids(only)) == ["ada", "cy"] and only.json["totalCount"] == 2
    assert _ids(explore.get("/readers?favorites=true", as_user="other")) == ["bea"]  # never another user's
    assert all(card["isFavorite"] is False for card in explore.get("/readers").json["data"])  # anonymous

    assert explore.delete("/me/favorites/cy", as_user="cli").status_code == 204
    assert _ids(explore.get("/readers?favorites=true", as_user="cli")) == ["ada"]  # live: not from the snapshot


def test_a_profile_edit_reaches_the_list_through_the_marker_and_the_minute_job(explore, drain):
    from chalicelib.services.explore import freshness

    reader("rdr")
    assert explore.get("/readers").json["data"][0]["tagline"] == "Readings with heart"
    edited = explore.patch("/reader/profile", as_user="rdr", json_body={"tagline": "Clear answers, kind words"})
    assert edited.status_code == 200, edited.body
    assert explore.get("/readers").json["data"][0]["tagline"] == "Readings with heart"  # the snapshot, until rebuilt

    assert any(message["type"] == "reader.card_changed" for message in drain())
    assert freshness.state().stale_since is not None
    assert freshness.rebuild_if_stale()["built"] is True
    assert explore.get("/readers").json["data"][0]["tagline"] == "Clear answers, kind words"


def test_a_reader_sets_languages_and_the_languages_filter_finds_them(explore, drain):
    from chalicelib.services.explore import freshness

    reader("polyglot")
    reader("mono")
    for who, languages in (("polyglot", ["en", "es"]), ("mono", ["en"])):
        edited = explore.patch("/reader/profile", as_user=who, json_body={"languages": languages})
        assert edited.status_code == 200, edited.body
        assert edited.json["languages"] == languages
    drain()
    assert freshness.rebuild_if_stale()["built"] is True

    spanish = explore.get("/readers?languages=es")
    assert _ids(spanish) == ["polyglot"]
    assert spanish.json["data"][0]["languages"] == ["en", "es"]
    assert sorted(_ids(explore.get("/readers?languages=en"))) == ["mono", "polyglot"]


@pytest.mark.parametrize("languages", [["english"], ["EN"], ["en", "en"], [], [None]])
def test_languages_must_be_distinct_two_letter_codes(explore, languages):
    reader("rdr")
    response = explore.patch("/reader/profile", as_user="rdr", json_body={"languages": languages})
    assert response.status_code == 400, response.body
    assert response.json["error"]["details"]["fields"][0]["path"].startswith("languages")


def test_an_unrated_reader_shows_null_rating_and_completion_sorts_last_and_fails_min_rating(explore):
    reader("ada", rating_count=2, rating_average=4.5, total_readings=2, accepted_count=2, completed_count=2)
    reader("bea")  # nobody has rated bea, nor has she completed a reading: no data, not "0.0★ · 0%"
    make_client("cli")
    assert explore.put("/me/favorites/bea", as_user="cli").status_code == 200

    cards = {card["id"]: card for card in explore.get("/readers?sort=rating").json["data"]}
    assert list(cards) == ["ada", "bea"]  # null is the lowest rating
    assert (cards["bea"]["ratingAverage"], cards["bea"]["ratingCount"]) == (None, 0)
    assert cards["bea"]["stats"] == {"totalReadings": 0, "averageRating": None, "completionRate": None}
    assert cards["ada"]["stats"] == {"totalReadings": 2, "averageRating": 4.5, "completionRate": 100.0}
    assert _ids(explore.get("/readers?minRating=1")) == ["ada"]  # null matches no minimum
    [favorite] = explore.get("/me/favorites", as_user="cli").json["data"]
    assert (favorite["ratingAverage"], favorite["stats"]["completionRate"]) == (None, None)
