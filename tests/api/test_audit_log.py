"""The audit log: every admin route that changes something records who did what, with the
values before and after and the request's id (the X-Request-Id of its answer), in the
same transaction as the change; GET /admin/audit-log lists it by entity, by actor or by
UTC day, newest first, a page at a time.

``test_every_state_changing_admin_route_writes_an_audit_record`` walks the route registry:
a new admin route that changes something without an audit record fails there, by name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api import REGISTRY, RouteSpec
from tests.support.moderation import a_rule, flagged_status
from tests.support.readings import MONDAY, book, make_client, make_reader

ADMIN = "user_audit_admin"
ADMIN_NAME = "Avery Admin"
APPLICANTS = ("user_audit_applicant_a", "user_audit_applicant_b")
CLIENT, READER = "user_audit_client", "user_audit_reader"

# How to fill each path parameter of the admin routes the walk calls: world -> id. Most
# parameters take one value; a route that needs its own object (approving and declining
# cannot decide the same application) is keyed by "METHOD path" instead.
AUDITED_PATHS: dict[str, Callable[[dict[str, str]], str]] = {
    "attributeId": lambda world: "tarot",
    "categoryId": lambda world: "love",
    "badgeId": lambda world: "tarot-bronze",
    "timeSpanId": lambda world: "30-min",
    "packageId": lambda world: "starter",
    "planId": lambda world: "monthly-60",
    "disputeId": lambda world: world["dispute"],
    "userId": lambda world: CLIENT,
    # Holding and releasing a reader's payouts (the walk holds first, then releases).
    "readerId": lambda world: READER,
    # A queue item (a status with a phone number, held) and a rule, fresh for each route.
    "itemId": lambda world: flagged_status("user_audit_moderated")[1],
    "ruleId": lambda world: a_rule(ADMIN),
    # A fresh draft for each route (a published version is immutable: 409).
    "documentId": lambda world: _legal_draft(),
    "POST /admin/reader-applications/{applicationId}/approve": lambda world: APPLICANTS[0],
    "POST /admin/reader-applications/{applicationId}/decline": lambda world: APPLICANTS[1],
}

_drafts = iter(range(1, 1000))


def _legal_draft() -> str:
    from chalicelib.services import legal_admin

    return legal_admin.create("terms_of_service", f"audit-{next(_drafts)}", title="Terms of Service",
                              content="Draft terms for the audit walk.", effective_date=None,
                              requires_reacceptance=None, change_summary=None, publish=False, actor_id=ADMIN).id


# Admin routes that change nothing a person decided, so they record nothing: "METHOD path" ->
# why. Keep it tiny; a route listed here that no longer exists fails the walk.
EXEMPT: dict[str, str] = {}

# Creations and changes first, retirements last: a category refers to attributes, so the
# example category needs "tarot" still active.
_METHOD_ORDER = {"POST": 0, "PUT": 1, "PATCH": 2, "DELETE": 3}


def _key(spec: RouteSpec) -> str:
    return f"{spec.method} {spec.path}"


def state_changing_admin_routes() -> list[RouteSpec]:
    found = [spec for spec in REGISTRY if spec.method != "GET" and "admin" in spec.access.roles]
    return sorted(found, key=lambda s: (s.method == "DELETE", s.path, _METHOD_ORDER.get(s.method, 9)))


@pytest.fixture()
def world(api: Any, default_catalog: None, make_user: Any) -> dict[str, str]:
    """The admin, two pending reader applications and a completed reading its client disputes."""
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import readings

    make_user(ADMIN, role="admin", display_name=ADMIN_NAME)
    for applicant in APPLICANTS:
        make_user(applicant)
        ReaderProfile(
            reader_id=applicant,
            status="pending",
            display_name="Nova Applicant",
            created_at=iso(MONDAY),
            updated_at=iso(MONDAY),
            submitted_at=iso(MONDAY),
        ).save()
    make_client(CLIENT, 500)
    make_reader(READER)
    reading = book(CLIENT, READER, now=MONDAY)
    readings.accept(reading.reading_id, READER, "reader", now=MONDAY)
    readings.start(reading.reading_id, READER, "reader", now=MONDAY + timedelta(minutes=1))
    readings.complete(reading.reading_id, CLIENT, "client", now=MONDAY + timedelta(minutes=31))
    readings.open_dispute(
        reading.reading_id, CLIENT, "client", reason="The reader hung up early.", now=MONDAY + timedelta(hours=1)
    )
    return {"dispute": reading.reading_id}


def _path(spec: RouteSpec, world: dict[str, str]) -> str:
    path = spec.path
    for name in spec.path_params:
        fill = AUDITED_PATHS.get(_key(spec)) or AUDITED_PATHS.get(name)
        if fill is None:
            pytest.fail(
                f"{_key(spec)}: add AUDITED_PATHS[{name!r}] (or [{_key(spec)!r}]) in {__file__}, an id "
                f"the admin can act on in the world fixture"
            )
        path = path.replace("{" + name + "}", fill(world))
    return path


def _audit_log(api: Any, query: str, *, as_user: str = ADMIN) -> Any:
    return api.get(f"/admin/audit-log?{query}", as_user=as_user)


def _every_entry(api: Any, query: str, limit: int = 100) -> list[dict[str, Any]]:
    """Every entry of one selector, walking the pages."""
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = _audit_log(api, f"{query}&limit={limit}{cursor}")
        assert response.status_code == 200, response.body
        entries += response.json["data"]
        if not response.json["pagination"]["hasNext"]:
            return entries
        cursor = f"&cursor={response.json['pagination']['nextCursor']}"


# --- every admin route that changes something is audited ---------------------------------------


def test_every_state_changing_admin_route_writes_an_audit_record(api, world):
    routes = state_changing_admin_routes()
    walked = {_key(spec) for spec in routes}
    assert {
        "POST /admin/disputes/{disputeId}/resolve",
        "POST /admin/reader-applications/{applicationId}/approve",
        "PATCH /admin/plans/{planId}",
    } <= walked  # the walk sees the routes it must
    stale = sorted(set(EXEMPT) - walked)
    assert not stale, f"EXEMPT names routes that are gone or no longer admin writes: {stale}"

    failures = []
    for spec in routes:
        if _key(spec) in EXEMPT:
            continue
        body = spec.example_body()
        response = api.request(
            spec.method, _path(spec, world), as_user=ADMIN, **({} if body is None else {"json_body": body})
        )
        request_id = response.headers.get("X-Request-Id")
        if response.status_code >= 400:
            failures.append(
                f"{_key(spec)} ({spec.handler_name}): the admin's call with the example body got "
                f"{response.status_code} {response.body!r}; fix the world or AUDITED_PATHS so it "
                f"succeeds"
            )
            continue
        recorded = [entry for entry in _every_entry(api, f"actorId={ADMIN}") if entry["requestId"] == request_id]
        if not request_id or not recorded:
            failures.append(
                f"{_key(spec)} ({spec.handler_name}): answered {response.status_code} but wrote no "
                f"audit record with its request id {request_id!r}: call audit.record(tx, ..., "
                f"request_id=ctx.request_id) in the transaction of its change"
            )
    assert not failures, "\n".join(failures)


def test_a_refused_admin_action_records_nothing(api, world):
    """The record commits with the change: a 409 leaves neither."""
    applicant = APPLICANTS[0]
    assert api.post(f"/admin/reader-applications/{applicant}/approve", as_user=ADMIN).status_code == 200
    again = api.post(f"/admin/reader-applications/{applicant}/approve", as_user=ADMIN)

    assert again.status_code == 409
    log = _every_entry(api, f"actorId={ADMIN}")
    assert again.headers["X-Request-Id"] not in {entry["requestId"] for entry in log}
    assert len(log) == 2  # the first approval and its role change


# --- GET /admin/audit-log ------------------------------------------------------------------------


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The audit records' clock: each record one second after the one before, from Monday
    10:00 UTC; ``moments`` lists the times given out. The audit log's "today" is that Monday."""
    from chalicelib.handlers import audit_log as handler
    from chalicelib.services import audit

    ticks = itertools.count()
    moments: list[datetime] = []

    def tick() -> datetime:
        moments.append(datetime(2026, 11, 30, 10, 0, tzinfo=UTC) + timedelta(seconds=next(ticks)))
        return moments[-1]

    monkeypatch.setattr(audit, "utcnow", tick)
    monkeypatch.setattr(handler, "utcnow", lambda: datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    yield moments


def test_an_entitys_history_shows_who_changed_what_and_the_request(api, world, clock):
    approved = api.post(f"/admin/reader-applications/{APPLICANTS[0]}/approve", as_user=ADMIN)
    assert approved.status_code == 200

    response = _audit_log(api, f"entityType=reader_application&entityId={APPLICANTS[0]}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [entry] = response.json["data"]
    assert entry == {
        "id": entry["id"],
        "at": "2026-11-30T10:00:00.000Z",
        "actorId": ADMIN,
        "actorDisplayName": ADMIN_NAME,
        "action": "reader_application.approve",
        "entityType": "reader_application",
        "entityId": APPLICANTS[0],
        "before": {"status": "pending"},
        "after": {"status": "approved"},
        "requestId": approved.headers["X-Request-Id"],
    }
    [role_change] = _audit_log(api, f"entityType=user&entityId={APPLICANTS[0]}").json["data"]
    assert (role_change["action"], role_change["before"], role_change["after"]) == (
        "user.role_change",
        {"role": "client"},
        {"role": "reader"},
    )
    assert _audit_log(api, f"entityType=user&entityId={APPLICANTS[1]}").json["data"] == []


def test_an_actors_log_is_newest_first_and_names_the_actor(api, world, clock):
    api.post(
        f"/admin/reader-applications/{APPLICANTS[1]}/decline",
        as_user=ADMIN,
        json_body={"reason": "Please add a longer description of your practice."},
    )
    resolved = api.post(
        f"/admin/disputes/{world['dispute']}/resolve",
        as_user=ADMIN,
        json_body={"outcome": "partial_refund", "amount": 20, "note": "Half the call was lost."},
    )
    assert resolved.status_code == 200, resolved.body

    entries = _every_entry(api, f"actorId={ADMIN}")

    assert [(e["action"], e["entityType"], e["entityId"]) for e in entries] == [
        ("dispute.resolve", "reading", world["dispute"]),
        ("reader_application.decline", "reader_application", APPLICANTS[1]),
    ]
    assert {e["actorDisplayName"] for e in entries} == {ADMIN_NAME}
    assert entries[0]["after"] == {
        "status": "refunded",
        "outcome": "partial_refund",
        "refunded": 20,
        "note": "Half the call was lost.",
    }
    assert entries[0]["requestId"] == resolved.headers["X-Request-Id"]
    assert _audit_log(api, f"actorId={CLIENT}").json["data"] == []


def _record(count: int, actor_id: str = ADMIN) -> None:
    """``count`` audit records of catalog changes, written as a service writes them."""
    from chalicelib.services import audit
    from chalicelib.services.tx import Transaction, atomically

    for n in range(count):

        def work(tx: Transaction, n: int = n) -> None:
            audit.record(
                tx,
                actor_id=actor_id,
                action="catalog.plan.updated",
                entity_type="plan",
                entity_id="monthly-60",
                before={"discount": n},
                after={"discount": n + 1},
                request_id=f"req-{n}",
            )

        atomically(work)


def test_a_days_log_lists_that_utc_day_newest_first_and_today_by_default(api, world, clock):
    _record(3)
    _record(1, actor_id="user_audit_other_admin")  # an actor with no user: no display name

    day = _audit_log(api, "day=2026-11-30").json["data"]
    assert [(e["actorId"], e["at"]) for e in day] == [
        ("user_audit_other_admin", "2026-11-30T10:00:03.000Z"),
        (ADMIN, "2026-11-30T10:00:02.000Z"),
        (ADMIN, "2026-11-30T10:00:01.000Z"),
        (ADMIN, "2026-11-30T10:00:00.000Z"),
    ]
    assert day[0]["actorDisplayName"] is None and day[1]["actorDisplayName"] == ADMIN_NAME
    assert _audit_log(api, "day=today").json["data"] == day
    assert _audit_log(api, "day=").json["data"] == day
    assert _audit_log(api, "day=2026-11-29").json["data"] == []


def test_the_log_pages_with_a_cursor_that_belongs_to_its_list(api, world, clock):
    _record(7)

    pages, cursor = [], ""
    while True:
        body = _audit_log(api, f"actorId={ADMIN}&limit=3{cursor}").json
        pages.append(body)
        if not body["pagination"]["hasNext"]:
            break
        cursor = f"&cursor={body['pagination']['nextCursor']}"

    assert [[e["requestId"] for e in page["data"]] for page in pages] == [
        ["req-6", "req-5", "req-4"],
        ["req-3", "req-2", "req-1"],
        ["req-0"],
    ]
    assert [(p["pagination"]["page"], p["pagination"]["hasPrev"], p["pagination"]["totalPages"]) for p in pages] == [
        (1, False, None),
        (2, True, None),
        (3, True, 3),
    ]
    foreign = pages[0]["pagination"]["nextCursor"]
    response = _audit_log(api, f"day=2026-11-30&cursor={foreign}")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"
    assert _audit_log(api, f"actorId=someone_else&cursor={foreign}").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=5",
        f"actorId={ADMIN}&day=2026-11-30",
        f"entityType=plan&entityId=monthly-60&actorId={ADMIN}",
        "entityType=plan",
        "entityId=monthly-60",
    ],
)
def test_exactly_one_selector_or_a_400_that_says_so(api, world, query):
    response = _audit_log(api, query)

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_selector"
    assert error["message"].endswith(".") and "entityType" in error["message"]


@pytest.mark.parametrize("query", ["day=2026-13-01", "day=30-11-2026", "day=1999-12-31", "entityType=Plan&entityId=x"])
def test_a_malformed_selector_is_a_400(api, world, query):
    response = _audit_log(api, query)

    assert response.status_code == 400 and response.json["error"]["code"] == "validation_error"


def test_only_admins_read_the_audit_log(api, world):
    assert _audit_log(api, f"actorId={ADMIN}", as_user=CLIENT).status_code == 403
    assert _audit_log(api, f"actorId={ADMIN}", as_user=READER).status_code == 403
    assert api.get(f"/admin/audit-log?actorId={ADMIN}").status_code == 401


def test_every_answer_carries_its_request_id(api, world):
    first, second = api.get("/catalog"), api.get("/me")

    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    assert second.status_code == 401 and second.headers["X-Request-Id"]
