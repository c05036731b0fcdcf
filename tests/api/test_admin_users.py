"""Admin user management: the search (email and name prefixes, role and status, the pagination
walk), role changes, suspensions and reinstatements, and the rules that keep an admin on the
platform. No mass assignment of role, status or credits elsewhere: test_mass_assignment.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.readings import book, make_client, make_reader, next_local, race, status_of

ADMIN = "user_admin"


@pytest.fixture()
def admin(api: Any, make_user: Any) -> Any:
    make_user(ADMIN, role="admin", display_name="Ada Admin")
    return api


def _user(user_id: str) -> Any:
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True)


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.body
    return [user["id"] for user in response.json["data"]]


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _patch(api: Any, user_id: str, body: dict[str, Any], *, as_user: str = ADMIN) -> Any:
    return api.patch(f"/admin/users/{user_id}", as_user=as_user, json_body=body)


def _audit(user_id: str) -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    from chalicelib.models.base import plain
    from chalicelib.services import audit

    return [(r.action, r.actor_id, plain(r.before), plain(r.after)) for r in audit.history("user", user_id)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- search -------------------------------------------------------------------------------------------


def _person(
    user_id: str, email: str, name: str, day: int, *, role: str = "client", status: str = "active", **fields: Any
) -> None:
    from chalicelib.models.users import User

    stamp = f"2026-11-{day:02d}T10:00:00.000Z"
    User(
        user_id=user_id,
        email=email,
        display_name=name,
        role=role,
        status=status,
        created_at=stamp,
        updated_at=stamp,
        **fields,
    ).save()


@pytest.fixture()
def people(admin: Any) -> Any:
    _person("u_alice", "Alice.Smith@example.com", "Alice Smith", 1)
    _person("u_alicia", "alicia@example.org", "Alicia Keys", 2)
    _person("u_bob", "bob@example.com", "Alina Bobson", 3)
    _person("u_carol", "carol@example.com", "Carol Reader", 4, role="reader")
    _person("u_dave", "dave@example.com", "Ali Dave", 5, status="suspended", suspension_reason="Spam.")
    _person("u_erin", "alien@example.com", "Erin Admin", 6, role="admin")
    return admin


def test_search_by_the_beginning_of_an_email_is_case_blind_and_alphabetical(people):
    assert _ids(people.get("/admin/users?q=ALI&by=email", as_user=ADMIN)) == ["u_alice", "u_alicia", "u_erin"]
    assert _ids(people.get("/admin/users?q=alicia@", as_user=ADMIN)) == ["u_alicia"]  # an @: the email
    user = people.get("/admin/users?q=alice.s&by=email", as_user=ADMIN).json["data"][0]
    assert user == {
        "id": "u_alice",
        "email": "Alice.Smith@example.com",
        "displayName": "Alice Smith",
        "role": "client",
        "status": "active",
        "credits": 0,
        "createdAt": "2026-11-01T10:00:00.000Z",
        "updatedAt": user["updatedAt"],
    }


def test_search_by_the_beginning_of_a_display_name(people):
    assert _ids(people.get("/admin/users?q=ali", as_user=ADMIN)) == ["u_dave", "u_alice", "u_alicia", "u_bob"]
    assert _ids(people.get("/admin/users?q=Alic&by=name", as_user=ADMIN)) == ["u_alice", "u_alicia"]
    assert _ids(people.get("/admin/users?q=alice%20%20smith", as_user=ADMIN)) == ["u_alice"]  # spaces collapse
    assert _ids(people.get("/admin/users?q=zzz", as_user=ADMIN)) == []


def test_a_search_shorter_than_three_characters_is_a_400_that_says_so(people):
    response = people.get("/admin/users?q=%20al", as_user=ADMIN)

    assert _error(response) == (400, "validation_error")
    assert response.json["error"]["details"]["fields"] == [
        {
            "path": "q",
            "type": "value_error",
            "message": "Type at least 3 characters of the email or name to search for.",
        }
    ]


def test_an_empty_or_blank_search_lists_users_as_if_there_were_none(people):
    everyone = _ids(people.get("/admin/users", as_user=ADMIN))

    assert everyone  # the fixture's users
    assert _ids(people.get("/admin/users?q=", as_user=ADMIN)) == everyone
    assert _ids(people.get("/admin/users?q=%20%20", as_user=ADMIN)) == everyone
    assert _ids(people.get("/admin/users?q=&role=admin", as_user=ADMIN)) == [ADMIN, "u_erin"]
    cursor = people.get("/admin/users?limit=1", as_user=ADMIN).json["pagination"]["nextCursor"]
    assert _ids(people.get(f"/admin/users?limit=1&q=&cursor={cursor}", as_user=ADMIN)) == everyone[1:2]


def test_role_and_status_filter_alone_together_and_with_a_search(people):
    def ids(query: str) -> list[str]:
        return _ids(people.get(f"/admin/users?{query}", as_user=ADMIN))

    assert ids("role=admin") == [ADMIN, "u_erin"]  # newest first (the admin was made today)
    assert ids("status=suspended") == ["u_dave"]
    assert ids("role=client&status=active") == ["u_bob", "u_alicia", "u_alice"]
    assert ids("role=client&status=suspended") == ["u_dave"]
    assert ids("role=reader&status=suspended") == []
    assert ids("q=ali&role=client&status=active") == ["u_alice", "u_alicia", "u_bob"]
    assert ids("q=ali&by=email&role=admin") == ["u_erin"]
    dave = people.get("/admin/users?status=suspended", as_user=ADMIN).json["data"][0]
    assert dave["status"] == "suspended" and dave["suspension"] == {"reason": "Spam."}


def _walk(api: Any, query: str) -> list[str]:
    seen, cursor, pages = [], None, 0
    while True:
        path = f"/admin/users?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(path, as_user=ADMIN)
        assert response.status_code == 200, response.body
        pages += 1
        assert response.json["pagination"]["page"] == pages
        seen += [user["id"] for user in response.json["data"]]
        cursor = response.json["pagination"]["nextCursor"]
        if cursor is None:
            return seen


def test_the_pagination_walk_visits_every_user_once_in_order(people):
    # Three roles' partitions merged, newest first, whatever the page size.
    everyone = [ADMIN, "u_erin", "u_dave", "u_carol", "u_bob", "u_alicia", "u_alice"]
    for limit in (1, 2, 3, 7, 20):
        assert _walk(people, f"limit={limit}") == everyone, limit
    assert _walk(people, "limit=1&q=ali") == ["u_dave", "u_alice", "u_alicia", "u_bob"]
    assert _walk(people, "limit=2&role=client&status=active") == ["u_bob", "u_alicia", "u_alice"]


def test_a_cursor_of_another_search_is_a_400(people):
    cursor = people.get("/admin/users?limit=1&q=ali", as_user=ADMIN).json["pagination"]["nextCursor"]
    response = people.get(f"/admin/users?limit=1&q=alic&cursor={cursor}", as_user=ADMIN)
    assert _error(response) == (400, "invalid_cursor")


def test_a_user_provisioned_on_first_sight_is_searchable(people):
    from chalicelib.services import users

    users.get_or_provision("u_new", email="Nia@Example.com", name="Nia Newcomer")  # a transaction's put

    assert _ids(people.get("/admin/users?q=nia", as_user=ADMIN)) == ["u_new"]
    assert _ids(people.get("/admin/users?q=nia@example", as_user=ADMIN)) == ["u_new"]


def test_a_new_display_name_or_email_is_searchable_at_once(people):
    from chalicelib.integrations.clerk_events import ClerkUser
    from chalicelib.models.base import utcnow
    from chalicelib.services import clerk_sync

    assert people.patch("/me", as_user="u_alice", json_body={"displayName": "Zoë Quinn"}).status_code == 200
    assert _ids(people.get("/admin/users?q=zoë", as_user=ADMIN)) == ["u_alice"]
    assert "u_alice" not in _ids(people.get("/admin/users?q=alic&by=name", as_user=ADMIN))
    clerk_sync.sync_user(
        ClerkUser.model_validate(
            {
                "id": "u_bob",
                "updated_at": 2,
                "primary_email_address_id": "e1",
                "email_addresses": [{"id": "e1", "email_address": "Robert@example.com"}],
            }
        ),
        now=utcnow(),
    )
    assert _ids(people.get("/admin/users?q=rob&by=email", as_user=ADMIN)) == ["u_bob"]
    assert _ids(people.get("/admin/users?q=bob&by=email", as_user=ADMIN)) == []


# --- suspend and reinstate ------------------------------------------------------------------------------


def test_a_suspended_user_is_locked_out_from_the_next_request_but_sees_why(admin):
    make_client("cli", credits=30)
    assert admin.get("/credits", as_user="cli").status_code == 200
    until = datetime.now(UTC) + timedelta(days=7)

    response = _patch(admin, "cli", {"suspend": {"reason": "Abusive messages.", "until": _iso(until)}})

    assert response.status_code == 200, response.body
    assert response.json["status"] == "suspended"
    assert response.json["suspension"]["reason"] == "Abusive messages."
    assert response.json["suspendedBy"] == ADMIN
    locked = admin.get("/credits", as_user="cli")
    assert _error(locked) == (403, "account_suspended")
    # why and until when, without a second call
    assert locked.json["error"]["details"] == {
        "reason": "Abusive messages.",
        "until": _iso(until).replace("Z", ".000Z"),
    }
    assert _error(admin.patch("/me", as_user="cli", json_body={"displayName": "X"})) == (403, "account_suspended")
    me = admin.get("/me", as_user="cli")
    assert me.status_code == 200
    assert me.json["status"] == "suspended" and me.json["flags"]["suspended"] is True
    assert me.json["suspension"] == {
        "reason": "Abusive messages.",
        "since": response.json["suspension"]["since"],
        "until": _iso(until).replace("Z", ".000Z"),
    }

    back = _patch(admin, "cli", {"reinstate": {"note": "Appeal accepted."}})

    assert back.status_code == 200 and back.json["status"] == "active" and "suspension" not in back.json
    assert admin.get("/credits", as_user="cli").status_code == 200
    assert "suspension" not in admin.get("/me", as_user="cli").json
    actions = _audit("cli")
    assert [(action, actor) for action, actor, _, _ in actions] == [("user.suspend", ADMIN), ("user.reinstate", ADMIN)]
    assert actions[0][2:] == (
        {"status": "active"},
        {
            "status": "suspended",
            "suspensionReason": "Abusive messages.",
            "suspendedUntil": _iso(until).replace("Z", ".000Z"),
        },
    )
    assert actions[1][3] == {"status": "active", "note": "Appeal accepted."}


def test_suspending_a_suspended_user_again_extends_the_suspension_and_audits_the_change(admin):
    make_client("cli", credits=30)
    week, month = (datetime.now(UTC) + timedelta(days=days) for days in (7, 30))
    first = _patch(admin, "cli", {"suspend": {"reason": "Abusive messages.", "until": _iso(week)}})

    again = _patch(admin, "cli", {"suspend": {"reason": "Abusive messages, again.", "until": _iso(month)}})

    assert again.status_code == 200, again.body
    assert again.json["suspension"] == {
        "reason": "Abusive messages, again.",
        "since": first.json["suspension"]["since"],
        "until": _iso(month).replace("Z", ".000Z"),
    }
    assert admin.get("/me", as_user="cli").json["suspension"]["until"] == _iso(month).replace("Z", ".000Z")
    assert _error(admin.get("/credits", as_user="cli"))[1] == "account_suspended"
    second = _audit("cli")[1]
    assert second[:2] == ("user.suspend", ADMIN)
    assert second[2:] == (
        {
            "status": "suspended",
            "suspensionReason": "Abusive messages.",
            "suspendedUntil": _iso(week).replace("Z", ".000Z"),
        },
        {
            "status": "suspended",
            "suspensionReason": "Abusive messages, again.",
            "suspendedUntil": _iso(month).replace("Z", ".000Z"),
        },
    )

    open_ended = _patch(admin, "cli", {"suspend": {"reason": "Until we talk."}})

    assert open_ended.status_code == 200 and "until" not in open_ended.json["suspension"]
    assert _audit("cli")[2][3] == {"status": "suspended", "suspensionReason": "Until we talk."}


def test_suspending_again_after_a_suspension_ended_starts_a_new_one(admin, monkeypatch):
    from chalicelib.services import users
    from chalicelib.services.accounts import changes

    make_client("cli")
    until = datetime.now(UTC) + timedelta(hours=1)
    first = _patch(admin, "cli", {"suspend": {"reason": "Cool down.", "until": _iso(until)}})
    later = until + timedelta(minutes=1)  # over, before the expiry job wrote it back
    monkeypatch.setattr(users, "utcnow", lambda: later)
    monkeypatch.setattr(changes, "utcnow", lambda: later)

    again = _patch(admin, "cli", {"suspend": {"reason": "Spam."}})

    assert again.status_code == 200, again.body
    assert again.json["suspension"]["since"] != first.json["suspension"]["since"]
    assert again.json["suspension"]["since"].startswith(_iso(later)[:16])
    assert _audit("cli")[1][2:] == ({"status": "active"}, {"status": "suspended", "suspensionReason": "Spam."})


def test_every_change_is_audited_with_the_request_id(admin):
    from chalicelib.services import audit

    make_client("cli")
    _patch(admin, "cli", {"role": "admin"})
    record = audit.history("user", "cli")[0]
    assert (record.action, record.actor_id, record.request_id is not None) == ("user.role_change", ADMIN, True)


def test_a_suspension_past_its_end_no_longer_counts_and_the_job_tidies_it(admin, monkeypatch):
    from chalicelib.services import accounts, users

    make_client("cli")
    until = datetime.now(UTC) + timedelta(hours=1)
    assert _patch(admin, "cli", {"suspend": {"reason": "Cool down.", "until": _iso(until)}}).status_code == 200
    assert admin.get("/credits", as_user="cli").status_code == 403

    later = until + timedelta(seconds=1)
    monkeypatch.setattr(users, "utcnow", lambda: later)

    assert admin.get("/credits", as_user="cli").status_code == 200  # at once, before any job
    assert admin.get("/me", as_user="cli").json["status"] == "active"
    assert _user("cli").status == "suspended"  # still stored so until the job runs
    assert accounts.end_due(now=until - timedelta(seconds=1)) == []
    assert accounts.end_due(now=later) == ["cli"]
    assert accounts.end_due(now=later) == []
    assert _user("cli").status == "active" and _user("cli").suspended_until is None
    assert _audit("cli")[-1][:2] == ("user.reinstate", "system")


def test_the_expiry_job_runs_every_five_minutes_and_ends_due_suspensions(admin, chalice_app, monkeypatch):
    from chalice.app import ScheduledEventConfig
    from chalice.test import Client

    from chalicelib.services.accounts import changes

    schedules = {
        source.name: source for source in chalice_app.event_sources if isinstance(source, ScheduledEventConfig)
    }
    assert str(schedules["suspension_expiry"].schedule_expression) == "rate(5 minutes)"
    make_client("cli")
    until = datetime.now(UTC) + timedelta(minutes=30)
    _patch(admin, "cli", {"suspend": {"reason": "Cool down.", "until": _iso(until)}})
    monkeypatch.setattr(changes, "utcnow", lambda: until + timedelta(minutes=4))

    with Client(chalice_app) as client:
        response = client.lambda_.invoke(
            "suspension_expiry",
            client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            ),
        )

    assert response.payload == {"reinstated": 1}
    assert _user("cli").status == "active"


def test_an_end_in_the_past_is_a_400_and_suspends_nobody(admin):
    make_client("cli")
    past = datetime.now(UTC) - timedelta(minutes=1)

    response = _patch(admin, "cli", {"suspend": {"reason": "Late.", "until": _iso(past)}})

    assert _error(response) == (400, "validation_error")
    assert response.json["error"]["details"]["fields"][0]["path"] == "suspend.until"
    assert _user("cli").status == "active" and _audit("cli") == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "(body)"),
        ({"suspend": {"reason": "x"}, "reinstate": {}}, "(body)"),
        ({"suspend": {"reason": ""}}, "suspend.reason"),
        ({"suspend": {"reason": "x", "until": "2030-01-01T00:00:00"}}, "suspend.until"),
        ({"role": "owner"}, "role"),
        ({"role": "admin", "credits": 500}, "credits"),
    ],
)
def test_malformed_changes_are_400s_naming_the_field(admin, body, path):
    make_client("cli")
    response = _patch(admin, "cli", body)
    assert _error(response) == (400, "validation_error")
    assert path in [field["path"] for field in response.json["error"]["details"]["fields"]]


def test_unknown_deleted_and_not_suspended_users(admin, make_user):
    make_user("gone", status="deleted")
    make_client("cli")

    assert _error(_patch(admin, "nobody", {"role": "admin"})) == (404, "user_not_found")
    assert _error(_patch(admin, "gone", {"suspend": {"reason": "x"}})) == (409, "user_deleted")
    assert _error(_patch(admin, "cli", {"reinstate": {}})) == (409, "user_not_suspended")


def test_a_change_that_races_another_on_the_same_account_is_a_409(admin, monkeypatch):
    from chalicelib.models.users import User
    from chalicelib.services.accounts import changes

    make_client("cli")
    read = changes.get

    def read_then_someone_else_changes_it(user_id: str) -> Any:
        user = read(user_id)
        User(user_id=user_id).update(actions=[User.status.set("suspended"), User.suspended_at.set("x")])
        monkeypatch.setattr(changes, "get", read)
        return user

    monkeypatch.setattr(changes, "get", read_then_someone_else_changes_it)

    assert _error(_patch(admin, "cli", {"role": "admin"})) == (409, "user_changed")
    assert _user("cli").role == "client" and _audit("cli") == []


# --- roles and the admins ------------------------------------------------------------------------------


def test_a_client_made_admin_can_act_as_one_and_back(admin):
    make_client("cli")
    assert admin.get("/admin/users", as_user="cli").status_code == 403

    assert _patch(admin, "cli", {"role": "admin"}).json["role"] == "admin"
    assert admin.get("/admin/users", as_user="cli").status_code == 200
    assert _patch(admin, "cli", {"role": "admin"}).status_code == 200  # what already holds: no change
    assert _patch(admin, "cli", {"role": "client"}).json["role"] == "client"
    assert admin.get("/admin/users", as_user="cli").status_code == 403
    assert _audit("cli") == [
        ("user.role_change", ADMIN, {"role": "client"}, {"role": "admin"}),
        ("user.role_change", ADMIN, {"role": "admin"}, {"role": "client"}),
    ]


def test_readers_come_only_from_applications_and_keep_their_role(admin):
    make_client("cli")
    make_reader("rdr")

    assert _error(_patch(admin, "cli", {"role": "reader"})) == (422, "reader_by_application")
    assert _error(_patch(admin, "rdr", {"role": "client"})) == (422, "reader_role_fixed")
    assert _error(_patch(admin, "rdr", {"role": "admin"})) == (422, "reader_role_fixed")
    assert (_user("cli").role, _user("rdr").role) == ("client", "reader")


@pytest.mark.parametrize("body", [{"role": "client"}, {"suspend": {"reason": "Tired."}}, {"role": "admin"}])
def test_an_admin_cannot_change_their_own_account(admin, body):
    response = _patch(admin, ADMIN, body)

    assert _error(response) == (403, "own_account")
    assert "another admin" in response.json["error"]["message"]
    assert (_user(ADMIN).role, _user(ADMIN).status) == ("admin", "active")


def test_the_last_admin_cannot_be_demoted_or_suspended(admin):
    """With one admin, the only one who could demote them is themselves: refused."""
    assert _ids(admin.get("/admin/users?role=admin", as_user=ADMIN)) == [ADMIN]
    assert _error(_patch(admin, ADMIN, {"role": "client"})) == (403, "own_account")
    assert _error(_patch(admin, ADMIN, {"suspend": {"reason": "Leaving."}})) == (403, "own_account")
    assert _ids(admin.get("/admin/users?role=admin&status=active", as_user=ADMIN)) == [ADMIN]


def test_an_admin_demoted_meanwhile_cannot_finish_a_change(admin, make_user):
    from chalicelib.errors import Conflict
    from chalicelib.services import accounts

    make_user("adm_b", role="admin")
    assert _patch(admin, ADMIN, {"role": "client"}, as_user="adm_b").status_code == 200

    # ADMIN's request passed its role check before the demotion committed, and commits after it.
    with pytest.raises(Conflict) as refused:
        accounts.change("adm_b", actor_id=ADMIN, role="client")

    assert refused.value.code == "admin_access_changed"
    assert (_user(ADMIN).role, _user("adm_b").role) == ("client", "admin")


def test_two_admins_demoting_each_other_at_once_leave_an_admin(api, make_user):
    from chalicelib.services import accounts

    make_user("adm_a", role="admin")
    make_user("adm_b", role="admin")

    outcomes = race(
        [
            lambda: accounts.change("adm_b", actor_id="adm_a", role="client"),
            lambda: accounts.change("adm_a", actor_id="adm_b", role="client"),
        ]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "User"], outcomes
    assert sorted([_user("adm_a").role, _user("adm_b").role]) == ["admin", "client"]


# --- a suspended reader ----------------------------------------------------------------------------------


def test_a_suspended_reader_cannot_accept_is_not_bookable_and_leaves_explore(admin, default_catalog, drain):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services.explore import freshness, service, store

    make_reader("rdr", online=True)
    make_client("cli", credits=500)
    reading = book("cli", "rdr", at=next_local(2, "10:00"))
    store.rebuild()
    assert "rdr" in [card["id"] for card in admin.get("/readers").json["data"]]

    assert _patch(admin, "rdr", {"suspend": {"reason": "Fake reviews."}}).status_code == 200

    locked = admin.post(f"/readings/{reading.reading_id}/accept", as_user="rdr")
    assert _error(locked) == (403, "account_suspended")
    assert locked.json["error"]["details"] == {"reason": "Fake reviews.", "until": None}  # open-ended
    assert status_of(reading.reading_id) == "requested"
    assert admin.get("/readers/rdr").status_code == 404  # the one-reader path: at once
    assert (
        admin.post(
            "/readings/quote", as_user="cli", json_body={"readerId": "rdr", "optionType": "phone_call", "duration": 30}
        ).status_code
        == 404
    )
    profile = ReaderProfile.get("rdr", consistent_read=True)
    assert (profile.status, profile.is_online, profile.online_flag) == ("suspended", False, None)
    drain()
    assert freshness.state().stale_reason  # reader.card_changed: the per-minute job rebuilds it
    store.rebuild()
    service.forget_cached()
    assert "rdr" not in [card["id"] for card in admin.get("/readers").json["data"]]

    assert _patch(admin, "rdr", {"reinstate": {}}).status_code == 200

    assert ReaderProfile.get("rdr", consistent_read=True).status == "approved"
    assert admin.post(f"/readings/{reading.reading_id}/accept", as_user="rdr").status_code == 200
    store.rebuild()
    service.forget_cached()
    assert "rdr" in [card["id"] for card in admin.get("/readers").json["data"]]


def test_a_suspended_readers_card_comes_back_when_the_suspension_ends(admin):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import accounts

    make_reader("rdr")
    until = datetime.now(UTC) + timedelta(hours=2)
    _patch(admin, "rdr", {"suspend": {"reason": "Cool down.", "until": _iso(until)}})

    assert accounts.end_due(now=until + timedelta(minutes=1)) == ["rdr"]
    assert ReaderProfile.get("rdr", consistent_read=True).status == "approved"
    assert admin.get("/readers/rdr").status_code == 200


def test_suspension_events_commit_with_the_change(admin):
    from tests.support.readings import outbox_events

    make_reader("rdr")
    _patch(admin, "rdr", {"suspend": {"reason": "Fake reviews."}})
    _patch(admin, "rdr", {"reinstate": {}})

    assert [(e["userId"], e["reason"]) for e in outbox_events("user.suspended")] == [("rdr", "Fake reviews.")]
    assert [(e["userId"], e["reason"]) for e in outbox_events("user.reinstated")] == [("rdr", "admin")]
    assert [e["reason"] for e in outbox_events("reader.card_changed")] == ["suspended", "reinstated"]


# --- users written before the search ---------------------------------------------------------------------


def test_the_backfill_gives_older_users_their_search_keys_once(admin):
    from chalicelib.models.users import User
    from tools.backfill import user_search as backfill

    _person("u_old", "Olga@example.com", "Olga Older", 1)
    User(user_id="u_old").update(
        actions=[
            User.search_email.remove(),
            User.search_email_prefix.remove(),
            User.search_name.remove(),
            User.search_name_prefix.remove(),
        ]
    )
    assert _ids(admin.get("/admin/users?q=olg", as_user=ADMIN)) == []

    assert backfill() == (2, 1)  # the admin was written with them
    assert _ids(admin.get("/admin/users?q=olg", as_user=ADMIN)) == ["u_old"]
    assert _ids(admin.get("/admin/users?q=olga@", as_user=ADMIN)) == ["u_old"]
    assert backfill() == (2, 0)


def test_a_suspended_applicant_is_not_made_a_reader(admin):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile

    make_client("applicant")
    now = iso(utcnow())
    ReaderProfile(reader_id="applicant", status="pending", created_at=now, updated_at=now, submitted_at=now).save()
    _patch(admin, "applicant", {"suspend": {"reason": "Stolen identity."}})

    response = admin.post("/admin/reader-applications/applicant/approve", as_user=ADMIN)

    assert _error(response) == (409, "applicant_not_active")
    assert _user("applicant").role == "client"
    assert ReaderProfile.get("applicant", consistent_read=True).status == "pending"
