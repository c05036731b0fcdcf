"""GET/PUT /me/notification-preferences, unsubscribe, and decide's one BatchGet per 100 users."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.notifications import NOTIFICATION_TYPES

PATH = "/me/notification-preferences"


@pytest.fixture()
def ann(make_user):
    return make_user("ann")


def _by_type(body):
    return {p["type"]: p for p in body["preferences"]}


def test_get_answers_every_type_with_its_defaults(api, ann):
    response = api.get(PATH, as_user="ann")
    assert response.status_code == 200
    prefs = _by_type(response.json)
    assert set(prefs) == set(NOTIFICATION_TYPES)
    assert response.json["version"] == 0
    assert prefs["reading_accepted"]["channels"] == {"inApp": True, "push": True, "email": True, "sms": False}
    assert prefs["suggested_reading"]["channels"] == {"inApp": True, "push": True, "email": False, "sms": False}
    assert prefs["reading_reminder"]["channels"]["email"] is True
    assert {p["frequency"] for p in prefs.values()} == {"immediate"}
    assert all(p["userId"] == "ann" and "quietHours" not in p for p in prefs.values())


def test_put_replaces_and_get_reads_back(api, ann):
    body = {"preferences": [
        {"type": "reading_request", "channels": {"inApp": True, "push": False, "email": True, "sms": True},
         "frequency": "daily", "quietHours": {"start": "22:00", "end": "07:00", "timezone": "America/New_York"}},
        {"type": "suggested_reading", "channels": {"inApp": True, "push": True, "email": True}},
    ]}
    saved = api.put(PATH, as_user="ann", json_body=body)
    assert saved.status_code == 200, saved.json
    prefs = _by_type(api.get(PATH, as_user="ann").json)
    assert prefs["reading_request"]["channels"] == {"inApp": True, "push": False, "email": True, "sms": False}
    assert prefs["reading_request"]["frequency"] == "daily"
    assert prefs["reading_request"]["quietHours"] == {"start": "22:00", "end": "07:00",
                                                      "timezone": "America/New_York"}
    assert prefs["suggested_reading"]["channels"]["email"] is True

    # A second PUT replaces: what it leaves out is back to its default.
    again = api.put(PATH, as_user="ann", json_body={"preferences": [], "version": saved.json["version"]})
    assert again.status_code == 200
    prefs = _by_type(again.json)
    assert prefs["reading_request"]["frequency"] == "immediate"
    assert prefs["suggested_reading"]["channels"]["email"] is False
    assert again.json["version"] == 2
    stale = api.put(PATH, as_user="ann", json_body={"preferences": [], "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "version_conflict"


@pytest.mark.parametrize("preference", [
    {"type": "no_such_type"},
    {"type": "reading_request", "quietHours": {"start": "25:00", "end": "07:00", "timezone": "UTC"}},
    {"type": "reading_request", "quietHours": {"start": "7:00", "end": "08:00", "timezone": "UTC"}},
    {"type": "reading_request", "quietHours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}},
    {"type": "reading_request", "quietHours": {"start": "22:00", "end": "22:00", "timezone": "UTC"}},
    {"type": "reading_request", "frequency": "sometimes"},
    {"type": "reading_request", "channels": {"fax": True}},
])
def test_put_refuses_bad_input_with_400_and_writes_nothing(api, ann, preference):
    response = api.put(PATH, as_user="ann", json_body={"preferences": [preference]})
    assert response.status_code == 400, response.json
    assert api.get(PATH, as_user="ann").json["version"] == 0


def test_put_refuses_a_type_twice(api, ann):
    response = api.put(PATH, as_user="ann", json_body={"preferences": [{"type": "reading_request"}] * 2})
    assert response.status_code == 400
    assert "reading_request" in str(response.json)


def test_signed_out_callers_are_refused(api):
    assert api.get(PATH).status_code == 401


def test_unsubscribe_turns_email_off_for_one_type_only(api, ann):
    from chalicelib.services.notifications import preferences

    preferences.unsubscribe("ann", "reading_accepted")
    prefs = _by_type(api.get(PATH, as_user="ann").json)
    assert prefs["reading_accepted"]["channels"] == {"inApp": True, "push": True, "email": False, "sms": False}
    assert prefs["reading_declined"]["channels"]["email"] is True
    preferences.unsubscribe("ann", "reading_accepted")  # again: nothing changes
    assert api.get(PATH, as_user="ann").json["version"] == 1


def test_decide_reads_one_batch_per_hundred_users(aws, make_user):
    from chalicelib.services.notifications import preferences

    for n in range(150):
        make_user(f"u{n:03d}")
    ids = [f"u{n:03d}" for n in range(150)] + ["nobody"]
    from chalicelib.models.notification_schedule import NotificationSettings

    calls: list[str] = []
    client = NotificationSettings._get_connection().connection.client  # its own client: outside the registry

    def record(model=None, **_):
        calls.append(model.name)

    client.meta.events.register("before-call", record)
    try:
        decisions = preferences.decide(ids, "reading_accepted", datetime(2026, 6, 10, 12, tzinfo=UTC))
    finally:
        client.meta.events.unregister("before-call", record)
    assert calls == ["BatchGetItem", "BatchGetItem"]
    assert decisions["nobody"].channels == {"in_app", "push", "email"}  # no item: the defaults
    assert len(decisions) == 151


def test_the_account_switches_and_timezone_apply(api, ann):
    from chalicelib.services.notifications import preferences

    api.put("/me/preferences", as_user="ann", json_body={"timezone": "Europe/Paris",
                                                        "notifications": {"email": False}})
    api.put(PATH, as_user="ann", json_body={"preferences": [{"type": "badge_awarded", "frequency": "daily"}]})
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    assert preferences.decide(["ann"], "reading_accepted", now)["ann"].channels == {"in_app", "push"}
    digest = preferences.decide(["ann"], "badge_awarded", now)["ann"]
    assert digest.held == {"push"} and digest.release_at == datetime(2026, 6, 11, 6, tzinfo=UTC)  # 08:00 Paris
