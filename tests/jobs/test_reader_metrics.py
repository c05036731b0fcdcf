"""Reader metrics kept from the readings' events: what the reader's performance table shows,
counted once per event whatever the redeliveries, equal to a full recomputation."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.readings import make_client, make_reader

T0 = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # the histories cross Europe's spring DST change (29 March)


def _profile(reader_id: str, timezone: str, attributes: dict[str, Any]) -> None:
    from chalicelib.models.readers import ReaderProfile

    now = "2026-01-01T00:00:00.000Z"
    ReaderProfile(reader_id=reader_id, status="approved", display_name=reader_id, availability={"timezone": timezone},
                  attributes=attributes, created_at=now, updated_at=now).save()


def _reading(reading_id: str, created: datetime, cost: int = 50, paid: int = 40, fee: int = 10) -> None:
    """The reading attributes the consumers read (request time; payout for a dispute's refund)."""
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.models.base import iso

    aws.client("dynamodb").put_item(TableName=get_settings().table_name("readings"), Item={
        "readingId": {"S": reading_id}, "createdAt": {"S": iso(created)}, "creditsCost": {"N": str(cost)},
        "paidOut": {"N": str(paid)}, "fee": {"N": str(fee)}})


def _message(event_id: str, event_type: str, at: datetime, **data: Any) -> dict[str, Any]:
    from chalicelib.models.base import iso

    return {"eventId": event_id, "type": event_type, "occurredAt": iso(at), "data": data}


def test_a_readers_table_through_the_api_counts_requests_acceptances_completions_and_repeat_clients(api, drain):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services.catalog import upsert
    from chalicelib.services.catalog_defaults import default_items

    upsert(default_items())
    make_client("cli", 500)
    make_client("cli2", 500)
    make_reader("rdr").update(actions=[ReaderProfile.attributes.set(
        {"tools": ["tarot"], "abilities": ["empath"], "style": "compassionate"})])
    body = {"readerId": "rdr", "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
            "question": "Will it work out?"}

    def reading(client: str, key: str) -> str:
        created = api.post("/readings", as_user=client, headers={"Idempotency-Key": key}, json_body=body)
        assert created.status_code == 201, created.body
        return created.json_body["id"]

    for n, client in enumerate(("cli", "cli", "cli2")):
        rid = reading(client, f"k{n}")
        for step in ("accept", "start", "complete"):
            assert api.post(f"/readings/{rid}/{step}", as_user="rdr").status_code == 200
    declined = reading("cli2", "k9")
    assert api.post(f"/readings/{declined}/decline", as_user="rdr", json_body={"reason": "Busy"}).status_code == 200
    assert api.post(f"/readings/{rid}/review", as_user="cli2", json_body={"rating": 4}).status_code == 201
    delivered = drain()
    drain()  # nothing pending any more
    for message in delivered:  # every event delivered a second time: nothing more is counted
        from chalicelib.services import events

        events.dispatch(message)

    found = api.get("/reader/metrics?attribute=tarot&period=this_week", as_user="rdr")
    assert found.status_code == 200, found.body
    table = found.json_body
    total = next(row for row in table["periods"] if row["period"] == "total")
    paid = 57 - 57 * 20 // 100
    assert {k: total[k] for k in ("readings", "bookingRequests", "acceptedBookings", "completedReadings",
                                  "creditsEarned", "reviews", "averageRating", "bookingRate", "completionRate",
                                  "repeatClientCount", "repeatClientRate", "from")} == {
        "readings": 3, "bookingRequests": 4, "acceptedBookings": 3, "completedReadings": 3,
        "creditsEarned": 3 * paid, "reviews": 1, "averageRating": 4.0, "bookingRate": 0.75, "completionRate": 1.0,
        "repeatClientCount": 1, "repeatClientRate": 0.5, "from": None}
    assert isinstance(total["averageResponseTime"], float) and total["averageResponseTime"] >= 0
    assert table["timezone"] == "Europe/Lisbon" and table["attributes"] == ["compassionate", "empath", "tarot"]
    assert [row["period"] for row in table["periods"]] == [
        "this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total"]
    assert 1 <= len(table["series"]) <= 7 and table["series"][0]["date"] == table["periods"][0]["from"]
    other = api.get("/reader/metrics?attribute=runes&period=total", as_user="rdr").json_body
    assert next(r for r in other["periods"] if r["period"] == "total")["readings"] == 0
    assert len(other["series"]) >= 180  # total: the last 6 months, day by day
    assert api.get("/reader/metrics?period=next_year", as_user="rdr").status_code == 400
    assert api.get("/reader/metrics", as_user="cli").status_code == 403


def test_an_attribute_neither_the_readers_nor_in_the_catalog_is_a_400_naming_the_field(api):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services.catalog import upsert
    from chalicelib.services.catalog_defaults import default_items

    upsert(default_items())
    make_reader("rdr").update(actions=[ReaderProfile.attributes.set({"tools": ["tarot"], "style": "compassionate"})])

    unknown = api.get("/reader/metrics?attribute=levitation", as_user="rdr")
    dropped = api.get("/reader/metrics?attribute=runes&period=total", as_user="rdr")  # in the catalog, not theirs
    own = api.get("/reader/metrics?attribute=tarot", as_user="rdr")

    assert unknown.status_code == 400, unknown.body
    (field,) = unknown.json_body["error"]["details"]["fields"]
    assert field["path"] == "attribute" and "'levitation'" in field["message"] and field["message"].endswith(".")
    assert dropped.status_code == 200 and dropped.json_body["attribute"] == "runes"
    assert own.status_code == 200 and own.json_body["attribute"] == "tarot"


def test_a_reader_without_activity_gets_every_rate_present_and_null(api):
    make_reader("rdr")

    body = api.get("/reader/metrics", as_user="rdr").json_body

    assert body["attribute"] is None
    for row in body["periods"]:
        assert {key: row[key] for key in ("attribute", "averageRating", "bookingRate", "completionRate",
                                          "repeatClientRate", "averageResponseTime")} == dict.fromkeys(
            ("attribute", "averageRating", "bookingRate", "completionRate", "repeatClientRate",
             "averageResponseTime")), row["period"]
    schemas = api.get("/openapi.json").json_body["components"]["schemas"]
    assert {"attribute", "bookingRate", "completionRate", "averageRating"} <= set(schemas["PeriodMetrics"]["required"])
    assert "attribute" in schemas["ReaderMetricsOut"]["required"]


def test_periods_split_by_the_readers_local_date_and_undefined_rates_are_null(aws):
    from chalicelib.services.metrics import reader

    _profile("r1", "America/New_York", {"tools": ["tarot"], "style": "compassionate"})
    now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Monday 2 November in New York
    _reading("a", datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    events = [
        # 03:30Z on 1 November is still Saturday 31 October in New York: last week, last month.
        _message("e1", "reading.requested", datetime(2026, 11, 1, 3, 30, tzinfo=UTC), readerId="r1", readingId="a"),
        _message("e2", "reading.accepted", datetime(2026, 11, 1, 3, 30, tzinfo=UTC), readerId="r1", readingId="a"),
        # Monday: this week and this month.
        _message("e3", "reading.completed", datetime(2026, 11, 2, 14, 0, tzinfo=UTC), readerId="r1", readingId="a",
                 clientId="c1", paid=40),
    ]
    for message in events:
        assert reader.consume(message, now=now)

    table = reader.metrics_table("r1", attribute="tarot", period="this_week", now=now)
    rows = {row["period"]: row for row in table["periods"]}
    assert (rows["this_week"]["from"], rows["this_week"]["to"]) == ("2026-11-02", "2026-11-02")
    assert (rows["this_week"]["completedReadings"], rows["this_week"]["readings"],
            rows["this_week"]["bookingRequests"]) == (1, 1, 0)
    assert rows["this_week"]["bookingRate"] is None and rows["this_week"]["completionRate"] is None
    assert (rows["last_week"]["bookingRequests"], rows["last_week"]["acceptedBookings"]) == (1, 1)
    assert rows["last_week"]["averageResponseTime"] == 30.0  # requested 03:00Z, accepted 03:30Z
    assert rows["last_month"]["bookingRate"] == 1.0 and rows["this_month"]["creditsEarned"] == 40
    assert rows["total"]["averageRating"] is None and rows["total"]["repeatClientRate"] == 0.0
    assert [d["date"] for d in table["series"]] == ["2026-11-02"]


def test_the_reader_is_marked_for_the_insights_job_by_every_counted_event(aws):
    from chalicelib.services.metrics import reader, store

    _profile("r1", "UTC", {})
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert reader.consume(_message("e1", "review.created", at, readerId="r1", rating=5), now=at)
    assert reader.consume(_message("e1", "review.created", at, readerId="r1", rating=5), now=at) is False
    total = store.get("reader#r1", "total")
    assert (total["attention"], total["attentionAt"], total["reviews"], total["ratingSum"]) == (
        "insights", "2026-06-01T09:00:00.000Z#e1", 1, 5)
    assert reader.consume(_message("e2", "reading.started", at, readerId="r1")) is False  # not a counted event
    assert reader.consume(_message("e3", "review.created", at, readerId="nobody", rating=5)) is False


# --- property: the incremental counters equal a full recomputation ------------------------------

TIMEZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC")
ATTRIBUTES = ({"tools": ["tarot", "runes"], "abilities": ["empath"], "style": "compassionate"},
              {"tools": ["astrology"], "abilities": [], "style": "inspirational"}, {})
KINDS = ("requested", "accepted", "declined", "expired", "cancelled", "cancelled_by_reader", "completed",
         "delivered", "client_no_show", "reader_no_show", "review", "dispute", "refund")

step = st.tuples(st.sampled_from(KINDS), st.integers(0, 1), st.integers(0, 3), st.integers(0, 60 * 24 * 20),
                 st.integers(1, 5), st.integers(1, 50))


def _history(steps: list[tuple[Any, ...]], run: str) -> list[dict[str, Any]]:
    """Events of two readers and four clients; each a reading of its own."""
    messages = []
    for n, (kind, r, c, minutes, rating, amount) in enumerate(steps):
        at = T0 + timedelta(minutes=minutes)
        rid, reader_id, client_id = f"{run}-rd{n}", f"{run}-r{r}", f"c{c}"
        _reading(rid, at - timedelta(minutes=amount), cost=50, paid=40, fee=10)
        base = {"readerId": reader_id, "readingId": rid, "clientId": client_id}
        typed = {"requested": ("reading.requested", {}), "accepted": ("reading.accepted", {}),
                 "declined": ("reading.declined", {"by": "reader"}), "expired": ("reading.expired", {}),
                 "cancelled": ("reading.cancelled", {"by": "client"}),
                 "cancelled_by_reader": ("reading.cancelled", {"by": "reader"}),
                 "completed": ("reading.completed", {"paid": amount, "fee": amount // 4}),
                 "delivered": ("reading.delivered", {"paid": amount, "fee": amount // 4}),
                 "client_no_show": ("reading.no_show", {"paid": amount, "fee": amount // 4, "by": "reader"}),
                 "reader_no_show": ("reading.no_show", {"refunded": 50, "by": "client"}),
                 "review": ("review.created", {"rating": rating}), "dispute": ("dispute.filed", {}),
                 "refund": ("dispute.resolved", {"outcome": "partial_refund", "refunded": amount})}[kind]
        messages.append(_message(f"{run}-e{n}", typed[0], at, **base, **typed[1]))
    return messages


def _recompute(messages: list[dict[str, Any]], setup: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Every bucket's counters from the whole history, in one pass (the reference)."""
    from chalicelib.services.metrics.periods import local_date

    buckets: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    completions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in messages:
        d, kind = m["data"], m["type"]
        timezone, attributes = setup[d["readerId"]]
        at = datetime.fromisoformat(m["occurredAt"].replace("Z", "+00:00"))
        c: Counter[str] = Counter()
        if kind == "reading.requested":
            c["requests"] += 1
        elif kind in ("reading.accepted", "reading.declined"):
            c["accepted" if kind == "reading.accepted" else "declined"] += 1
            c["responses"] += 1
            c["responseSeconds"] += (at - _created[d["readingId"]]).total_seconds()
        elif kind == "reading.expired":
            c["expired"] += 1
        elif kind == "reading.cancelled":
            c["cancelled"] += 1
            c["cancelledByReader"] += d["by"] == "reader"
        elif "paid" in d:
            ids = [*attributes.get("tools", []), *attributes.get("abilities", []),
                   *([attributes["style"]] if attributes.get("style") else [])]
            c.update({"completed": 1, "earned": d["paid"], "fees": d["fee"], **{f"completed:{a}": 1 for a in ids}})
            seen = completions[(d["readerId"], d["clientId"])]
            seen.append(d["readingId"])
            c.update({1: {"clients": 1}, 2: {"repeatClients": 1, "repeatReadings": 1}}.get(
                len(seen), {"repeatReadings": 1}))
        elif kind == "reading.no_show":
            c["noShows"] += 1
        elif kind == "review.created":
            c.update({"reviews": 1, "ratingSum": d["rating"]})
        elif kind == "dispute.filed":
            c["disputes"] += 1
        elif kind == "dispute.resolved":
            refund = d["refunded"]  # of a reading of 50 that paid the reader 40 and the platform 10
            fee_share = 10 * refund // 50
            reader_share = min(refund - fee_share, 40)
            fee_share = refund - reader_share
            c.update({"earned": -reader_share, "takenBack": reader_share, "fees": -fee_share})
        day = local_date(at, timezone).isoformat()
        for sk in (f"day#{day}", "total"):
            buckets[(f"reader#{d['readerId']}", sk)].update(c)
    return {key: {name: value for name, value in counts.items() if value} for key, counts in buckets.items()}


_created: dict[str, datetime] = {}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30), zones=st.tuples(st.sampled_from(TIMEZONES),
                                                                       st.sampled_from(TIMEZONES)),
       kinds=st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(ATTRIBUTES)), seed=st.integers(0, 1000))
def test_incremental_counters_equal_a_full_recomputation_whatever_the_redeliveries(aws, steps, zones, kinds, seed):
    from chalicelib.services.metrics import reader, store

    run = uuid.uuid4().hex[:8]  # each example its own readers: the counters start at zero
    setup = {f"{run}-r{n}": (zones[n], kinds[n]) for n in range(2)}
    for reader_id, (timezone, attributes) in setup.items():
        _profile(reader_id, timezone, attributes)
    messages = _history(steps, run)
    for n, (_, _, _, minutes, _, amount) in enumerate(steps):
        _created[f"{run}-rd{n}"] = (T0 + timedelta(minutes=minutes - amount)).replace(microsecond=0)
    redelivered = messages[:]
    random.Random(seed).shuffle(redelivered)
    for message in itertools.chain(messages, redelivered):  # every event twice
        reader.consume(message)

    expected = _recompute(messages, setup)
    stored = {}
    for reader_id in setup:
        buckets = [*store.between(f"reader#{reader_id}", "day#", "day#~"), store.get(f"reader#{reader_id}", "total")]
        for bucket in buckets:
            if bucket:
                stored[(bucket["pk"], bucket["sk"])] = {
                    k: v for k, v in bucket.items() if k not in ("pk", "sk", "expiresAt", "attention", "attentionAt")
                    and v}
    assert stored == expected
