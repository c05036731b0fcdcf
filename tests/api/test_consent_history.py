"""The consents' history: every change of marketing, analytics or thirdParty is kept, append-only,
written with the change itself (never without it), read by its user page by page, newest first."""

from __future__ import annotations

from typing import Any

import pytest


def _publish_privacy(version: str) -> None:
    from chalicelib.services import legal_admin

    legal_admin.create(
        "privacy_policy",
        version,
        title="Privacy Policy",
        content=f"# Privacy\n\nVersion {version}.",
        effective_date=None,
        requires_reacceptance=None,
        change_summary=None,
        publish=True,
        actor_id="adm",
    )


def _history(api: Any, user: str = "cli", **query: Any) -> Any:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = api.get(f"/me/consents/history{'?' + params if params else ''}", as_user=user)
    assert response.status_code == 200, response.body
    return response.json


def _rows(api: Any, user: str = "cli") -> list[tuple[str, bool, str | None, str]]:
    return [
        (row["consent"], row["granted"], row.get("consentVersion"), row["source"])
        for row in _history(api, user, limit=100)["data"]
    ]


def test_every_change_is_kept_newest_first_with_its_version_and_source(api, make_user):
    make_user("cli")
    _publish_privacy("2026-01-01")
    assert _history(api)["data"] == []

    assert api.post("/me/consents", as_user="cli", json_body={"analytics": True, "source": "signup"}).status_code == 200
    assert api.post("/me/consents", as_user="cli", json_body={"analytics": True}).status_code == 200  # no change
    assert api.post("/me/consents", as_user="cli", json_body={"analytics": False}).status_code == 200
    _publish_privacy("2026-06-01")
    assert api.post("/me/consents", as_user="cli", json_body={"analytics": False}).status_code == 200  # new policy
    assert (
        api.post("/me/consents", as_user="cli", json_body={"thirdParty": True, "source": "onboarding"}).status_code
        == 200
    )
    saved = api.put("/me/preferences", as_user="cli", json_body={"notifications": {"marketingEmails": True}})
    assert saved.status_code == 200, saved.body
    api.put("/me/preferences", as_user="cli", json_body={"theme": "dark", "notifications": {"marketingEmails": True}})

    assert _rows(api) == [
        ("marketing", True, "2026-06-01", "preferences"),
        ("thirdParty", True, "2026-06-01", "onboarding"),
        ("analytics", False, "2026-06-01", "settings"),
        ("analytics", False, "2026-01-01", "settings"),
        ("analytics", True, "2026-01-01", "signup"),
    ]
    page = _history(api)
    dates = [row["consentDate"] for row in page["data"]]
    assert dates == sorted(dates, reverse=True) and all(date.endswith("Z") for date in dates)
    # the current state agrees with the newest entry of each consent
    current = {c["consent"]: c for c in api.get("/me/compliance", as_user="cli").json["consents"]}
    assert current["analytics"]["consentDate"] == page["data"][2]["consentDate"]
    assert current["marketing"]["consentDate"] == page["data"][0]["consentDate"]


def test_the_history_is_paginated_and_each_user_reads_only_their_own(api, make_user):
    make_user("cli")
    make_user("other")
    for granted in (True, False, True, False, True):
        assert api.post("/me/consents", as_user="cli", json_body={"analytics": granted}).status_code == 200
    api.post("/me/consents", as_user="other", json_body={"thirdParty": True})

    seen, cursor, pages = [], None, 0
    while True:
        page = _history(api, limit=2, **({"cursor": cursor} if cursor else {}))
        pages += 1
        seen += [row["granted"] for row in page["data"]]
        cursor = page["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert (pages, seen) == (3, [True, False, True, False, True])
    first = _history(api, limit=2)
    assert first["pagination"]["hasNext"] is True and first["pagination"]["totalPages"] is None

    assert _rows(api, "other") == [("thirdParty", True, None, "settings")]
    foreign = api.get(f"/me/consents/history?cursor={first['pagination']['nextCursor']}", as_user="other")
    assert foreign.status_code == 400 and foreign.json["error"]["code"] == "invalid_cursor"
    assert api.get("/me/consents/history").status_code == 401


def test_a_change_that_does_not_commit_leaves_no_history(api, make_user, monkeypatch):
    from chalicelib.models.users import User
    from chalicelib.services import consent_history

    make_user("cli")
    real = consent_history.change

    def change_while_preferences_move(*args: Any, **kwargs: Any) -> Any:
        # between the read and the commit, the preferences are saved elsewhere, every time
        User(user_id="cli").update(actions=[User.preferences_version.add(1)])
        return real(*args, **kwargs)

    monkeypatch.setattr(consent_history, "change", change_while_preferences_move)
    refused = api.post("/me/consents", as_user="cli", json_body={"marketing": True, "analytics": True})

    assert refused.status_code == 409, refused.body
    assert _history(api)["data"] == []
    assert api.get("/me/compliance", as_user="cli").json["dataProcessingConsent"]["analytics"] is False

    stale = api.put(
        "/me/preferences", as_user="cli", json_body={"version": 1, "notifications": {"marketingEmails": True}}
    )
    assert stale.status_code == 409
    assert _history(api)["data"] == []


@pytest.mark.parametrize("source", ["preferences", "admin", "", None])
def test_a_source_that_is_not_the_users_own_is_a_400(api, make_user, source):
    make_user("cli")

    response = api.post("/me/consents", as_user="cli", json_body={"analytics": True, "source": source})

    assert response.status_code == 400
    [field] = response.json["error"]["details"]["fields"]
    assert field["path"] in ("source", "(body)") and field["message"].endswith(".")
    assert _history(api)["data"] == []


def test_the_purge_of_a_deleted_account_deletes_its_history_and_only_its(api, make_user, drain):
    from datetime import UTC, datetime, timedelta

    from chalicelib.config import get_settings
    from chalicelib.services import consent_history, privacy

    make_user("cli")
    make_user("other")
    for user in ("cli", "other"):
        assert api.post("/me/consents", as_user=user, json_body={"analytics": True}).status_code == 200
    assert api.delete("/me", as_user="cli").status_code == 202
    drain()
    assert [row["consent"] for row in consent_history.all_of("cli")] == ["analytics"]  # kept until the purge

    later = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1)
    assert privacy.purge_due(now=later)["purged"] == 1

    assert consent_history.all_of("cli") == []
    assert [row["consent"] for row in consent_history.all_of("other")] == ["analytics"]
