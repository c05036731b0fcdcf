"""The explore engine by example: typo and prefix matching, visibility, favorites, the
online overlay, availability in the reader's timezone, the recommended score, prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.explore_engine import synthetic_cards
from chalicelib.services.explore.engine import Filters, Index, quality_score
from tests.unit.test_explore_engine_properties import reference

BUILT = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)  # a Wednesday


def card(reader_id: str, **fields) -> dict:
    document = {"id": reader_id, "displayName": reader_id.title(), "tagline": "", "location": None,
                "attributes": {"tools": [], "abilities": [], "style": None}, "attributeNames": {},
                "readingOptions": [], "ratingAverage": None, "ratingCount": 0, "totalReadings": 0, "stats": {},
                "badges": [], "availability": {"timezone": "UTC", "instantBooking": False, "schedule": {}},
                "createdDate": "2025-01-01T00:00:00Z", "visibility": "public"}
    document.update(fields)
    return document


def search(index: Index, *, online=frozenset(), favorites=frozenset(), viewer_role="reader", now=BUILT,
           offset=0, limit=20, **filters):
    return index.search(Filters(**filters), online=frozenset(online), favorites=frozenset(favorites),
                        viewer_role=viewer_role, now=now, offset=offset, limit=limit)


@pytest.fixture
def readers() -> Index:
    return Index.build([
        card("ada", displayName="Éloïse Moreau", tagline="Gentle tarot guidance", location="São Paulo",
             attributes={"tools": ["tarot"], "abilities": [], "style": "gentle"},
             attributeNames={"tarot": "Tarot", "gentle": "Gentle"}),
        card("bea", displayName="Bea Stone", tagline="Stars and charts",
             attributes={"tools": ["astrology"], "abilities": [], "style": None},
             attributeNames={"astrology": "Astrology"}, visibility="readers_only"),
        card("cy", displayName="Cy Rune", attributes={"tools": ["runes"], "abilities": [], "style": None},
             attributeNames={"runes": "Runes"}),
        card("dee", displayName="Dee Hidden", visibility="private"),
    ], built_at=BUILT)


def test_a_misspelt_word_finds_the_reader_and_suggests_the_correction(readers):
    outcome = search(readers, query="tarrot")

    assert (outcome.reader_ids, outcome.suggestions) == (["ada"], ["tarot"])


def test_a_prefix_finds_the_reader_without_a_suggestion(readers):
    outcome = search(readers, query="astr")

    assert (outcome.reader_ids, outcome.suggestions) == (["bea"], [])


def test_matching_ignores_case_and_accents(readers):
    assert search(readers, query="ELOISE sao").reader_ids == ["ada"]
    assert search(readers, location="sao paulo").reader_ids == ["ada"]


def test_every_query_word_must_match(readers):
    assert search(readers, query="tarot runes").reader_ids == []


def test_readers_only_cards_are_shown_to_readers_and_admins_only(readers):
    from chalicelib.services import reader_cards

    for role in (None, "client", "reader", "admin"):
        listed = "bea" in search(readers, viewer_role=role).reader_ids
        assert listed is (role in ("reader", "admin")), role
        assert listed is reader_cards.visible_to(readers.card("bea"), role)  # the single card's rule


def test_private_cards_are_never_indexed(readers):
    assert (readers.card("dee"), len(readers)) == (None, 3)
    assert readers.card("ada")["displayName"] == "Éloïse Moreau"


def test_favorites_only_lists_the_callers_favorites(readers):
    assert search(readers, favorites_only=True, favorites={"cy", "gone"}).reader_ids == ["cy"]
    assert search(readers, favorites_only=True).reader_ids == []


def test_online_now_lists_the_overlay_and_the_online_sort_puts_it_first(readers):
    assert search(readers, online_now=True, online={"cy"}).reader_ids == ["cy"]
    assert search(readers, sort="online", online={"cy"}).reader_ids[0] == "cy"


def test_an_unknown_sort_or_availability_is_an_error(readers):
    with pytest.raises(ValueError, match="sort"):
        search(readers, sort="random")
    with pytest.raises(ValueError, match="availability"):
        search(readers, availability="someday")


# --- availability in the reader's timezone ---------------------------------------------------

def scheduled(reader_id, zone, schedule, instant=True):
    return card(reader_id, availability={"timezone": zone, "instantBooking": instant, "schedule": schedule})


def test_now_is_instant_booking_inside_a_slot_of_the_readers_local_day():
    # 15:00 UTC on Wednesday is 20:45 in Kathmandu (+05:45) and 11:00 in New York (EDT since 9 March).
    index = Index.build([
        scheduled("kathmandu", "Asia/Kathmandu", {"wed": [{"start": "20:45", "end": "21:00"}]}),
        scheduled("new-york", "America/New_York", {"wed": [{"start": "10:00", "end": "11:00"}]}),
        scheduled("no-instant", "Asia/Kathmandu", {"wed": [{"start": "20:00", "end": "22:00"}]}, instant=False),
        scheduled("no-zone", None, {"wed": [{"start": "00:00", "end": "24:00"}]}),
    ], built_at=BUILT)

    assert search(index, availability="now").reader_ids == ["kathmandu"]
    assert sorted(search(index, availability="now", online={"no-zone"}).reader_ids) == ["kathmandu", "no-zone"]


def test_today_ends_at_the_readers_local_midnight():
    late = BUILT.replace(hour=23, minute=30)  # 23:30 in Lisbon (WET), 00:30 Thursday in Berlin
    index = Index.build([
        scheduled("tomorrow-lisbon", "Europe/Lisbon", {"thu": [{"start": "00:00", "end": "01:00"}]}),
        scheduled("tonight-lisbon", "Europe/Lisbon", {"wed": [{"start": "23:00", "end": "24:00"}]}),
        scheduled("berlin", "Europe/Berlin", {"thu": [{"start": "09:00", "end": "10:00"}]}),
        scheduled("ended", "Europe/Lisbon", {"wed": [{"start": "09:00", "end": "10:00"}]}),
    ], built_at=late)

    assert sorted(search(index, availability="today", now=late).reader_ids) == ["berlin", "tonight-lisbon"]
    assert len(search(index, availability="this_week", now=late).reader_ids) == 4
    assert len(search(index, availability="flexible", now=late).reader_ids) == 4


# --- ranking, prices, facets ---------------------------------------------------------------

def test_the_quality_score_is_a_bayesian_rating_times_completion_and_boosts():
    assert quality_score(card("new"), BUILT) == pytest.approx(4.0 * 0.9)
    rated = card("rated", ratingAverage=5.0, ratingCount=10, totalReadings=10, stats={"completionRate": 80.0})
    assert quality_score(rated, BUILT) == pytest.approx((4.0 * 5 + 5.0 * 10) / 15 * 0.8)
    busy = {**rated, "lastActive": (BUILT - timedelta(days=2)).isoformat(), "badges": ["a", "b", "c", "d"]}
    assert quality_score(busy, BUILT) == pytest.approx(quality_score(rated, BUILT) * 1.05 * 1.06)


def test_a_null_rating_and_completion_are_no_data_the_lowest_rating_and_match_no_minimum():
    unrated = card("unrated", stats={"totalReadings": 0, "averageRating": None, "completionRate": None})
    low = card("low", ratingAverage=1.0, ratingCount=1, totalReadings=1,
               stats={"totalReadings": 1, "averageRating": 1.0, "completionRate": 100.0})
    index = Index.build([unrated, low], built_at=BUILT)

    assert quality_score(unrated, BUILT) == pytest.approx(4.0 * 0.9)  # the prior, the default completion
    assert search(index, sort="rating").reader_ids == ["low", "unrated"]
    assert search(index, min_rating=1.0).reader_ids == ["low"]
    assert [f for f in search(index).facets["ratings"] if f["rating"] == 1] == [{"rating": 1, "count": 1}]


def test_recommended_ties_are_broken_by_reader_id():
    index = Index.build([card("b"), card("c"), card("a")], built_at=BUILT)

    assert search(index).reader_ids == ["a", "b", "c"]


def priced(reader_id, *totals):
    return card(reader_id, readingOptions=[{"type": "chat", "prices": [{"duration": 30, "total": t} for t in totals]}])


def test_a_price_filter_includes_both_ends_and_each_range_counts_a_reader_once():
    index = Index.build([priced("cheap", 10, 25), priced("mid", 50), priced("dear", 250), card("none")],
                        built_at=BUILT)

    assert search(index, price_min=25, price_max=50, sort="price").reader_ids == ["cheap", "mid"]
    assert search(index, sort="price").reader_ids == ["cheap", "mid", "dear", "none"]
    assert {r["range"]: r["count"] for r in search(index).facets["priceRanges"]} == {
        "0-25": 1, "25-50": 1, "50-100": 1, "100-200": 0, "200+": 1}


def test_pages_follow_each_other_without_gaps():
    index = Index.build([card(f"r{n:02d}") for n in range(25)], built_at=BUILT)

    pages = [search(index, offset=offset, limit=10).reader_ids for offset in (0, 10, 20)]
    assert [reader for page in pages for reader in page] == [f"r{n:02d}" for n in range(25)]
    assert search(index, limit=0).reader_ids == []


@pytest.mark.parametrize("filters", [
    Filters(abilities=("empathy",), price_min=20, price_max=60, sort="price"),
    Filters(tools=("tarot", "runes"), min_rating=4.0, sort="rating"),
    Filters(availability="today", languages=("en",), sort="newest"),
    Filters(query="lisbon", styles=("gentle",), sort="online"),
    Filters(badges=("verified",), experience="expert"),
])
def test_a_thousand_synthetic_readers_agree_with_the_reference(filters):
    cards = synthetic_cards(1000, seed=3)
    for document in cards:
        document["attributeNames"] = {key: key for key in document["attributeNames"]}
    index = Index.build(cards, built_at=BUILT)
    online = frozenset(document["id"] for document in cards[::7])
    for offset, limit in ((0, 20), (40, 20), (990, 20)):
        outcome = index.search(filters, online=online, favorites=frozenset(), viewer_role="client", now=BUILT,
                               offset=offset, limit=limit)
        page, total, facets, _ = reference(cards, filters, online=online, favorites=frozenset(), viewer_role="client",
                                           now=BUILT, built_at=BUILT, offset=offset, limit=limit, names=None)
        assert (outcome.reader_ids, outcome.total) == (page, total)
        assert outcome.facets == facets
