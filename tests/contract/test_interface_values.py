"""The product-interface names added beside the API's own carry the same values: what a
frontend built from the interfaces reads is what the API means."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.support.readings import make_client, make_reader, next_local

pytestmark = pytest.mark.usefixtures("default_catalog")


def _complete(reading_id: str) -> None:
    """Accepted, then completed as the lifecycle would leave it (the money is not the point here)."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readings import Reading
    from chalicelib.services import readings

    readings.accept(reading_id, "rdr", "reader")
    reading = Reading.get(reading_id, consistent_read=True)
    reading.update(actions=[Reading.status.set("completed"), Reading.completed_at.set(iso(utcnow()))])


def test_a_reading_and_its_review_carry_the_interface_names_with_the_same_values(api):
    make_client("cli", 500)
    make_reader("rdr")
    start = next_local(2, "10:00")
    created = api.post("/readings", as_user="cli", json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30, "scheduledAt": start.isoformat(),
        "topicId": "love-relationships", "question": "Will it work out?"})
    assert created.status_code == 201, created.body
    reading = created.json
    assert reading["createdDate"] == reading["createdAt"]
    assert reading["scheduledDate"] == reading["scheduledStart"] and reading["scheduledDate"] is not None
    assert "completedDate" not in reading and "deliveryUrl" not in reading

    _complete(reading["id"])
    reviewed = api.post(f"/readings/{reading['id']}/review", as_user="cli", json_body={"rating": 5, "comment": "Kind"})
    assert reviewed.status_code == 201, reviewed.body
    for viewer in ("cli", "rdr"):
        seen = api.get(f"/readings/{reading['id']}", as_user=viewer).json
        assert seen["completedDate"] == seen["completedAt"] and seen["completedDate"] is not None
        review = seen["review"]
        assert (review["readingId"], review["clientId"], review["readerId"]) == (reading["id"], "cli", "rdr")
        assert review["createdDate"] == review["createdAt"] and review["isDisputed"] is False

    # A reader's reviews keep their count beside them (the rating count): an exact total.
    reviews = api.get("/readers/rdr/reviews?limit=1").json
    assert reviews["pagination"]["total"] == len(reviews["data"]) == 1
    assert "total" not in api.get("/readings?as=client&tab=archived", as_user="cli").json["pagination"]


def test_a_disputed_readings_review_says_so_and_the_delivery_url_is_the_video_url():
    from chalicelib.schemas.readings import ReadingOut, reading_document

    reading = SimpleNamespace(
        reading_id="rdg_1", client_id="cli", reader_id="rdr", status="disputed", topic_id="love-relationships",
        topic="Love & Relationships", question=None,
        reading_option={"id": "opt_msg", "type": "video_message", "duration": 15, "price": 40},
        duration=15, pricing={"rate": 2.6667, "minutes": 15, "multiplier": 1, "total": 40}, credits_cost=40,
        schedule="immediate", scheduled_start=None, scheduled_end=None, respond_by=None, delivery_due_at=None,
        created_at="2026-12-01T10:00:00Z", updated_at="2026-12-01T12:00:00Z", accepted_at="2026-12-01T10:05:00Z",
        started_at=None, completed_at="2026-12-01T11:00:00Z", closed_at=None, closed_by=None, close_reason=None,
        no_show=None, refunded=0, review={"id": "rdg_1", "rating": 2, "comment": "", "createdAt": "2026-12-01T11:30Z"},
        dispute={"reason": "The video never played.", "openedAt": "2026-12-01T12:00:00Z", "status": "open"})
    delivery = {"type": "video_message", "videoUrl": "https://media.example.com/v.mp4?sig=1"}
    document = reading_document(reading, "cli", "client", [], delivery)
    out = ReadingOut.model_validate(document).dump()

    assert out["deliveryUrl"] == delivery["videoUrl"] == out["delivery"]["videoUrl"]
    assert out["review"]["isDisputed"] is True


def test_me_carries_the_user_interface_names_its_preferences_and_current_subscription(api, make_user):
    from datetime import UTC, datetime

    from chalicelib.services.payments import apply_subscription

    make_user("usr_1", last_login_at="2026-12-01T09:00:00Z", credits_available=25)
    me = api.get("/me", as_user="usr_1").json
    assert me["createdDate"] == me["createdAt"] and me["lastLogin"] == me["lastLoginAt"]
    assert me["credits"] == me["balance"]["available"] == 25  # User.credits is the number to spend
    assert "subscriptionId" not in me
    assert me["preferences"] == api.get("/me/preferences", as_user="usr_1").json
    assert me["preferences"]["userId"] == me["preferences"]["id"] == "usr_1"
    assert me["preferences"]["version"] == 0  # defaults only

    def ts(day: int) -> int:
        return int(datetime(2026, 12, day, tzinfo=UTC).timestamp())

    apply_subscription({"id": "sub_123", "status": "trialing", "created": ts(1), "customer": "cus_1",
                        "current_period_start": ts(1), "current_period_end": ts(8),
                        "metadata": {"userId": "usr_1", "planId": "plan-basic"}})
    assert api.get("/me", as_user="usr_1").json["subscriptionId"] == "sub_123"
    subscription = api.get("/subscriptions/me", as_user="usr_1").json["subscription"]
    assert subscription["id"] == subscription["stripeSubscriptionId"] == subscription["subscriptionId"]
    assert subscription["userId"] == "usr_1" and subscription["trialEnd"] == subscription["currentPeriodEnd"]
    assert subscription["trialEnd"].startswith("2026-12-08T00:00:00") and subscription["version"] == 1
    assert subscription["credits"] == {"included": 0, "used": 0, "rollover": 0}  # no paid invoice yet


def test_the_readers_own_profile_has_the_psychic_reader_fields_and_earnings_stay_private(api):
    from chalicelib.models.users import User

    make_reader("rdr")
    User.get("rdr").update(actions=[User.credits_earnings.set(123)])
    own = api.get("/reader/profile", as_user="rdr").json
    assert own["isApproved"] is True and own["createdDate"] == own["createdAt"]
    assert own["lastActive"] == own["lastSeenAt"]
    assert own["stats"] == {"totalReadings": own["totalReadings"], "averageRating": own["ratingAverage"],
                            "completionRate": None, "totalEarnings": 123}
    assert isinstance(own["reviews"], list)
    card = api.get("/readers/rdr").json
    assert "totalEarnings" not in card["stats"]
