"""After the retention period the purge deletes the account outside our tables too: its Clerk
user (Clerk's Backend API; the recorded stand-in here) and its Stripe customers (the payments
gateway). Not at DELETE /me: until the purge the deletion is soft and can still be undone. A
provider that fails is retried by the next runs alone, without purging the tables again; "already
gone" counts as done; Clerk's user.deleted for the same user afterwards changes nothing."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.stripe_api import stripe_api  # noqa: F401 - fixture
from tests.support.readings import make_client

pytestmark = pytest.mark.usefixtures("default_catalog")

purging = importlib.import_module("chalicelib.services.privacy.purge")  # the package exports its purge()


def _later(**extra: int) -> datetime:
    from chalicelib.config import get_settings

    return datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1) + timedelta(**extra)


def _subscribed(user_id: str, customer_id: str) -> None:
    """A past subscription of the user's, as Stripe's events leave it: it names the customer."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.billing import Subscription

    now = iso(utcnow())
    Subscription(
        user_id=user_id,
        subscription_id=f"sub_{user_id}",
        plan_id="monthly-60",
        status="canceled",
        customer_id=customer_id,
        created_at=now,
        updated_at=now,
    ).save()


def _erasure(user_id: str) -> Any:
    from chalicelib.models.privacy import Erasure

    return Erasure.get(user_id, "erasure", consistent_read=True)


@pytest.fixture()
def clerk() -> Any:
    from chalicelib.integrations import clerk_api

    local = clerk_api.local()
    local.deleted.clear()
    yield local
    local.deleted.clear()


@pytest.fixture()
def stripe_local() -> Any:
    from chalicelib.integrations import payments

    gateway = payments.gateway()
    assert isinstance(gateway, payments.LocalGateway)
    gateway.deleted_customers.clear()
    yield gateway
    gateway.deleted_customers.clear()


class _Down:
    def delete_user(self, user_id: str) -> bool:
        from chalicelib.integrations.clerk_api import ClerkUnavailable

        raise ClerkUnavailable("Clerk answered 503 to deleting user ann: down for maintenance")


def test_the_clerk_user_and_the_stripe_customer_go_at_the_purge_not_at_the_deletion(api, drain, clerk, stripe_local):
    from chalicelib.models.base import plain
    from chalicelib.services import audit, privacy

    make_client("ann", 0)
    _subscribed("ann", "cus_ann")

    assert api.delete("/me", as_user="ann").status_code == 202
    drain()
    assert privacy.purge_due(now=_later(days=-2)) == {"purged": 0, "failed": 0, "left": 0}

    # Until the purge: nothing irreversible outside our tables.
    assert (clerk.deleted, stripe_local.deleted_customers) == ([], [])
    assert _erasure("ann").external_pending is None

    assert privacy.purge_due(now=_later()) == {"purged": 1, "failed": 0, "left": 0}

    assert (clerk.deleted, stripe_local.deleted_customers) == (["ann"], ["cus_ann"])
    erasure = _erasure("ann")
    assert erasure.purged_at is not None
    assert (erasure.purge_due, erasure.external_pending) == (None, None)  # done: out of the index
    [purged] = [r for r in audit.history("user", "ann") if r.action == "user.purge"]
    assert plain(purged.after)["pendingElsewhere"] == ["clerk", "stripe:cus_ann"]

    assert privacy.purge_due(now=_later(days=1)) == {"purged": 0, "failed": 0, "left": 0}
    assert (clerk.deleted, stripe_local.deleted_customers) == (["ann"], ["cus_ann"])  # once


def test_an_account_clerk_deleted_is_not_deleted_at_clerk_again(api, drain, clerk, stripe_local):
    from chalicelib.services import clerk_sync, privacy

    make_client("bob", 0)
    assert clerk_sync.delete_user("bob", now=datetime.now(UTC)) is True
    drain()

    assert privacy.purge_due(now=_later()) == {"purged": 1, "failed": 0, "left": 0}

    assert (clerk.deleted, stripe_local.deleted_customers) == ([], [])  # and no customer: no subscription
    assert _erasure("bob").purge_due is None


def test_already_gone_at_the_provider_counts_as_done(api, drain, clerk, stripe_local):
    from chalicelib.services import privacy

    make_client("ann", 0)
    _subscribed("ann", "cus_ann")
    api.delete("/me", as_user="ann")
    drain()
    assert clerk.delete_user("ann") is True  # deleted from Clerk's dashboard meanwhile
    assert stripe_local.delete_customer("cus_ann") is True  # and from Stripe's

    assert privacy.purge_due(now=_later()) == {"purged": 1, "failed": 0, "left": 0}

    erasure = _erasure("ann")
    assert (erasure.purge_due, erasure.external_pending) == (None, None)


