"""Prices a UI can list: every reading option on a reader's public card and on the reader's
own profile lists, per duration a client can choose (the catalog's active time spans), the
total ``POST /readings/quote`` charges; the card's headline ``price`` is one of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calls import dynamodb_calls
from tests.support.readings import make_client, make_reader

ADMIN = "user_admin"


def _quote(api: Any, client: str, reader_id: str, option: dict[str, Any], duration: int) -> int:
    response = api.post("/readings/quote", as_user=client, json_body={
        "readerId": reader_id, "optionType": option["type"], "optionId": option["id"], "duration": duration})
    assert response.status_code == 200, response.body
    return int(response.json["price"]["total"])


def _durations(api: Any) -> list[int]:
    return sorted(int(span["duration"]) for span in api.get("/catalog").json["timeSpans"])


def test_every_listed_price_of_every_demo_reader_is_what_the_quote_charges(api, issuer):
    from tools.seed import READERS, seed_demo, user_id

    seed_demo(issuer)
    client = user_id("client1")
    durations = _durations(api)
    assert durations  # the demo catalog offers time spans
    quoted: dict[tuple[str, str, int], int] = {}
    checked = 0
    for reader in READERS:
        reader_id = user_id(reader["handle"])
        card = api.get(f"/readers/{reader_id}")
        assert card.status_code == 200, card.body
        assert card.json["readingOptions"], reader_id
        for option in card.json["readingOptions"]:
            assert [entry["duration"] for entry in option["prices"]] == durations
            for entry in option["prices"]:
                total = _quote(api, client, reader_id, option, entry["duration"])
                quoted[(reader_id, option["id"], entry["duration"])] = total
                assert entry["total"] == total, (reader_id, option["id"], entry)
                checked += 1
            # The headline price is a listed (so quoted) total: the option's own duration's.
            headline = next(e for e in option["prices"] if e["duration"] == option["priceDuration"])
            assert option["price"] == headline["total"]
            assert option["priceDuration"] == option["duration"]  # the demo options' durations are on offer

        own = api.get("/reader/profile", as_user=reader_id)
        assert own.status_code == 200, own.body
        for option in own.json["readingOptions"]:
            assert [entry["duration"] for entry in option["prices"]] == durations
            assert option["basePrice"] == option["price"]  # the reader's own view: the price they set
            if not option["isActive"]:  # paused: listed for the reader, not quotable
                continue
            for entry in option["prices"]:
                assert entry["total"] == quoted[(reader_id, option["id"], entry["duration"])], (reader_id, entry)
                checked += 1
    assert checked >= 2 * len(READERS) * len(durations)


def test_the_card_lists_a_30_minute_live_video_at_what_it_charges(api):
    # The case: the reader set 57 credits for 30 minutes; the 30-minute time span's
    # multiplier (0.95) makes the quote 55, so the card lists 55, not 57.
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())
    make_client("cli")
    make_reader("rdr", options=[
        {"id": "opt_live", "type": "live_video", "name": "Live", "description": "", "duration": 30, "price": 57,
         "isActive": True},
        # 20 minutes is no catalog time span: the headline is the shortest duration on offer.
        {"id": "opt_call", "type": "phone_call", "name": "Call", "description": "", "duration": 20, "price": 50,
         "isActive": True}])

    live, call = api.get("/readers/rdr").json["readingOptions"]

    assert (live["price"], live["basePrice"], live["priceDuration"], live["duration"]) == (55, 57, 30, 30)
    assert _quote(api, "cli", "rdr", live, 30) == 55
    assert {e["duration"]: e["total"] for e in live["prices"]} == {10: 19, 15: 29, 30: 55, 45: 79, 60: 103}
    assert live["prices"][2] == {"timeSpanId": "30-min", "duration": 30, "label": "30 minutes",
                                 "multiplier": 0.95, "total": 55}
    assert (call["price"], call["basePrice"], call["priceDuration"]) == (25, 50, 10)
    assert _quote(api, "cli", "rdr", call, 10) == 25


def test_a_changed_time_span_is_listed_as_the_quote_charges_it(api, make_user):
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())
    make_user(ADMIN, role="admin")
    make_client("cli")
    make_reader("rdr")
    before = api.get("/readers/rdr").json["readingOptions"][0]
    assert next(e for e in before["prices"] if e["duration"] == 30)["total"] == 57  # 60 x 0.95

    assert api.patch("/admin/time-spans/30-min", as_user=ADMIN, json_body={"multiplier": 0.8}).status_code == 200
    assert api.post("/admin/time-spans", as_user=ADMIN, json_body={"duration": 90, "multiplier": 0.85}
                    ).status_code == 201
    assert api.delete("/admin/time-spans/10-min", as_user=ADMIN).status_code in (200, 204)

    after = api.get("/readers/rdr").json["readingOptions"][0]
    listed = {e["duration"]: e["total"] for e in after["prices"]}
    assert listed == {15: 30, 30: 48, 45: 83, 60: 108, 90: 153}
    assert after["price"] == 48 and after["priceDuration"] == 30
    for duration, total in listed.items():
        assert _quote(api, "cli", "rdr", after, duration) == total
    own = api.get("/reader/profile", as_user="rdr").json["readingOptions"][0]
    assert own["prices"] == after["prices"] and own["price"] == own["basePrice"] == 60


def test_a_time_span_no_quote_can_use_is_not_listed(api, make_user):
    """The quote finds a time span by the id its duration gives ("30-min"): a span under
    another id, or one whose duration was changed, would list a price no quote charges."""
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert([*catalog_defaults.default_items(),
                    ("time_span", "quick", {"duration": 20, "label": "Quick", "multiplier": "1"}),
                    ("time_span", "45-min", {"duration": 50, "label": "50 minutes", "multiplier": "0.9"})])
    catalog.forget_cached()
    make_client("cli")
    make_reader("rdr")

    option = api.get("/readers/rdr").json["readingOptions"][0]
    listed = {e["duration"]: e["total"] for e in option["prices"]}

    assert 20 not in listed and 50 not in listed and 45 not in listed
    for duration, total in listed.items():
        assert _quote(api, "cli", "rdr", option, duration) == total


def test_time_spans_are_cached_per_container_until_the_ttl(aws):
    from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
    from chalicelib.services import catalog

    catalog.upsert([("time_span", "30-min", {"duration": 30, "label": "30 minutes", "multiplier": "0.95"})])
    moment = [1000.0]
    assert [s["multiplier"] for s in catalog.time_spans(clock=lambda: moment[0])] == ["0.95"]
    # Another container's change (not through this container's catalog writes).
    item = CatalogItem.get(CATALOG_PARTITION, "time_span#30-min")
    item.update(actions=[CatalogItem.data.set({"duration": 30, "label": "30 minutes", "multiplier": "0.9"})])

    moment[0] += catalog.TIME_SPANS_TTL_S - 1
    assert [s["multiplier"] for s in catalog.time_spans(clock=lambda: moment[0])] == ["0.95"]
    moment[0] += 1
    assert [s["multiplier"] for s in catalog.time_spans(clock=lambda: moment[0])] == ["0.9"]


@pytest.mark.usefixtures("default_catalog")
def test_a_warm_card_reads_two_items_and_no_catalog(api):
    make_reader("rdr")
    assert api.get("/readers/rdr").status_code == 200  # a cold container reads the time spans once
    with dynamodb_calls() as calls:
        card = api.get("/readers/rdr")
    assert card.status_code == 200 and card.json["readingOptions"][0]["prices"]
    assert calls == ["UpdateItem", "GetItem", "GetItem"]  # the caller's rate-limit counter, then the two items
