"""Recommendations: the pure ranking (scoring.py) over hand-made cards, and the interaction
consumers' once-per-event bookkeeping (in moto)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.services.recommend.interactions import History, ReaderHistory
from chalicelib.services.recommend.scoring import favorite_slots, rank, reasons, taste

NAMES = {"tarot": "Tarot", "astrology": "Astrology", "runes": "Runes", "pendulum": "Pendulum",
         "clairvoyant": "Clairvoyant", "empath": "Empath", "medium": "Medium",
         "compassionate": "Compassionate", "straightforward": "Straightforward", "inspirational": "Inspirational"}


def card(reader_id: str, *, tools: tuple[str, ...] = ("astrology",), abilities: tuple[str, ...] = ("empath",),
         style: str = "inspirational", rating: float = 4.5, reviews: int = 10, readings: int = 20,
         completion: float | None = 95.0) -> dict[str, Any]:
    stats: dict[str, Any] = {"totalReadings": readings, "averageRating": rating}
    if completion is not None:
        stats["completionRate"] = completion
    ids = [*tools, *abilities, style]
    return {"id": reader_id, "displayName": reader_id.title(),
            "attributes": {"tools": list(tools), "abilities": list(abilities), "style": style},
            "attributeNames": {a: NAMES.get(a, a.title()) for a in ids},
            "ratingAverage": rating, "ratingCount": reviews, "totalReadings": readings, "stats": stats}


def ranked(cards: list[dict[str, Any]], history: History, *, online: frozenset[str] = frozenset(),
           limit: int = 10, viewer_id: str | None = None) -> list[Any]:
    by_id = {c["id"]: c for c in cards}
    return rank(cards, history, taste(history, by_id.get), online=online, limit=limit, viewer_id=viewer_id)


def test_a_client_who_rated_a_tarot_reader_5_stars_gets_tarot_readers_first_with_that_reason():
    # GIVEN the client rated a Tarot reader 5 stars, and the best-rated readers use other tools
    rated = card("luna", tools=("tarot",), abilities=("clairvoyant",), style="straightforward")
    others = [card(f"astro{i}", tools=("astrology",), rating=4.9, reviews=200, readings=300) for i in range(4)]
    tarot = [card("tara", tools=("tarot",), abilities=("medium",), style="compassionate", rating=4.4, reviews=8),
             card("tilde", tools=("tarot", "runes"), abilities=("empath",), style="inspirational", rating=4.2)]
    history = History(readers={"luna": ReaderHistory(rating_count=1, rating_sum=5, last_rating=5, completions=1)})

    # WHEN ranked
    result = ranked([*others, *tarot, rated], history)

    # THEN the tarot readers the client has not met lead, each saying why
    assert [r.reader_id for r in result[:2]] == ["tara", "tilde"]
    assert result[0].reasons[0] == "Tarot, like readers you rated 5 stars"
    assert result[1].reasons[0] == "Tarot, like readers you rated 5 stars"
    # the rated reader is still there (once), for what the client knows of them
    luna = next(r for r in result if r.reader_id == "luna")
    assert luna.reasons[:2] == ("You rated them 5 stars", "You had 1 reading with them")
    assert all(r.reasons for r in result)


def test_a_reader_the_client_rated_badly_never_appears_and_their_attributes_count_against():
    disliked = card("grim", tools=("pendulum",), abilities=("medium",), style="straightforward")
    similar = card("pen", tools=("pendulum",), abilities=("medium",), style="straightforward", rating=4.8)
    neutral = card("neo", tools=("runes",), abilities=("empath",), style="compassionate", rating=4.8)
    history = History(readers={"grim": ReaderHistory(rating_count=1, rating_sum=1, last_rating=1)})

    result = ranked([disliked, similar, neutral], history)

    assert [r.reader_id for r in result] == ["neo", "pen"]


def test_cold_start_is_ordered_by_quality_and_varied_across_tools():
    # GIVEN no history; three excellent tarot readers and good readers of other tools
    tarot = [card(f"tarot{i}", tools=("tarot",), style="compassionate", rating=4.95, reviews=150, readings=250)
             for i in range(3)]
    runes = card("runa", tools=("runes",), style="straightforward", rating=4.7, reviews=60, readings=90)
    astro = card("astra", tools=("astrology",), style="inspirational", rating=4.7, reviews=60, readings=90)
    weak = card("newbie", tools=("pendulum",), rating=0, reviews=0, readings=0, completion=None)

    result = ranked([*tarot, runes, astro, weak], History(), limit=4)
    ids = [r.reader_id for r in result]

    # THEN the best reader leads, the other tools come before a second and third tarot reader
    assert ids[0].startswith("tarot")
    assert set(ids[1:3]) == {"runa", "astra"}
    assert "newbie" not in ids
    assert result[0].reasons == ("Rated 5.0 from 150 reviews", "Completes 95% of the readings they accept")
    assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)


def test_cold_start_boosts_readers_online_now_and_says_so():
    offline = card("off", rating=4.6, reviews=30)
    online = card("on", tools=("runes",), rating=4.6, reviews=30)

    result = ranked([offline, online], History(), online=frozenset({"on"}))

    assert result[0].reader_id == "on"
    assert "Online now" in result[0].reasons
    assert "Online now" not in result[1].reasons


def test_readers_outside_the_candidates_never_appear_even_if_the_client_loved_them():
    # A suspended or deleted reader is not in the snapshot: card_of finds nothing, and the
    # candidates (snapshot cards) do not hold them.
    history = History(readers={"gone": ReaderHistory(rating_count=2, rating_sum=10, is_favorite=True)})
    shown = [card("a"), card("b", tools=("runes",))]

    result = ranked(shown, history)

    assert {r.reader_id for r in result} == {"a", "b"}


def test_the_caller_is_never_recommended_to_themself():
    result = ranked([card("me"), card("you")], History(), viewer_id="me")
    assert [r.reader_id for r in result] == ["you"]


def test_favorites_take_at_most_a_fifth_of_the_list():
    favorites = [card(f"fav{i}", tools=("tarot",), rating=5.0, reviews=100) for i in range(6)]
    others = [card(f"other{i}", tools=("runes",), rating=4.0, reviews=5) for i in range(10)]
    history = History(readers={f"fav{i}": ReaderHistory(is_favorite=True, favorites=1) for i in range(6)})

    result = ranked([*favorites, *others], history, limit=10)

    shown = [r for r in result if r.reader_id.startswith("fav")]
    assert len(result) == 10
    assert len(shown) == favorite_slots(10) == 2
    assert all("In your favorites" in r.reasons for r in shown)
    # The favorites' tool is what the client likes: the others say why they are there.
    assert all(r.reasons for r in result)


def test_topics_asked_bring_the_attributes_that_suit_them():
    love = card("amor", tools=("tarot",), abilities=("empath",), style="compassionate", rating=4.3)
    career = card("boss", tools=("astrology",), abilities=("clairvoyant",), style="straightforward", rating=4.3)
    history = History(topics={"love-relationships": ("Love & Relationships", 2)})

    result = ranked([career, love], history)

    assert result[0].reader_id == "amor"
    assert result[0].reasons[0].endswith(", often chosen for Love & Relationships questions")


def test_reasons_read_as_sentences_and_never_empty():
    fresh = card("fresh", rating=0, reviews=0, readings=0, completion=None)
    assert reasons(fresh, taste(History(), lambda _: None), online=False) == ("New on Auralumic",)
    one = card("one", rating=3.5, reviews=1, readings=1, completion=None)
    assert reasons(one, taste(History(), lambda _: None), online=False) == ("1 reading completed",)


def test_limit_caps_the_list():
    result = ranked([card(f"r{i}", tools=(f"t{i % 3}",)) for i in range(30)], History(), limit=7)
    assert len(result) == 7
    assert len({r.reader_id for r in result}) == 7


# --- the consumers: each event counts once ---------------------------------------------------------


@pytest.fixture()
def moto(aws: None) -> None:
    return None


def _message(event_id: str, event_type: str, **data: Any) -> dict[str, Any]:
    return {"eventId": event_id, "type": event_type, "occurredAt": "2026-11-28T17:30:00.000Z", "data": data}


def _item(client_id: str, sk: str) -> Any:
    from chalicelib.models.favorites import Interaction

    return Interaction.get(client_id, sk, consistent_read=True)


def test_a_redelivered_review_event_counts_the_rating_once(moto):
    from chalicelib.services import events

    message = _message("evt-review-1", "review.created", readingId="r1", readerId="luna", clientId="cli", rating=5)
    events.dispatch(message)
    events.dispatch(message)
    events.dispatch(_message("evt-review-2", "review.created", readingId="r2", readerId="luna", clientId="cli",
                             rating=3))

    item = _item("cli", "luna")
    assert (item.rating_count, item.rating_sum, item.last_rating) == (2, 8, 3)


def test_a_redelivered_booking_counts_the_booking_and_the_topic_once(moto):
    from chalicelib.models.readings import Reading
    from chalicelib.services import events

    Reading(reading_id="r1", client_id="cli", reader_id="luna", status="requested", topic_id="career-work",
            topic="Career & Work", reading_option={"type": "phone_call"}, duration=30, pricing={}, credits_cost=60,
            schedule="immediate", created_at="2026-11-28T17:30:00.000Z",
            updated_at="2026-11-28T17:30:00.000Z").save()
    message = _message("evt-book-1", "reading.requested", readingId="r1", clientId="cli", readerId="luna",
                       type="phone_call")
    events.dispatch(message)
    events.dispatch(message)

    assert _item("cli", "luna").bookings == 1
    topic = _item("cli", "#topic#career-work")
    assert (topic.asked, topic.name) == (1, "Career & Work")


def test_only_a_completion_that_paid_the_reader_counts(moto):
    from chalicelib.services import events
    from chalicelib.services.recommend.interactions import COMPLETING_EVENTS

    assert "reading.completed" in COMPLETING_EVENTS
    paid = _message("evt-done-1", "reading.completed", readingId="r1", clientId="cli", readerId="luna", paid=50)
    events.dispatch(paid)
    events.dispatch(paid)
    events.dispatch(_message("evt-refund-1", COMPLETING_EVENTS[0], readingId="r2", clientId="cli", readerId="luna",
                             refunded=60))

    assert _item("cli", "luna").completions == 1


def test_history_reads_readers_and_topics_back(moto):
    from chalicelib.services.recommend import interactions

    interactions.record_view("cli", "luna")
    interactions.record_view("cli", "luna")
    interactions.record_view("cli", "cli")  # one's own card is not a view
    history = interactions.history("cli")

    assert history.readers == {"luna": ReaderHistory(views=2)}
    assert history.topics == {}


def test_a_view_that_cannot_be_written_does_not_raise(moto, monkeypatch):
    from chalicelib.models.favorites import Interaction
    from chalicelib.services.recommend import interactions

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(Interaction, "update", broken)
    interactions.record_view("cli", "luna")  # no exception
