"""A user's compliance records over HTTP: consents (with the privacy policy version and the date;
marketing is the preferences' marketing-email switch), accepting the terms and the privacy
policy in force, and booking held back until they are accepted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.readings import QUESTION, TOPIC, make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")


def _publish(document_type: str, version: str, **kwargs: Any) -> Any:
    from chalicelib.services import legal_admin

    return legal_admin.create(
        document_type,
        version,
        title=document_type.replace("_", " ").title(),
        content=f"# {document_type}\n\nVersion {version}.",
        effective_date=None,
        requires_reacceptance=kwargs.pop("requires", None),
        change_summary=None,
        publish=True,
        actor_id="adm",
        **kwargs,
    )


def _accept(api, user: str, document_type: str, version: str):
    return api.post("/me/terms-acceptance", as_user=user, json_body={"documentType": document_type, "version": version})


def _book(api, client: str = "cli", **extra: Any):
    return api.post(
        "/readings",
        as_user=client,
        json_body={
            "readerId": "rdr",
            "optionType": "phone_call",
            "duration": 30,
            "topicId": TOPIC,
            "question": QUESTION,
            **extra,
        },
    )


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _compliance(api, user: str = "cli") -> dict[str, Any]:
    response = api.get("/me/compliance", as_user=user)
    assert response.status_code == 200, response.body
    return response.json


@pytest.fixture()
def booking_world(api) -> None:
    make_client("cli", 500)
    make_reader("rdr")


# --- consents ------------------------------------------------------------------------------------


def test_consents_are_recorded_with_the_privacy_policy_version_and_the_date(api, make_user):
    make_user("cli")
    _publish("privacy_policy", "2026-01-01")
    empty = _compliance(api)
    assert empty["dataProcessingConsent"] == {"marketing": False, "analytics": False, "thirdParty": False}
    assert [c["consent"] for c in empty["consents"]] == ["marketing", "analytics", "thirdParty"]

    answered = api.post("/me/consents", as_user="cli", json_body={"analytics": True, "thirdParty": False})
    assert answered.status_code == 200, answered.body
    consents = {c["consent"]: c for c in answered.json["consents"]}
    assert consents["analytics"]["granted"] is True and consents["analytics"]["consentVersion"] == "2026-01-01"
    assert consents["thirdParty"]["granted"] is False and consents["thirdParty"]["consentDate"]
    assert "consentDate" not in consents["marketing"]  # never answered
    summary = answered.json["dataProcessingConsent"]
    assert (summary["analytics"], summary["consentVersion"]) == (True, "2026-01-01")
    assert summary["consentDate"] == consents["analytics"]["consentDate"]

    # The same answer under the same privacy policy keeps its date; a new policy dates it again.
    again = api.post("/me/consents", as_user="cli", json_body={"analytics": True})
    assert {c["consent"]: c for c in again.json["consents"]}["analytics"] == consents["analytics"]
    _publish("privacy_policy", "2026-06-01")
    renewed = api.post("/me/consents", as_user="cli", json_body={"analytics": True})
    assert {c["consent"]: c for c in renewed.json["consents"]}["analytics"]["consentVersion"] == "2026-06-01"


def test_the_marketing_consent_and_the_marketing_email_switch_are_one_setting(api, make_user):
    make_user("cli")
    assert api.get("/me/preferences", as_user="cli").json["notifications"]["marketingEmails"] is False

    granted = api.post("/me/consents", as_user="cli", json_body={"marketing": True})
    assert granted.json["dataProcessingConsent"]["marketing"] is True
    preferences = api.get("/me/preferences", as_user="cli").json
    assert preferences["notifications"]["marketingEmails"] is True and preferences["version"] == 1
    # What the notifications read: the suggested-reading emails follow the switch.
    from chalicelib.services.notifications import preferences as notification_preferences

    assert notification_preferences.get("cli").types["suggested_reading"].email is True

    # Turning the switch off in the preferences withdraws the consent, dated now.
    saved = api.put(
        "/me/preferences",
        as_user="cli",
        json_body={"version": 1, "theme": "dark", "notifications": {"marketingEmails": False}},
    )
    assert saved.status_code == 200, saved.body
    marketing = _compliance(api)["consents"][0]
    assert (marketing["consent"], marketing["granted"]) == ("marketing", False) and marketing["consentDate"]
    # Saving other preferences leaves the consent as it was.
    api.put("/me/preferences", as_user="cli", json_body={"theme": "light"})
    assert _compliance(api)["consents"][0] == marketing

    # A preferences page read before the consent changed cannot silently undo it.
    api.post("/me/consents", as_user="cli", json_body={"marketing": True})
    stale = api.put("/me/preferences", as_user="cli", json_body={"version": 3, "notifications": {}})
    assert _error(stale) == (409, "version_conflict")
    assert api.get("/me/preferences", as_user="cli").json["notifications"]["marketingEmails"] is True


def test_bad_consent_bodies_are_400s(api, make_user):
    make_user("cli")
    for body in ({}, {"marketing": None}, {"marketing": "yes"}, {"newsletter": True}):
        response = api.post("/me/consents", as_user="cli", json_body=body)
        assert response.status_code == 400, (body, response.body)
    assert api.post("/me/consents", as_user="cli").status_code == 400  # no body at all
    assert _compliance(api)["consents"] == [
        {"consent": name, "granted": False} for name in ("marketing", "analytics", "thirdParty")
    ]


def test_no_consent_or_acceptance_can_be_set_through_patch_me(api, make_user):
    make_user("cli")
    for field, value in (
        ("termsAccepted", {"version": "9"}),
        ("privacyPolicyAccepted", {"version": "9"}),
        ("consentMarketing", {"granted": True}),
        ("dataProcessingConsent", {"marketing": True}),
        ("ageVerified", True),
    ):
        response = api.patch("/me", as_user="cli", json_body={"displayName": "Cli", field: value})
        assert response.status_code == 400, (field, response.body)
    record = _compliance(api)  # absent: null
    assert "termsAccepted" not in record and "privacyPolicyAccepted" not in record
    assert record["dataProcessingConsent"]["marketing"] is False and record["ageVerification"]["verified"] is False
    assert api.get("/me", as_user="cli").json.get("displayName") is None


# --- accepting the terms --------------------------------------------------------------------------


def test_only_the_version_in_force_is_accepted(api, make_user):
    make_user("cli")
    assert _error(_accept(api, "cli", "terms_of_service", "1")) == (404, "not_found")
    _publish("terms_of_service", "1")
    _publish("terms_of_service", "2")

    stale = _accept(api, "cli", "terms", "1")
    assert _error(stale) == (409, "stale_version")
    assert stale.json["error"]["message"] == (
        "Version 1 of the terms of service is no longer in force; read and accept version 2 (/legal/terms_of_service)."
    )
    assert stale.json["error"]["details"]["version"] == "2"
    assert _error(_accept(api, "cli", "terms_of_service", "7")) == (404, "not_found")
    assert _accept(api, "cli", "cookie_policy", "1").status_code == 400

    accepted = _accept(api, "cli", "terms_of_service", "2")
    assert accepted.status_code == 200, accepted.body
    terms = accepted.json["termsAccepted"]
    assert terms["version"] == "2" and terms["type"] == "terms_of_service" and terms["acceptedDate"]
    # Accepting it again keeps the first acceptance.
    assert _accept(api, "cli", "terms_of_service", "2").json["termsAccepted"] == terms


def test_what_is_pending_shows_on_the_compliance_record_and_the_onboarding(api, make_user):
    make_user("cli")
    assert _compliance(api)["pendingAcceptance"] == []
    _publish("terms_of_service", "2026-01-01")
    _publish("privacy_policy", "2026-02-01")
    _publish("cookie_policy", "2026-03-01")  # read, never accepted
    pending = _compliance(api)["pendingAcceptance"]
    assert [(p["type"], p["version"], p["path"]) for p in pending] == [
        ("terms_of_service", "2026-01-01", "/legal/terms_of_service"),
        ("privacy_policy", "2026-02-01", "/legal/privacy_policy"),
    ]
    onboarding = api.get("/me/onboarding", as_user="cli").json
    assert [p["type"] for p in onboarding["pendingAcceptance"]] == ["terms_of_service", "privacy_policy"]
    _accept(api, "cli", "privacy", "2026-02-01")
    assert [p["type"] for p in _compliance(api)["pendingAcceptance"]] == ["terms_of_service"]


# --- booking --------------------------------------------------------------------------------------


def test_a_new_terms_version_holds_the_next_booking_until_it_is_accepted(api, booking_world):
    assert _book(api).status_code == 201  # nothing published: nothing to accept
    _publish("terms_of_service", "2026-01-01")
    _publish("privacy_policy", "2026-01-01")

    refused = _book(api)
    assert _error(refused) == (422, "terms_not_accepted")
    assert refused.json["error"]["message"] == (
        "Accept the current terms of service (version 2026-01-01, /legal/terms_of_service) and the privacy policy "
        "(version 2026-01-01, /legal/privacy_policy) before booking a reading (POST /me/terms-acceptance)."
    )
    documents = refused.json["error"]["details"]["documents"]
    assert [(d["type"], d["version"], d["path"]) for d in documents] == [
        ("terms_of_service", "2026-01-01", "/legal/terms_of_service"),
        ("privacy_policy", "2026-01-01", "/legal/privacy_policy"),
    ]
    for document in documents:  # what the frontend does with the details
        shown = api.get(f"{document['path']}?version={document['version']}").json
        assert _accept(api, "cli", shown["type"], shown["version"]).status_code == 200
    assert _book(api).status_code == 201

    _publish("terms_of_service", "2026-06-01")  # a material change
    again = _book(api)
    assert _error(again) == (422, "terms_not_accepted")
    assert [(d["type"], d["version"], d["acceptedVersion"]) for d in again.json["error"]["details"]["documents"]] == [
        ("terms_of_service", "2026-06-01", "2026-01-01")
    ]
    assert _error(_accept(api, "cli", "terms_of_service", "2026-01-01")) == (409, "stale_version")
    assert _accept(api, "cli", "terms_of_service", "2026-06-01").status_code == 200
    assert _book(api).status_code == 201

    _publish("terms_of_service", "2026-06-02", requires=False)  # a typo fix: no need to accept it again
    assert _book(api).status_code == 201
    assert _compliance(api)["pendingAcceptance"] == []


def test_a_minor_first_version_still_has_to_be_accepted_once(api, booking_world):
    _publish("terms_of_service", "1", requires=False)
    assert _error(_book(api)) == (422, "terms_not_accepted")
    _accept(api, "cli", "terms_of_service", "1")
    _publish("terms_of_service", "1.1", requires=False)
    assert _book(api).status_code == 201  # accepted 1; 1.1 is a minor fix


def test_a_retried_booking_answers_with_the_first_reading_even_after_new_terms(api, booking_world):
    headers = {"Idempotency-Key": "terms-retry"}
    first = api.post(
        "/readings",
        as_user="cli",
        headers=headers,
        json_body={
            "readerId": "rdr",
            "optionType": "phone_call",
            "duration": 30,
            "topicId": TOPIC,
            "question": QUESTION,
        },
    )
    assert first.status_code == 201
    _publish("terms_of_service", "1")
    retried = api.post(
        "/readings",
        as_user="cli",
        headers=headers,
        json_body={
            "readerId": "rdr",
            "optionType": "phone_call",
            "duration": 30,
            "topicId": TOPIC,
            "question": QUESTION,
        },
    )
    assert retried.status_code in (200, 201) and retried.json["id"] == first.json["id"]


def test_accepting_a_suggested_reading_books_only_with_the_terms_accepted(api, booking_world):
    from chalicelib.models.users import User
    from chalicelib.services import statuses

    status = statuses.create(User.get("cli"), content="Will my new job make me happy?", mood=None, category="career")
    _, suggestion = statuses.suggest(
        "rdr",
        status.status_id,
        title="A career call",
        description="Together.",
        suggested_type="phone_call",
        option_id=None,
        duration=30,
        suggested_price=None,
        message=None,
        scheduled_at=None,
    )
    _publish("terms_of_service", "1")
    path = f"/statuses/{status.status_id}/suggestions/{suggestion['id']}/accept"
    refused = api.post(path, as_user="cli", json_body={})
    assert _error(refused) == (422, "terms_not_accepted")
    assert statuses.load(status.status_id).is_active  # nothing was booked or closed
    _accept(api, "cli", "terms_of_service", "1")
    assert api.post(path, as_user="cli", json_body={}).status_code == 201


def test_a_publication_in_another_container_holds_bookings_here_within_the_ttl(api, booking_world, monkeypatch):
    from chalicelib.services import legal

    clock = [1000.0]
    monkeypatch.setattr(legal._accepted, "clock", lambda: clock[0])
    assert _book(api).status_code == 201  # this container now keeps "nothing in force"
    monkeypatch.setattr(legal, "forget_cached", lambda: None)  # as if another container published
    _publish("terms_of_service", "1")
    assert _book(api).status_code == 201  # not seen here yet: never stricter than the truth
    assert [p["version"] for p in _compliance(api)["pendingAcceptance"]] == ["1"]  # what the user sees is fresh
    clock[0] += legal.ACCEPTED_TTL_S
    assert _error(_book(api)) == (422, "terms_not_accepted")


# --- the export -----------------------------------------------------------------------------------


def test_the_export_holds_the_consents_and_acceptances(api, make_user):
    from chalicelib.services import compliance

    make_user("cli")
    _publish("privacy_policy", "3")
    api.post("/me/consents", as_user="cli", json_body={"marketing": True, "thirdParty": False})
    _accept(api, "cli", "privacy_policy", "3")
    exported = compliance.export("cli")
    assert exported["userId"] == "cli"
    assert exported["dataProcessingConsent"]["marketing"] is True
    assert exported["privacyPolicyAccepted"]["version"] == "3" and exported["termsAccepted"] is None
    assert {c["consent"]: c["consentVersion"] for c in exported["consents"]} == {
        "marketing": "3",
        "analytics": None,
        "thirdParty": "3",
    }
    assert exported["ageVerification"] == {"verified": False, "method": None, "verifiedDate": None}
