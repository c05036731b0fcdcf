"""Every route x every kind of caller: the declared access is what callers get.

Callers: anonymous, client A, client B, an approved reader, a pending reader (a client
whose application is pending), a suspended user, an admin. Where a route takes an id,
the id belongs to someone other than the caller (see ``PATH_FIXTURES``), so a route that
forgets its ownership check shows up as a 200 where a 404/403 is due.

A new route whose path parameter has no entry in ``PATH_FIXTURES`` fails here with a
message saying what to add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app import app
from chalicelib.api import REGISTRY, RouteSpec
from tests.report import report
from tests.support.quality import open_warning


@dataclass(frozen=True)
class PathFixture:
    """How to fill one path parameter. ``owned_by`` names the caller who owns the object
    (None: a public object, such as a docs asset); every other caller except an admin
    must get 404 or 403 for an owned object."""

    value: Callable[[dict[str, str]], str]
    owned_by: str | tuple[str, ...] | None = None


# One entry per path parameter name used by any route. Later capabilities add theirs
# (e.g. "readingId": PathFixture(lambda world: world["reading_of_client_b"], owned_by="client_b")).
PATH_FIXTURES: dict[str, PathFixture] = {
    "name": PathFixture(lambda world: "swagger-ui.css"),
    # Public reader profiles: anyone may read them.
    "readerId": PathFixture(lambda world: world["reader"]),
    # Admin-only routes: the role check decides; the ids name real or plausible objects.
    "applicationId": PathFixture(lambda world: world["pending_reader"]),
    "attributeId": PathFixture(lambda world: "tarot"),
    "categoryId": PathFixture(lambda world: "love"),
    "badgeId": PathFixture(lambda world: "tarot-bronze"),
    "timeSpanId": PathFixture(lambda world: "30-min"),
    "packageId": PathFixture(lambda world: "starter"),
    "planId": PathFixture(lambda world: "monthly-60"),
    # Legal documents: public by type; admin-only by id (none exists: the role check decides).
    "documentType": PathFixture(lambda world: "terms"),
    "documentId": PathFixture(lambda world: "terms_of_service-2026-12-01"),
    # Local checkout sessions: public (the stand-in for Stripe's hosted page); unknown -> 404.
    "sessionId": PathFixture(lambda world: "cs_local_unknown"),
    # The local Connect onboarding page: public (the stand-in for Stripe's); unknown -> 404.
    "accountId": PathFixture(lambda world: "acct_local_unknown"),
    # The local mail viewer: public (local stage only); an unknown email -> 404.
    "mailId": PathFixture(lambda world: "9999999999999-" + "0" * 32),
    # A reading between client_a and the reader: both are parties; everyone else gets 404/403.
    "readingId": PathFixture(lambda world: world["reading"], owned_by=("client_a", "reader")),
    # Admin-only: the dispute id is a reading id.
    "disputeId": PathFixture(lambda world: world["reading"]),
    # An active status of client_a: its client owns it; any reader may read it and suggest (the
    # reader's own suggestion below), so the reader counts among its "owners" here.
    "statusId": PathFixture(lambda world: world["status"], owned_by=("client_a", "reader")),
    "suggestionId": PathFixture(lambda world: world["suggestion"], owned_by=("client_a", "reader")),
    # A notification of client_a: only its recipient may mark it read.
    "notificationId": PathFixture(lambda world: world["notification"], owned_by="client_a"),
    # A quality warning of the reader: only they may acknowledge it.
    "warningId": PathFixture(lambda world: open_warning(world["reader"]), owned_by="reader"),
    # A data export of client_a: only its owner may read it (anyone else: 404).
    "exportId": PathFixture(lambda world: world["export"], owned_by="client_a"),
    # Admin-only: the account an admin manages (the example body suspends client_b).
    "userId": PathFixture(lambda world: world["client_b"]),
    # Admin-only: a moderation queue item and a moderation rule (unknown ids: the role decides).
    "itemId": PathFixture(lambda world: "mod_matrix_unknown"),
    "ruleId": PathFixture(lambda world: "mrl_matrix_unknown"),
    # Local transfers (payouts' stand-in): public on the local stack; an unknown transfer -> 404.
    "transferId": PathFixture(lambda world: "tr_local_unknown"),
}

OPTIONS = [{"id": "opt_call", "type": "phone_call", "name": "Call", "description": "", "duration": 30, "price": 60,
            "isActive": True}]
CALLERS = ["anonymous", "client_a", "client_b", "reader", "pending_reader", "suspended", "admin"]
ROLE_OF = {"client_a": "client", "client_b": "client", "reader": "reader", "pending_reader": "client",
           "suspended": "client", "admin": "admin"}


@pytest.fixture()
def world(api, make_user):
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile

    ids = {caller: f"user_matrix_{caller}" for caller in ROLE_OF}
    for caller, role in ROLE_OF.items():
        make_user(ids[caller], role=role, status="suspended" if caller == "suspended" else "active")
    now = iso(utcnow())
    ReaderProfile(reader_id=ids["reader"], status="approved", created_at=now, updated_at=now,
                  submitted_at=now, reading_options=OPTIONS, is_online=True, online_flag="online", last_seen_at=now,
                  availability={"timezone": "UTC", "instantBooking": True, "schedule": {}}).save()
    ReaderProfile(reader_id=ids["pending_reader"], status="pending", created_at=now, updated_at=now,
                  submitted_at=now).save()
    from chalicelib.models.users import User
    from chalicelib.services import catalog, catalog_defaults, readings

    catalog.upsert(catalog_defaults.default_items())
    from tests.support import ledger as moves

    moves.grant(ids["client_a"], 500, source="promotion", entry_id="matrix-credits")
    User(user_id=ids["client_a"]).update(actions=[User.age_verified_at.set(now)])
    reading, _ = readings.request(User.get(ids["client_a"]), reader_id=ids["reader"], option_type="phone_call",
                                  option_id=None, duration=30, scheduled_at=None, topic_id="general-reading",
                                  question=None, idempotency_key=None)
    from chalicelib.domain.notifications import Delivery
    from chalicelib.services.notifications import store

    store.deliver("matrix-event", now, [Delivery(ids["client_a"], "system_alert", "Maintenance tonight",
                                                 "The site is down for maintenance at 2:00 AM UTC.")])
    notification = store.list_page(ids["client_a"], limit=1, cursor=None).items[0].id
    from chalicelib.services import statuses

    status = statuses.create(User.get(ids["client_a"]), content="Will my new job make me happy?", mood=None,
                             category="career")
    _, suggestion = statuses.suggest(ids["reader"], status.status_id, title="A career call",
                                     description="We look at the new job together.", suggested_type="phone_call",
                                     option_id=None, duration=30, suggested_price=None, message=None,
                                     scheduled_at=None)
    from chalicelib.services import privacy

    export = privacy.request_export(ids["client_a"]).id
    return {**ids, "reading": reading.reading_id, "notification": notification, "status": status.status_id,
            "suggestion": suggestion["id"], "export": export}


def _expected(spec: RouteSpec, caller: str, owners: set[str]) -> set[int] | None:
    """The statuses the caller may get; None means 'allowed: anything but 401/403/5xx'."""
    access = spec.access
    if access.is_public:
        return None
    if caller == "anonymous":
        return {401}
    if caller == "suspended" and not access.allow_suspended:
        return {403}
    if access.kind == "roles" and ROLE_OF[caller] not in access.roles:
        return {403}
    if owners and caller not in owners and caller != "admin":
        return {403, 404}
    return None


def _path_for(spec: RouteSpec, world: dict[str, str], overlong: str | None = None) -> tuple[str, set[str]]:
    path, owners = spec.path, set()
    for name in spec.path_params:
        if name == overlong:
            path = path.replace("{" + name + "}", world["overlong"])
            continue
        fixture = PATH_FIXTURES.get(name)
        if fixture is None:
            pytest.fail(f"{spec.method} {spec.path}: add PATH_FIXTURES[{name!r}] in {__file__} "
                        f"(an id owned by some caller, so the matrix can check the route's ownership check)")
        path = path.replace("{" + name + "}", fixture.value(world))
        if fixture.owned_by:
            owners.update((fixture.owned_by,) if isinstance(fixture.owned_by, str) else fixture.owned_by)
    return path, owners


ROUTES = sorted(REGISTRY, key=lambda s: (s.path, s.method))


def test_the_matrix_covers_every_route_of_the_app():
    app_routes = {(m, p) for p, methods in app.routes.items() for m in methods}
    assert {(s.method, s.path) for s in ROUTES} == app_routes
    report(f"authorization matrix: {len(ROUTES)} routes x {len(CALLERS)} callers = "
           f"{len(ROUTES) * len(CALLERS)} calls")


@pytest.mark.parametrize("spec", ROUTES, ids=[f"{s.method} {s.path}" for s in ROUTES])
def test_each_caller_gets_what_the_route_declares(api, world, spec):
    path, owners = _path_for(spec, world)
    failures = []
    for caller in CALLERS:
        kwargs = {} if caller == "anonymous" else {"as_user": world[caller]}
        body = spec.example_body()
        if body is not None:
            kwargs["json_body"] = body
        response = api.request(spec.method, path, **kwargs)
        allowed = _expected(spec, caller, owners)
        status = response.status_code
        ok = status not in (401, 403) and status < 500 if allowed is None else status in allowed
        # A party acting in the other party's role (the reader reviewing, the client accepting)
        # is refused by the transition table, not by ownership: 403 forbidden_transition.
        if not ok and allowed is None and status == 403 and caller in owners:
            ok = response.json_body["error"]["code"] == "forbidden_transition"
        if not ok:
            failures.append(f"{caller}: got {status}, expected {sorted(allowed) if allowed else 'allowed'}")
    assert not failures, f"{spec.method} {spec.path} ({spec.access.describe()}): " + "; ".join(failures)


def test_an_overlong_path_id_is_a_404_on_every_route_never_a_500(api, world):
    """An id no key could hold (2,000 characters) names nothing: every route answers 404
    before it reaches storage (DynamoDB refuses such a key, which would be a 500)."""
    failures = []
    for spec in ROUTES:
        for name in spec.path_params:
            _, owners = _path_for(spec, world)
            path = _path_for(spec, {**world, "overlong": "x" * 2000}, overlong=name)[0]
            caller = next((c for c in ["admin", *sorted(owners), *CALLERS] if _expected(spec, c, owners) is None), None)
            kwargs = {} if caller in (None, "anonymous") else {"as_user": world[caller]}
            if spec.example_body() is not None:
                kwargs["json_body"] = spec.example_body()
            response = api.request(spec.method, path, **kwargs)
            if response.status_code != 404:
                failures.append(f"{spec.method} {spec.path} {{{name}}} as {caller}: {response.status_code}")
    assert not failures, "; ".join(failures)