def test_a_provider_that_fails_is_retried_alone_by_the_next_runs(api, drain, clerk, stripe_local, monkeypatch):
    from chalicelib.integrations import clerk_api
    from chalicelib.models.base import iso
    from chalicelib.models.users import User
    from chalicelib.services import privacy

    make_client("ann", 0)
    _subscribed("ann", "cus_ann")
    api.delete("/me", as_user="ann")
    drain()
    later = _later()

    with monkeypatch.context() as outage:
        outage.setattr(clerk_api, "clerk", _Down)
        assert privacy.purge_due(now=later) == {"purged": 0, "failed": 1, "left": 0}

    # The tables are purged; Stripe's part is done; Clerk's is left, and the erasure is due later.
    assert User.get("ann").email is None
    erasure = _erasure("ann")
    assert erasure.purged_at is not None and erasure.external_pending == {"clerk"}
    assert (erasure.purge_due, erasure.attempts, erasure.purge_at) == ("due", 1, iso(later + timedelta(hours=1)))
    assert (clerk.deleted, stripe_local.deleted_customers) == ([], ["cus_ann"])
    assert privacy.purge_due(now=later + timedelta(minutes=30)) == {"purged": 0, "failed": 0, "left": 0}

    def table_work_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the tables were purged again")

    monkeypatch.setattr(purging, "_finish", table_work_again)
    monkeypatch.setattr(purging.scrub, "notifications", table_work_again)

    assert privacy.purge_due(now=later + timedelta(hours=1)) == {"purged": 1, "failed": 0, "left": 0}

    assert (clerk.deleted, stripe_local.deleted_customers) == (["ann"], ["cus_ann"])
    erasure = _erasure("ann")
    assert (erasure.purge_due, erasure.external_pending) == (None, None)


def test_clerks_user_deleted_for_a_purged_account_changes_nothing(api, drain, clerk):
    from chalicelib.models.base import plain
    from chalicelib.services import privacy
    from tests.api.test_clerk_webhooks import clerk_event, deliver, events_of_type

    make_client("ann", 0)
    api.delete("/me", as_user="ann")
    drain()
    privacy.purge_due(now=_later())
    assert clerk.deleted == ["ann"]
    user_before = plain(_user_item("ann"))
    erasure_before = plain(_erasure("ann").attribute_values)
    announced = len(events_of_type("user.deleted"))

    # What Clerk sends after our deletion of its user.
    answer = deliver(api, clerk_event("user.deleted", {"id": "ann", "deleted": True, "object": "user"}))

    assert (answer.status_code, answer.json) == (200, {"received": True, "outcome": "stale"})
    assert plain(_user_item("ann")) == user_before
    assert plain(_erasure("ann").attribute_values) == erasure_before
    assert len(events_of_type("user.deleted")) == announced  # nothing set in motion again
    assert privacy.purge_due(now=_later(days=2)) == {"purged": 0, "failed": 0, "left": 0}


def _user_item(user_id: str) -> dict[str, Any]:
    from chalicelib.models.users import User

    return dict(User.get(user_id, consistent_read=True).attribute_values)


def test_stripe_customers_are_deleted_through_stripes_api(stripe_api):  # noqa: F811 - the fixture
    from chalicelib.errors import DependencyUnavailable
    from chalicelib.integrations import payments

    gateway = payments.gateway()
    assert isinstance(gateway, payments.StripeGateway)
    stripe_api.put_customer("cus_ann")

    assert gateway.delete_customer("cus_ann") is True
    assert gateway.delete_customer("cus_ann") is False  # Stripe's resource_missing: already gone
    assert gateway.delete_customer("cus_never") is False
    stripe_api.fail_next(500)
    with pytest.raises(DependencyUnavailable):
        gateway.delete_customer("cus_other")

    deletes = stripe_api.calls("DELETE", prefix="/v1/customers/")
    assert [call.path for call in deletes] == [
        "/v1/customers/cus_ann",
        "/v1/customers/cus_ann",
        "/v1/customers/cus_never",
        "/v1/customers/cus_other",
    ]
    assert deletes[0].headers["authorization"] == "Bearer sk_test_x"
