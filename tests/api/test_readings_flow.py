"""A reading from request to review, through the API, with the money it moves."""

from __future__ import annotations

import pytest

from tests.support.readings import make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")


def _balance(api, user):
    return api.get("/credits", as_user=user).json_body["balance"]


def test_immediate_call_request_accept_start_complete_review(api, aws):
    make_client("cli", 200)
    make_reader("rdr")
    quote = api.post("/readings/quote", as_user="cli", json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30})
    assert quote.status_code == 200, quote.body
    q = quote.json_body
    # 60 credits / 30 minutes = 2 per minute, 30 minutes, multiplier 0.95 -> ceil(57) = 57
    assert q["price"] == {"rate": 2, "minutes": 30, "multiplier": 0.95, "total": 57} and q["available"]

    created = api.post("/readings", as_user="cli", headers={"Idempotency-Key": "k1"}, json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
        "question": "Will it work out?"})
    assert created.status_code == 201, created.body
    reading = created.json_body
    assert reading["status"] == "requested" and reading["creditsCost"] == 57
    assert _balance(api, "cli")["available"] == 143 and _balance(api, "cli")["held"] == 57

    replay = api.post("/readings", as_user="cli", headers={"Idempotency-Key": "k1"}, json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
        "question": "Will it work out?"})
    assert replay.status_code == 200 and replay.json_body["id"] == reading["id"]
    assert _balance(api, "cli")["held"] == 57

    rid = reading["id"]
    assert api.post(f"/readings/{rid}/accept", as_user="rdr").json_body["status"] == "accepted"
    assert _balance(api, "cli")["held"] == 0
    session = api.post(f"/readings/{rid}/delivery", as_user="rdr", json_body={}).json_body["delivery"]
    assert session["provider"] == "local" and session["attendee"]["joinToken"]
    client_view = api.get(f"/readings/{rid}", as_user="cli").json_body["delivery"]
    assert client_view["attendee"]["joinToken"] != session["attendee"]["joinToken"]
    assert api.post(f"/readings/{rid}/start", as_user="rdr").json_body["status"] == "in_progress"
    done = api.post(f"/readings/{rid}/complete", as_user="rdr")
    assert done.json_body["status"] == "completed"
    assert api.get("/credits", as_user="rdr").json_body["balance"]["earnings"] == 57 - 57 * 20 // 100

    reviewed = api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": 4, "comment": "Lovely"})
    assert reviewed.status_code == 201, reviewed.body
    assert api.post(f"/readings/{rid}/review", as_user="cli", json_body={"rating": 5}).status_code == 409
    reviews = api.get("/readers/rdr/reviews").json_body["data"]
    assert [(r["rating"], r["comment"]) for r in reviews] == [(4, "Lovely")]
    profile = api.get("/readers/rdr").json_body
    assert (profile["ratingAverage"], profile["ratingCount"]) == (4, 1)

    lists = {tab: [r["id"] for r in api.get(f"/readings?as=client&tab={tab}", as_user="cli").json_body["data"]]
             for tab in ("requested", "accepted", "archived")}
    assert lists == {"requested": [], "accepted": [], "archived": [rid]}
    assert api.get(f"/readings/{rid}", as_user="someone_else").status_code == 404
