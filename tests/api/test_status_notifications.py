"""Who hears of a status and its suggestions, in the app: a new status reaches the readers
whose specialties match its category (and no one else), a suggestion reaches its client,
and the end of a status reaches every reader who suggested, each in their own words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.explore import reader
from tests.support.readings import make_client

pytestmark = pytest.mark.usefixtures("default_catalog")

CONTENT = "I keep meeting the same kind of partner and it never lasts. What am I missing?"


def _notes(api: Any, user: str) -> list[dict[str, Any]]:
    return api.get("/notifications", as_user=user).json_body["data"]


@pytest.fixture()
def world(api: Any) -> Any:
    from chalicelib.services.explore import store

    make_client("maria", 500)
    reader("luna", tools=("tarot",), abilities=("medium",), online=True)  # tarot: love matches
    reader("sage", tools=("astrology",), abilities=("empath",), online=True)  # both match love
    reader("rune", tools=("runes",), abilities=("channeling",), online=True)  # spiritual only
    store.rebuild()
    return api


def test_a_status_notifies_matching_readers_then_its_client_then_the_readers_who_suggested(world, drain):
    api = world
    status = api.post("/statuses", as_user="maria", json_body={"content": CONTENT, "category": "love"})
    assert status.status_code == 201, status.body
    status_id = status.json_body["id"]
    drain()

    for matching in ("luna", "sage"):
        [note] = _notes(api, matching)
        assert (note["type"], note["title"], note["actionUrl"]) == (
            "status_posted", "A client is looking for a reading", f"/statuses/{status_id}")
        assert note["message"].startswith("A client posted a new status in the Love category: \u201cI keep meeting")
        assert note["message"].endswith("Suggest a reading for it.")
    assert _notes(api, "rune") == []

    suggestion = {"title": "Three-card relationship spread", "description": "The pattern, its root, the way out.",
                  "suggestedType": "phone_call", "estimatedDuration": 30, "suggestedPrice": 45}
    luna = api.post(f"/statuses/{status_id}/suggestions", as_user="luna", json_body=suggestion).json_body["id"]
    api.post(f"/statuses/{status_id}/suggestions", as_user="sage",
             json_body={**suggestion, "title": "Your love chart for the year"})
    drain()
    told = [(n["type"], n["message"]) for n in _notes(api, "maria")]
    assert ("suggested_reading", "Luna Reader suggested \u201cThree-card relationship spread\u201d for 45 credits "
            "for your status. Accept it to book the reading.") in told
    assert len(told) == 2

    accepted = api.post(f"/statuses/{status_id}/suggestions/{luna}/accept", as_user="maria", json_body={})
    assert accepted.status_code == 201, accepted.body
    reading_id = accepted.json_body["reading"]["id"]
    drain()
    luna_notes = {n["type"]: n for n in _notes(api, "luna")}
    assert luna_notes["status_response"]["title"] == "Suggestion accepted"
    assert luna_notes["status_response"]["actionUrl"] == f"/readings/{reading_id}"
    assert "reading_request" in luna_notes  # the booking's own notification
    [sage_closed] = [n for n in _notes(api, "sage") if n["type"] == "status_response"]
    assert (sage_closed["title"], sage_closed["message"]) == (
        "Status closed", "The client chose another reader's suggestion, so the status is closed.")
