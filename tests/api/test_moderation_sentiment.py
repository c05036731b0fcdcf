"""Moderation rules with a ``sentiment`` condition (the product's ModerationRule.conditions):
admins write them over HTTP, the screen labels each text with the built-in scorer, and the queue
item of a rule that fired carries the score."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.readings import MONDAY, book, make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")

ADMIN, CLIENT, READER = "user_sent_admin", "user_sent_client", "rdr"
SHORT_NEGATIVE = {
    "name": "Short negative reviews",
    "description": "A one-line attack on a reader needs a moderator's eye before it is public.",
    "contentType": "review",
    "conditions": {"sentiment": "negative", "length": {"max": 19}},
    "action": "escalate",
    "flaggedReason": "harassment",
}


@pytest.fixture()
def people(make_user: Any) -> None:
    make_user(ADMIN, role="admin")
    make_client(CLIENT, 500)
    make_reader(READER)


def _review(api: Any, comment: str, rating: int) -> Any:
    from chalicelib.services import readings

    rid = book(CLIENT, READER, now=MONDAY).reading_id
    readings.accept(rid, READER, "reader", now=MONDAY)
    readings.start(rid, READER, "reader", now=MONDAY + timedelta(minutes=1))
    readings.complete(rid, CLIENT, "client", now=MONDAY + timedelta(minutes=31))
    return api.post(f"/readings/{rid}/review", as_user=CLIENT, json_body={"rating": rating, "comment": comment})


def _queue(api: Any, status: str = "pending") -> list[dict[str, Any]]:
    response = api.get(f"/admin/moderation?status={status}", as_user=ADMIN)
    assert response.status_code == 200, response.body
    return list(response.json_body["data"])


def _public_reviews(api: Any) -> list[str | None]:
    return [row.get("comment") for row in api.get(f"/readers/{READER}/reviews").json_body["data"]]


def test_a_short_negative_review_is_escalated_with_its_score_and_a_positive_one_is_not(api, people):
    created = api.post("/admin/moderation-rules", as_user=ADMIN, json_body=SHORT_NEGATIVE)
    assert created.status_code == 201, created.body
    rule_id = created.json_body["id"]

    kind = _review(api, "Wonderful reading!", 5)
    assert kind.status_code == 201, kind.body
    assert "moderation" not in kind.json_body["review"]
    assert _queue(api) == [] and _queue(api, "escalated") == []
    assert _public_reviews(api) == ["Wonderful reading!"]

    harsh = _review(api, "Terrible, a scam.", 1)

    assert harsh.status_code == 201, harsh.body
    assert harsh.json_body["review"]["moderation"]["state"] == "held"
    assert _public_reviews(api) == ["Wonderful reading!"]  # held: not public until a moderator decides
    [item] = _queue(api, "escalated")
    assert (item["contentType"], item["priority"], item["flaggedReason"], item["held"]) == (
        "review",
        "urgent",
        "harassment",
        True,
    )
    [finding] = item["findings"]
    assert (finding["ruleId"], finding["action"], finding["sentiment"]) == (rule_id, "escalate", "negative")
    assert finding["sentimentScore"] == pytest.approx(-0.84, abs=0.001)
    assert item["autoModerationScore"] == pytest.approx(0.84, abs=0.001)  # the label's confidence


def test_a_longer_negative_review_is_outside_the_rules_length(api, people):
    assert api.post("/admin/moderation-rules", as_user=ADMIN, json_body=SHORT_NEGATIVE).status_code == 201

    posted = _review(api, "Terrible, a scam, and the call dropped twice.", 1)

    assert posted.status_code == 201 and "moderation" not in posted.json_body["review"]
    assert _queue(api, "escalated") == []


def test_an_auto_reject_sentiment_rule_refuses_with_a_sentence(api, people):
    rule = {**SHORT_NEGATIVE, "contentType": "any", "action": "auto_reject", "conditions": {"sentiment": "negative"}}
    assert api.post("/admin/moderation-rules", as_user=ADMIN, json_body=rule).status_code == 201

    refused = _review(api, "Rude and unprofessional.", 1)

    assert refused.status_code == 422, refused.body
    [field] = refused.json_body["error"]["details"]["fields"]
    assert field["path"] == "comment" and "reads as negative" in field["message"] and field["message"].endswith(".")


def test_the_sentiment_condition_round_trips_through_the_admin_api(api, people):
    created = api.post("/admin/moderation-rules", as_user=ADMIN, json_body=SHORT_NEGATIVE)
    rule_id = created.json_body["id"]
    assert created.json_body["conditions"] == {"sentiment": "negative", "length": {"max": 19}}
    assert api.get(f"/admin/moderation-rules/{rule_id}", as_user=ADMIN).json_body["conditions"]["sentiment"] == (
        "negative"
    )

    changed = api.patch(
        f"/admin/moderation-rules/{rule_id}", as_user=ADMIN, json_body={"conditions": {"sentiment": "neutral"}}
    )

    assert changed.status_code == 200, changed.body
    assert changed.json_body["conditions"] == {"sentiment": "neutral"} and changed.json_body["version"] == 2
    listed = api.get("/admin/moderation-rules", as_user=ADMIN).json_body["data"]
    assert [(rule["id"], rule["conditions"].get("sentiment")) for rule in listed] == [(rule_id, "neutral")]
    # a sentiment alone is a condition
    alone = {**SHORT_NEGATIVE, "conditions": {"sentiment": "positive"}, "action": "auto_approve"}
    assert api.post("/admin/moderation-rules", as_user=ADMIN, json_body=alone).status_code == 201


@pytest.mark.parametrize("value", ["angry", "NEGATIVE", "", 1, ["negative"]])
def test_any_other_sentiment_is_refused_naming_the_field(api, people, value):
    created = api.post(
        "/admin/moderation-rules",
        as_user=ADMIN,
        json_body={**SHORT_NEGATIVE, "conditions": {"sentiment": value}},
    )
    rule_id = api.post("/admin/moderation-rules", as_user=ADMIN, json_body=SHORT_NEGATIVE).json_body["id"]
    patched = api.patch(
        f"/admin/moderation-rules/{rule_id}", as_user=ADMIN, json_body={"conditions": {"sentiment": value}}
    )

    for response in (created, patched):
        assert response.status_code == 400, response.body
        error = response.json_body["error"]
        assert error["message"].endswith(".")
        [field] = error["details"]["fields"]
        assert field["path"] == "conditions.sentiment" and field["message"].endswith(".")
    assert api.get(f"/admin/moderation-rules/{rule_id}", as_user=ADMIN).json_body["version"] == 1
    assert len(api.get("/admin/moderation-rules", as_user=ADMIN).json_body["data"]) == 1
