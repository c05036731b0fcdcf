"""A reader's reading options pass the same moderation screen as the profile's other public
text: contact details in an option's name or description are held (the public card and explore
keep the last approved text) until a moderator approves, rules refuse or hold text, and a
moderator's reject keeps the text from the public."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.readings import OPTIONS, make_client, make_reader, outbox_events

pytestmark = pytest.mark.usefixtures("default_catalog")

ADMIN, CLIENT, READER = "user_opt_admin", "user_opt_client", "rdr"
OLD = "A focused half hour on one question."
PHONE = "A focused half hour. Call me direct on 555 123 4567 and skip the fees."
FIELD = "readingOptions.opt_call.description"


@pytest.fixture()
def people(make_user: Any) -> None:
    make_user(ADMIN, role="admin")
    make_client(CLIENT, 500)
    make_reader(READER)


def _put(api: Any, options: list[dict[str, Any]]) -> Any:
    return api.put("/reader/reading-options", as_user=READER, json_body={"readingOptions": options})


def _with(option_id: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**option, **changes} if option["id"] == option_id else dict(option) for option in OPTIONS]


def _public(api: Any) -> dict[str, dict[str, Any]]:
    card = api.get(f"/readers/{READER}")
    assert card.status_code == 200, card.body
    return {option["id"]: option for option in card.json_body["readingOptions"]}


def _explore(api: Any) -> dict[str, dict[str, Any]]:
    from chalicelib.services.explore import store

    store.rebuild()
    card = next(card for card in api.get("/readers?limit=50").json_body["data"] if card["id"] == READER)
    return {option["id"]: option for option in card["readingOptions"]}


def _own(api: Any) -> dict[str, dict[str, Any]]:
    profile = api.get("/reader/profile", as_user=READER)
    assert profile.status_code == 200, profile.body
    return {option["id"]: option for option in profile.json_body["readingOptions"]}


def _queue(api: Any) -> list[dict[str, Any]]:
    response = api.get("/admin/moderation", as_user=ADMIN)
    assert response.status_code == 200, response.body
    return list(response.json_body["data"])


def _decide(api: Any, item_id: str, decision: str) -> None:
    response = api.post(f"/admin/moderation/{item_id}/decide", as_user=ADMIN, json_body={"decision": decision})
    assert response.status_code == 200, response.body


def _held_edit(api: Any) -> str:
    """An approved description, then an edit with a phone number; returns the queue item's id."""
    assert _put(api, _with("opt_call", description=OLD)).status_code == 200
    edited = _put(api, _with("opt_call", description=PHONE))
    assert edited.status_code == 200, edited.body
    [option] = [o for o in edited.json_body["readingOptions"] if o["id"] == "opt_call"]
    assert option["description"] == PHONE and option["moderation"]["description"]["state"] == "held"
    [item] = _queue(api)
    return str(item["id"])


def test_a_phone_number_in_an_option_description_is_held_until_a_moderator_approves_it(api, people):
    item_id = _held_edit(api)

    # the public card and explore keep the approved text; the reader sees theirs, marked
    assert _public(api)["opt_call"]["description"] == OLD
    assert _explore(api)["opt_call"]["description"] == OLD
    own = _own(api)["opt_call"]
    assert own["description"] == PHONE and list(own["moderation"]) == ["description"]
    assert "moderation" not in _own(api)["opt_live"] and "moderation" not in _public(api)["opt_call"]
    [item] = _queue(api)
    assert (item["contentType"], item["contentId"], item["priority"], item["held"]) == ("profile", READER, "high", True)
    assert item["fields"] == [FIELD] and item["excerpts"][FIELD] == PHONE
    assert [(f["field"], f["kind"]) for f in item["findings"]] == [(FIELD, "phone")]

    _decide(api, item_id, "approve")

    assert _public(api)["opt_call"]["description"] == PHONE
    assert _explore(api)["opt_call"]["description"] == PHONE
    assert "moderation" not in _own(api)["opt_call"]
    assert [(e["outcome"], e["fields"]) for e in outbox_events("moderation.decided")] == [("published", [FIELD])]


def test_a_rejected_option_text_stays_off_the_card_until_the_reader_writes_a_clean_one(api, people):
    item_id = _held_edit(api)

    _decide(api, item_id, "reject")

    assert _public(api)["opt_call"]["description"] == OLD
    assert _own(api)["opt_call"]["moderation"]["description"]["state"] == "hidden"
    again = _put(api, _with("opt_call", description=PHONE))  # the same text sent again stays hidden
    assert again.status_code == 200
    assert _own(api)["opt_call"]["moderation"]["description"]["state"] == "hidden"
    assert _public(api)["opt_call"]["description"] == OLD
    fresh = "Half an hour, one question, plain answers."
    assert _put(api, _with("opt_call", description=fresh)).status_code == 200
    assert _public(api)["opt_call"]["description"] == fresh and "moderation" not in _own(api)["opt_call"]


