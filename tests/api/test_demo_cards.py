"""The demo readers' cards on `make run` tell the truth: option prices are what each reader
set (the time span's multiplier applies once, in the quote), the counters come from the
demo readings' real events, reviews show the clients' first names."""

from __future__ import annotations

from collections import Counter


def test_demo_cards_show_the_base_prices_counters_and_reviews_the_demo_readings_produced(api, issuer, drain):
    from tools.seed import DEMO_READINGS, READERS, seed_demo, user_id

    seed_demo(issuer)
    drain()

    # A reading counts as completed once completed (a later dispute does not undo the reading).
    completed = Counter(reader for _k, _c, reader, _t, story in DEMO_READINGS
                        if story.startswith("completed") or story in ("disputed", "refunded"))
    accepted = Counter(reader for _k, _c, reader, _t, story in DEMO_READINGS
                       if story not in ("requested", "declined", "cancelled", "expired"))
    for reader in READERS:
        reader_id = user_id(reader["handle"])
        own = api.get("/reader/profile", as_user=reader_id).json
        for option in own["readingOptions"]:
            assert option["basePrice"] == option["price"] == reader["rate"] * option["duration"], option
        card = api.get(f"/readers/{reader_id}").json
        handle = reader["handle"]
        assert card["totalReadings"] == completed[handle], handle
        rate = round(100 * completed[handle] / accepted[handle], 1) if completed[handle] else None
        assert card["stats"]["completionRate"] == rate, handle

    sage = api.get(f"/readers/{user_id('reader3')}").json
    assert [(r["rating"], r["clientName"]) for r in sage["reviews"]] == [(5, "Clara")]
