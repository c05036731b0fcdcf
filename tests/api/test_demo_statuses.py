"""The demo statuses on `make run`: active statuses across the categories, most answered by
readers whose specialties match, priced at or below the readers' listed prices, seeded once
however often the seed runs; the README's demo client can book from them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any


def _mine(api: Any, client_id: str) -> list[dict[str, Any]]:
    response = api.get("/statuses/mine", as_user=client_id)
    assert response.status_code == 200, response.body
    return list(response.json["data"])


def test_demo_statuses_are_active_answered_seeded_once_and_bookable(api: Any, issuer: Any) -> None:
    from chalicelib.models.statuses import Status
    from tools.seed import seed_demo, user_id
    from tools.seed_statuses import DEMO_STATUSES, seed_statuses

    seed_demo(issuer)
    by_content = {spec["content"]: spec for spec in DEMO_STATUSES}
    seen: list[dict[str, Any]] = []
    for client in sorted({spec["client"] for spec in DEMO_STATUSES}):
        for status in _mine(api, user_id(client)):
            spec = by_content[status["content"]]
            assert (status["category"], status["mood"], status["state"]) == (spec["category"], spec["mood"], "active")
            offers = status["suggestedReadings"]
            assert sorted(s["readerId"] for s in offers) == sorted(user_id(o["reader"]) for o in spec["suggestions"])
            for offer in offers:
                assert offer["state"] == "active" and offer["readerName"] and offer["readerAvatarUrl"]
                assert offer["suggestedPrice"] <= offer["listedPrice"]
                assert offer["isDiscount"] == (offer["suggestedPrice"] < offer["listedPrice"])
                assert offer["createdAt"] > status["createdAt"]
            seen.append(status)
    assert len(seen) == len(DEMO_STATUSES)
    assert set(Counter(s["category"] for s in seen)) == {"love", "career", "spiritual", "general"}
    assert any(not s["suggestedReadings"] for s in seen)
    offers = [o for s in seen for o in s["suggestedReadings"]]
    assert 1 <= sum(o["isDiscount"] for o in offers) <= 2
    assert sum(o.get("scheduledAt") is not None for o in offers) == 1

    # A reader's feed: the matching categories first (Freya reads runes and scries: spiritual only).
    feed = api.get("/statuses?limit=50", as_user=user_id("reader4")).json["data"]
    assert [(s["category"] == "spiritual", s["matchesSpecialties"]) for s in feed] == \
        [(True, True)] + [(False, False)] * (len(DEMO_STATUSES) - 1)

    # A second run (make run seeds on every start; the tests seed again) posts and suggests nothing.
    items = {s.status_id: (s.updated_at, s.suggestion_count) for s in Status.scan()}
    assert seed_statuses(datetime.now(UTC)) == 0
    seed_demo(issuer)
    assert {s.status_id: (s.updated_at, s.suggestion_count) for s in Status.scan()} == items

    # client1 (the README's demo client: 18+ declared) can afford every offer made to them,
    # and books one: a recorded video, which needs no one online.
    client = user_id("client1")
    free = api.get("/credits", as_user=client).json["balance"]
    offers = [o for s in _mine(api, client) for o in s["suggestedReadings"]]
    assert offers and all(o["suggestedPrice"] <= free["available"] for o in offers)
    offer = next(o for o in offers if o["suggestedType"] == "video_message")
    accepted = api.post(f"/statuses/{offer['statusId']}/suggestions/{offer['id']}/accept", as_user=client,
                        json_body={})
    assert accepted.status_code == 201, accepted.body
    reading = accepted.json["reading"]
    assert accepted.json["status"]["state"] == "accepted"
    assert reading["status"] == "requested" and reading["creditsCost"] == offer["suggestedPrice"]
    after = api.get("/credits", as_user=client).json["balance"]
    assert (after["available"], after["held"]) == (free["available"] - offer["suggestedPrice"],
                                                   free["held"] + offer["suggestedPrice"])
