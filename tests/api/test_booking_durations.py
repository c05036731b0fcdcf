"""Reading durations stay within what one booking transaction can write: a scheduled
reading writes a slot per 5 minutes together with the reading, the hold and an event,
and DynamoDB commits at most 100 operations at once."""

from __future__ import annotations

import pytest

from chalicelib.domain.readings import DURATION_MAX
from chalicelib.services import catalog
from tests.support.readings import OPTIONS, QUESTION, TOPIC, make_client, make_reader, next_local

pytestmark = pytest.mark.usefixtures("default_catalog")

ALL_DAY = {day: [{"start": "00:00", "end": "24:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _time_span(minutes: int) -> None:
    catalog.upsert([("time_span", f"{minutes}-min", {"duration": minutes, "label": f"{minutes} minutes",
                                                     "multiplier": "1.0"})])


def _book(api, client: str, minutes: int, at) -> object:
    body = {"readerId": "rdr", "optionType": "phone_call", "topicId": TOPIC, "question": QUESTION,
            "duration": minutes, "scheduledAt": at.isoformat().replace("+00:00", "Z")}
    return api.post("/readings", as_user=client, json_body=body)


def test_a_duration_longer_than_the_limit_is_a_400_even_when_the_catalog_lists_it(api):
    # 600 minutes would be 120 slot writes: past DynamoDB's 100 operations (a 500 before).
    make_client("cli", 5000)
    make_reader("rdr", options=OPTIONS, week=ALL_DAY)
    _time_span(600)

    response = _book(api, "cli", 600, next_local(3, "08:00"))

    assert response.status_code == 400, response.body
    assert [f["path"] for f in response.json_body["error"]["details"]["fields"]] == ["duration"]
    assert api.get("/credits", as_user="cli").json_body["balance"]["held"] == 0


def test_the_longest_reading_books_and_its_cancellation_frees_every_slot(api):
    make_client("cli", 5000)
    make_client("ben", 5000)
    make_reader("rdr", options=OPTIONS, week=ALL_DAY)
    _time_span(DURATION_MAX)
    at = next_local(3, "08:00")

    booked = _book(api, "cli", DURATION_MAX, at)
    assert booked.status_code == 201, booked.body
    reading_id = booked.json_body["id"]
    assert _book(api, "ben", DURATION_MAX, at).status_code == 409  # every slot is taken
    assert api.post(f"/readings/{reading_id}/accept", as_user="rdr").status_code == 200
    cancelled = api.post(f"/readings/{reading_id}/cancel", as_user="cli", json_body={})

    assert cancelled.status_code == 200, cancelled.body
    assert _book(api, "ben", DURATION_MAX, at).status_code == 201
