"""/me/onboarding and /me/age-verification: steps from the role's catalogue, a completion
percentage that follows the real profile fields, and an 18+ gate that stores no birth date."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import pytest

CLIENT_STEPS = ["welcome", "preferences", "age_verification", "first_credits", "first_reading"]
READER_STEPS = ["welcome", "preferences", "age_verification", "profile", "reading_options", "availability",
                "first_credits", "first_reading"]


def onboarding(api, user: str) -> dict[str, Any]:
    response = api.get("/me/onboarding", as_user=user)
    assert response.status_code == 200
    return response.json


def table_items(short_name: str) -> list[dict[str, Any]]:
    import boto3

    return boto3.resource("dynamodb").Table(f"{os.environ['RESOURCE_PREFIX']}-{short_name}").scan(
        ConsistentRead=True)["Items"]


def fixed_clock(monkeypatch, moment: datetime) -> None:
    from chalicelib.services import onboarding as service

    monkeypatch.setattr(service, "utcnow", lambda: moment)


# --- onboarding -------------------------------------------------------------------------------

def test_a_new_client_starts_at_the_first_step_with_nothing_complete(api, make_user):
    make_user("user_new")

    state = onboarding(api, "user_new")

    assert state["userId"] == "user_new"
    assert state["completedSteps"] == [] and state["currentStep"] == "welcome"
    assert [s["id"] for s in state["steps"]] == CLIENT_STEPS
    assert state["skipTutorial"] is False and state["welcomeMessageShown"] is False
    assert state["profileCompletionPercentage"] == 0 and state["isComplete"] is False


def test_the_percentage_follows_the_real_profile_fields(api, make_user):
    from chalicelib.models.users import User

    make_user("user_grow")
    seen = [onboarding(api, "user_grow")["profileCompletionPercentage"]]
    api.patch("/me", as_user="user_grow", json_body={"displayName": "Grace"})
    seen.append(onboarding(api, "user_grow")["profileCompletionPercentage"])
    api.put("/me/preferences", as_user="user_grow", json_body={"theme": "dark"})
    seen.append(onboarding(api, "user_grow")["profileCompletionPercentage"])
    User(user_id="user_grow").update(actions=[User.image_url.set("https://img.example/grace.png")])
    seen.append(onboarding(api, "user_grow")["profileCompletionPercentage"])
    api.post("/me/age-verification", as_user="user_grow",
             json_body={"method": "self_declared", "dateOfBirth": "1990-04-12"})
    final = onboarding(api, "user_grow")
    seen.append(final["profileCompletionPercentage"])
    # And it goes down again when a field goes away.
    User(user_id="user_grow").update(actions=[User.image_url.remove()])

    assert seen == [0, 25, 50, 75, 100]
    assert onboarding(api, "user_grow")["profileCompletionPercentage"] == 75
    assert {c["field"]: c["complete"] for c in final["profileChecklist"]} == {
        "displayName": True, "imageUrl": True, "preferences": True, "ageVerified": True}
    # Saving preferences and verifying the age completed their steps by themselves.
    assert final["completedSteps"] == ["preferences", "age_verification"]


def _reader_profile(reader_id: str, **fields: Any) -> None:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile

    now = iso(utcnow())
    try:
        profile = ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        profile = ReaderProfile(reader_id=reader_id, status="approved", created_at=now)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.updated_at = now
    profile.save()


def test_a_readers_percentage_and_steps_include_the_reader_profile(api, make_user):
    make_user("user_seer", role="reader", display_name="Seer", image_url="https://img.example/s.png")
    _reader_profile("user_seer", tagline="I see", location="Lisbon")
    partial = onboarding(api, "user_seer")

    _reader_profile(
        "user_seer", tagline="I see", location="Lisbon", profile_image="https://img.example/p.webp",
        attributes={"tools": ["Tarot"], "abilities": ["Empath"], "style": "Compassionate"},
        reading_options=[{"id": "o1", "type": "phone_call", "duration": 15, "price": 15, "isActive": False},
                         {"id": "o2", "type": "live_video", "duration": 30, "price": 40, "isActive": True}],
        availability={"timezone": "Europe/Lisbon", "instantBooking": True,
                      "schedule": {"monday": [{"start": "09:00", "end": "12:00"}], "tuesday": []}})
    full = onboarding(api, "user_seer")

    assert [s["id"] for s in partial["steps"]] == READER_STEPS
    assert partial["profileCompletionPercentage"] == 40  # name, image, tagline, location of 10
    assert full["profileCompletionPercentage"] == 80  # preferences and age still missing
    assert full["completedSteps"] == ["profile", "reading_options", "availability"]
    assert full["currentStep"] == "welcome"


def test_a_reader_with_only_inactive_options_and_an_empty_schedule_has_not_done_those_steps(api, make_user):
    make_user("user_idle", role="reader")
    _reader_profile("user_idle", reading_options=[{"id": "o1", "type": "phone_call", "isActive": False}],
                    availability={"timezone": "UTC", "instantBooking": False, "schedule": {"monday": []}},
                    attributes={"tools": ["Tarot"], "abilities": [], "style": "Compassionate"})

    state = onboarding(api, "user_idle")

    checks = {c["field"]: c["complete"] for c in state["profileChecklist"]}
    assert checks["readingOptions"] is False and checks["availability"] is False and checks["attributes"] is False
    assert state["completedSteps"] == []


def test_patch_marks_steps_and_moves_the_current_step(api, make_user):
    make_user("user_steps")

    first = api.patch("/me/onboarding", as_user="user_steps",
                      json_body={"completeSteps": ["welcome"], "welcomeMessageShown": True})
    chosen = api.patch("/me/onboarding", as_user="user_steps", json_body={"currentStep": "first_reading"})
    more = api.patch("/me/onboarding", as_user="user_steps", json_body={"completeSteps": ["first_reading"]})

    assert first.status_code == 200
    assert first.json["completedSteps"] == ["welcome"] and first.json["currentStep"] == "preferences"
    assert first.json["welcomeMessageShown"] is True and first.json["updatedAt"].endswith("Z")
    assert chosen.json["currentStep"] == "first_reading"
    # Once the chosen step is done, the first incomplete one is current again; earlier steps stay done.
    assert more.json["completedSteps"] == ["welcome", "first_reading"]
    assert more.json["currentStep"] == "preferences"
    assert onboarding(api, "user_steps") == more.json


def test_skipping_the_tutorial_is_remembered_and_can_be_undone(api, make_user):
    make_user("user_skip")

    skipped = api.patch("/me/onboarding", as_user="user_skip", json_body={"skipTutorial": True}).json
    resumed = api.patch("/me/onboarding", as_user="user_skip", json_body={"skipTutorial": False}).json

    assert skipped["skipTutorial"] is True and resumed["skipTutorial"] is False


def test_a_client_who_has_done_everything_is_complete(api, make_user):
    make_user("user_done", preferences={"theme": "auto"}, age_verified_at="2024-01-01T00:00:00.000Z")

    state = api.patch("/me/onboarding", as_user="user_done",
                      json_body={"completeSteps": ["welcome", "first_credits", "first_reading"]}).json

    assert state["completedSteps"] == CLIENT_STEPS
    assert state["isComplete"] is True and "currentStep" not in state


def test_an_empty_patch_changes_nothing(api, make_user):
    make_user("user_empty")

    response = api.patch("/me/onboarding", as_user="user_empty", json_body={})

    assert response.status_code == 200 and "updatedAt" not in response.json


@pytest.mark.parametrize("body,path", [
    ({"completeSteps": ["flying"]}, "completeSteps.0"),
    ({"completeSteps": ["welcome", "profile"]}, "completeSteps.1"),  # a reader's step, asked by a client
    ({"currentStep": "the_end"}, "currentStep"),
    ({"currentStep": "availability"}, "currentStep"),
])
def test_an_unknown_step_is_a_400_and_nothing_is_stored(api, make_user, body, path):
    make_user("user_bad")

    response = api.patch("/me/onboarding", as_user="user_bad", json_body={**body, "skipTutorial": True})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "unknown_step"
    assert [f["path"] for f in response.json["error"]["details"]["fields"]] == [path]
    assert response.json["error"]["details"]["steps"] == CLIENT_STEPS
    state = onboarding(api, "user_bad")
    assert state["completedSteps"] == [] and state["skipTutorial"] is False


@pytest.mark.parametrize("body,path", [
    ({"completeSteps": "welcome"}, "completeSteps"),
    ({"completeSteps": [1]}, "completeSteps.0"),
    ({"skipTutorial": "yes"}, "skipTutorial"),
    ({"completedSteps": ["welcome"]}, "completedSteps"),  # the read-only field is not writable
    ({"profileCompletionPercentage": 100}, "profileCompletionPercentage"),
    ({"completeSteps": ["welcome"] * 21}, "completeSteps"),
])
def test_a_malformed_patch_is_a_400(api, make_user, body, path):
    make_user("user_shape")

    response = api.patch("/me/onboarding", as_user="user_shape", json_body=body)

    assert response.status_code == 400
    assert path in [f["path"] for f in response.json["error"]["details"]["fields"]]


def test_an_automatic_step_cannot_be_marked_by_hand(api, make_user):
    make_user("user_claims", role="reader")

    response = api.patch("/me/onboarding", as_user="user_claims",
                         json_body={"completeSteps": ["welcome", "age_verification", "profile"]})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "step_not_completable"
    assert response.json["error"]["details"]["steps"] == ["age_verification", "profile"]
    assert onboarding(api, "user_claims")["completedSteps"] == []  # not even the valid part


def test_concurrent_patches_from_stale_views_both_land(api, make_user):
    """Steps are added with ADD on a set: two writers that read before either wrote lose nothing."""
    from chalicelib.models.users import User
    from chalicelib.services import onboarding as service

    make_user("user_race")
    view_a, view_b = User.get("user_race"), User.get("user_race")

    service.update(view_a, complete_steps=["welcome"])
    service.update(view_b, complete_steps=["first_credits"], welcome_message_shown=True)

    state = onboarding(api, "user_race")
    assert state["completedSteps"] == ["welcome", "first_credits"] and state["welcomeMessageShown"] is True


# --- age verification -------------------------------------------------------------------------

def test_an_adult_is_verified_and_me_shows_it(api, make_user):
    make_user("user_adult")

    response = api.post("/me/age-verification", as_user="user_adult",
                        json_body={"method": "self_declared", "dateOfBirth": "1990-04-12"})

    assert response.status_code == 200
    record = response.json
    assert record["verified"] is True and record["method"] == "self_declared" and record["minimumAge"] == 18
    assert record["verifiedDate"].endswith("Z")
    assert api.get("/me", as_user="user_adult").json["flags"]["ageVerified"] is True
    [event] = [e for e in table_items("outbox") if e["type"] == "user.age_verified"]
    assert event["data"]["user_id"] == "user_adult"


def test_the_method_may_be_omitted_it_defaults_to_its_only_value(api, make_user):
    make_user("user_no_method")

    response = api.post("/me/age-verification", as_user="user_no_method", json_body={"dateOfBirth": "1990-04-12"})

    assert response.status_code == 200, response.json
    assert response.json["verified"] is True and response.json["method"] == "self_declared"
    [user] = table_items("users")
    assert user["ageVerificationMethod"] == "self_declared"


def test_the_date_of_birth_is_not_stored_anywhere(api, make_user):
    make_user("user_private")

    api.post("/me/age-verification", as_user="user_private",
             json_body={"method": "self_declared", "dateOfBirth": "1987-11-23"})

    stored = repr(table_items("users")) + repr(table_items("outbox"))
    assert "1987" not in stored and "11-23" not in stored
    [user] = table_items("users")
    assert user["ageVerificationMethod"] == "self_declared" and user["ageVerifiedAt"].endswith("Z")


def test_exactly_eighteen_today_is_accepted_and_one_day_short_is_refused(api, make_user, monkeypatch):
    fixed_clock(monkeypatch, datetime(2026, 3, 10, 23, 59, tzinfo=UTC))
    make_user("user_young")
    make_user("user_birthday")

    short = api.post("/me/age-verification", as_user="user_young",
                     json_body={"method": "self_declared", "dateOfBirth": "2008-03-11"})
    exact = api.post("/me/age-verification", as_user="user_birthday",
                     json_body={"method": "self_declared", "dateOfBirth": "2008-03-10"})

    assert (short.status_code, short.json["error"]["code"]) == (422, "underage")
    assert short.json["error"]["details"] == {"minimumAge": 18}
    assert exact.status_code == 200
    assert exact.json["verifiedDate"] == "2026-03-10T23:59:00.000Z"
    assert api.get("/me", as_user="user_young").json["flags"]["ageVerified"] is False


def test_under_eighteen_is_refused_and_nothing_is_stored(api, make_user):
    make_user("user_teen")
    teen = date.today().replace(year=date.today().year - 15, day=1).isoformat()

    response = api.post("/me/age-verification", as_user="user_teen",
                        json_body={"method": "self_declared", "dateOfBirth": teen})

    assert response.status_code == 422 and response.json["error"]["code"] == "underage"
    [user] = table_items("users")
    assert "ageVerifiedAt" not in user and "ageVerificationMethod" not in user
    assert [e for e in table_items("outbox") if e["type"] == "user.age_verified"] == []


@pytest.mark.parametrize("body,path", [
    ({"method": "self_declared", "dateOfBirth": "2026-03-11"}, "dateOfBirth"),  # tomorrow
    ({"method": "self_declared", "dateOfBirth": "2100-01-01"}, "dateOfBirth"),
    ({"method": "self_declared", "dateOfBirth": "1899-12-31"}, "dateOfBirth"),
    ({"method": "self_declared", "dateOfBirth": "1990-02-30"}, "dateOfBirth"),
    ({"method": "self_declared", "dateOfBirth": "1990-4-12"}, "dateOfBirth"),
    ({"method": "self_declared", "dateOfBirth": "12/04/1990"}, "dateOfBirth"),
    ({"method": "self_declared", "dateOfBirth": 640000000}, "dateOfBirth"),
    ({"method": "self_declared"}, "dateOfBirth"),
    ({}, "dateOfBirth"),  # the method defaults; the date is the declaration itself
    ({"method": "credit_card", "dateOfBirth": "1990-04-12"}, "method"),  # not self-service
    ({"method": "self_declared", "dateOfBirth": "1990-04-12", "verified": True}, "verified"),
])
def test_a_bad_date_or_method_is_a_400_and_nothing_is_stored(api, make_user, monkeypatch, body, path):
    fixed_clock(monkeypatch, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    make_user("user_typo")

    response = api.post("/me/age-verification", as_user="user_typo", json_body=body)

    assert response.status_code == 400
    assert path in [f["path"] for f in response.json["error"]["details"]["fields"]]
    assert "ageVerifiedAt" not in table_items("users")[0]


def test_repeating_the_verification_returns_the_original_record(api, make_user, monkeypatch):
    make_user("user_twice")
    fixed_clock(monkeypatch, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    first = api.post("/me/age-verification", as_user="user_twice",
                     json_body={"method": "self_declared", "dateOfBirth": "1990-04-12"})
    fixed_clock(monkeypatch, datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    again = api.post("/me/age-verification", as_user="user_twice",
                     json_body={"method": "self_declared", "dateOfBirth": "1985-01-01"})
    minor = api.post("/me/age-verification", as_user="user_twice",
                     json_body={"method": "self_declared", "dateOfBirth": "2015-01-01"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    assert minor.status_code == 422  # refused, and the stored verification is untouched
    assert api.post("/me/age-verification", as_user="user_twice",
                    json_body={"method": "self_declared", "dateOfBirth": "1990-04-12"}).json == first.json
    assert len([e for e in table_items("outbox") if e["type"] == "user.age_verified"]) == 1


def test_a_verification_racing_another_returns_the_winners_record(api, make_user):
    """Two requests that both saw an unverified user: one writes, the other answers with its record."""
    from chalicelib.models.users import User
    from chalicelib.services import onboarding as service

    make_user("user_race_age")
    view_a, view_b = User.get("user_race_age"), User.get("user_race_age")
    moment_a, moment_b = datetime(2026, 3, 10, 12, 0, tzinfo=UTC), datetime(2026, 3, 10, 12, 1, tzinfo=UTC)

    won, created_a = service.verify_age(view_a, method="self_declared", date_of_birth=date(1990, 1, 1), now=moment_a)
    lost, created_b = service.verify_age(view_b, method="self_declared", date_of_birth=date(1991, 1, 1),
                                         now=moment_b)

    assert (created_a, created_b) == (True, False)
    assert lost == won and won.verified_date == "2026-03-10T12:00:00.000Z"
    assert len([e for e in table_items("outbox") if e["type"] == "user.age_verified"]) == 1


@pytest.mark.parametrize("born,today,age", [
    (date(2008, 3, 10), date(2026, 3, 10), 18),
    (date(2008, 3, 11), date(2026, 3, 10), 17),
    (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leap-day birthday counts from 1 March in common years
    (date(2008, 2, 29), date(2026, 3, 1), 18),
    (date(2008, 2, 29), date(2028, 2, 29), 20),
    (date(1990, 12, 31), date(2026, 1, 1), 35),
])
def test_age_counts_completed_years(born, today, age):
    from chalicelib.services.onboarding import age_on

    assert age_on(born, today) == age


def test_the_age_rule_uses_the_injected_today():
    from chalicelib.errors import BusinessRuleViolation, ValidationFailed
    from chalicelib.models.users import User
    from chalicelib.services.onboarding import verify_age

    user = User(user_id="user_not_stored")
    with pytest.raises(BusinessRuleViolation):
        verify_age(user, method="self_declared", date_of_birth=date(2008, 2, 29), today=date(2026, 2, 28))
    with pytest.raises(ValidationFailed):
        verify_age(user, method="self_declared", date_of_birth=date(2026, 3, 1), today=date(2026, 2, 28))