def test_sending_back_the_options_as_read_keeps_a_held_text_held(api, people):
    _held_edit(api)
    as_read = api.get("/reader/profile", as_user=READER).json_body["readingOptions"]  # with prices and moderation

    resent = _put(api, [{**option, "price": option["price"] + 1} for option in as_read])

    assert resent.status_code == 200, resent.body
    assert _own(api)["opt_call"]["moderation"]["description"]["state"] == "held"
    assert _public(api)["opt_call"]["description"] == OLD and _public(api)["opt_call"]["basePrice"] == 61
    assert len(_queue(api)) == 1  # nothing new was screened


def test_a_new_option_with_a_handle_in_its_name_is_off_the_card_and_unbookable_until_approved(api, people):
    new = {
        "type": "phone_call",
        "name": "Long call, WhatsApp me @lunastar",
        "description": "Write me at luna dot star at gmail dot com first.",
        "duration": 60,
        "price": 100,
    }
    added = _put(api, [*OPTIONS, new])
    assert added.status_code == 200, added.body
    [mine] = [o for o in added.json_body["readingOptions"] if o["duration"] == 60]
    assert set(mine["moderation"]) == {"name", "description"}

    assert mine["id"] not in _public(api) and mine["id"] not in _explore(api)
    booking = {"readerId": READER, "optionType": "phone_call", "optionId": mine["id"], "duration": 60}
    refused = api.post("/readings/quote", as_user=CLIENT, json_body=booking)
    assert refused.status_code == 422 and refused.json_body["error"]["code"] == "option_unavailable", refused.body

    [item] = _queue(api)
    _decide(api, item["id"], "approve")

    shown = _public(api)[mine["id"]]
    assert (shown["name"], shown["description"]) == (new["name"], new["description"])
    assert api.post("/readings/quote", as_user=CLIENT, json_body=booking).status_code == 200


def test_a_new_option_with_a_held_description_shows_it_empty(api, people):
    added = _put(
        api, [*OPTIONS, {"type": "phone_call", "name": "Long call", "description": PHONE, "duration": 60, "price": 100}]
    )
    [mine] = [o for o in added.json_body["readingOptions"] if o["duration"] == 60]

    shown = _public(api)[mine["id"]]
    assert (shown["name"], shown["description"]) == ("Long call", "")


def test_an_auto_reject_rule_refuses_an_option_text_by_its_place_in_the_request(api, people):
    rule = {
        "name": "Curse removal",
        "contentType": "profile",
        "conditions": {"keywords": ["curse removal"]},
        "action": "auto_reject",
    }
    assert api.post("/admin/moderation-rules", as_user=ADMIN, json_body=rule).status_code == 201

    refused = _put(api, _with("opt_live", name="Curse removal session"))

    assert refused.status_code == 422, refused.body
    assert refused.json_body["error"]["code"] == "content_rejected"
    [field] = refused.json_body["error"]["details"]["fields"]
    assert field["path"] == "readingOptions.1.name" and field["message"].endswith(".")
    assert _own(api)["opt_live"]["name"] == "Live video" and _queue(api) == []


def test_an_application_with_a_phone_number_in_an_option_becomes_a_card_without_it(api, people, make_user):
    from tests.api.test_reader_applications import COMPLETE, become_reader

    options = [{**COMPLETE["readingOptions"][0], "description": PHONE}]
    become_reader(api, make_user, "applicant", admin_id=ADMIN, readingOptions=options)

    [own] = api.get("/reader-application", as_user="applicant").json_body["readingOptions"]
    assert own["description"] == PHONE and own["moderation"]["description"]["state"] == "held"
    [shown] = api.get("/readers/applicant").json_body["readingOptions"]
    assert (shown["name"], shown["description"]) == ("Quick call", "")
    [item] = _queue(api)
    assert item["fields"] == [f"readingOptions.{own['id']}.description"]

    _decide(api, item["id"], "approve")

    [shown] = api.get("/readers/applicant").json_body["readingOptions"]
    assert shown["description"] == PHONE


def test_a_decision_landing_during_an_edit_is_kept_the_edit_is_worked_out_again(api, people, monkeypatch):
    from chalicelib.domain import option_moderation
    from chalicelib.services.moderation import decisions

    item_id = _held_edit(api)
    real = option_moderation.merged
    calls: list[int] = []

    def merged_while_a_moderator_decides(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # between the edit's read and its commit
            decisions.decide(item_id, "approve", notes=None, admin_id=ADMIN)
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(option_moderation, "merged", merged_while_a_moderator_decides)
    as_read = api.get("/reader/profile", as_user=READER).json_body["readingOptions"]

    edited = _put(api, [{**option, "price": option["price"] + 1} for option in as_read])

    assert edited.status_code == 200, edited.body
    assert len(calls) == 2  # the first commit found the options changed: read and worked out again
    assert _public(api)["opt_call"]["description"] == PHONE and _public(api)["opt_call"]["basePrice"] == 61
    assert "moderation" not in _own(api)["opt_call"]
