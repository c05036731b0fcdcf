"""Rate limits per route class (issue 16): one conditional write per request, a 429 in the
error envelope with Retry-After, nothing done for a rejected request, per user, per IP for
anonymous public reads, a new window lets requests through again. The clock is injected
(``services.rate_limits.utcnow``); the limits are this module's (RATE_LIMITS)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import limits
from tests.support.calls import dynamodb_calls
from tests.support.readings import make_reader

# 10:09:23 UTC: 563 s into a 600-s window, 23 s into a 60-s one.
T0 = datetime(2026, 12, 2, 10, 9, 23, tzinfo=UTC)
CHECKOUT_LIMIT, CHECKOUT_WINDOW = 5, 600
READS_LIMIT, READS_WINDOW = 3, 60


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    from chalicelib.services import rate_limits

    now = [T0]
    monkeypatch.setattr(rate_limits, "utcnow", lambda: now[0])
    return now


@pytest.fixture()
def rate_limits_of(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set RATE_LIMITS for the rest of the test. Settings are read once: they are read again
    here, outside any request (chalice's test client patches the environment with a stage of
    .chalice/config.json while it serves one)."""
    from chalicelib.config import get_settings

    def configure(value: str) -> None:
        monkeypatch.setenv("RATE_LIMITS", value)
        get_settings.cache_clear()
        get_settings()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()
    get_settings()  # the suite's settings again, read here rather than in the next test's first request


@pytest.fixture()
def limited(rate_limits_of: Callable[[str], None], clock: list[datetime], default_catalog: None) -> list[datetime]:
    rate_limits_of(f"checkout={CHECKOUT_LIMIT}/{CHECKOUT_WINDOW},public_reads={READS_LIMIT}/{READS_WINDOW}")
    return clock


@pytest.fixture()
def source_ip(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """The address API Gateway reports as the caller's (requestContext.identity.sourceIp)."""
    from chalice.local import LambdaEventConverter

    return lambda address: monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def checkout(api, user: str):
    return api.post("/credits/checkout", as_user=user, json_body={"packageId": "seeker"})


def orders_of(user_id: str) -> int:
    from chalicelib.models.billing import CheckoutOrder

    return sum(1 for order in CheckoutOrder.scan()
               if order.user_id == user_id and order.order_key.startswith(CheckoutOrder.KEY_PREFIX))


# --- the burst -------------------------------------------------------------------------------------


def test_a_burst_of_a_thousand_checkouts_creates_exactly_the_limit_of_sessions(
    api, make_user, rate_limits_of, clock, default_catalog
):
    """The report: 500 rapid POST /credits/checkout made 500 Checkout Sessions."""
    rate_limits_of("checkout=50/600")
    make_user("eager")

    answers = [checkout(api, "eager") for _ in range(1000)]

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: 50, 429: 950}
    assert [a.status_code for a in answers[:50]] == [201] * 50  # the first 50 pass, every later one is refused
    assert len({a.json["sessionId"] for a in answers[:50]}) == 50
    assert orders_of("eager") == 50  # a refused request created no session and wrote nothing


# --- the answer ------------------------------------------------------------------------------------


def test_the_429_is_the_error_envelope_with_retry_after_until_the_window_ends(api, make_user, limited):
    make_user("buyer")
    for _ in range(CHECKOUT_LIMIT):
        assert checkout(api, "buyer").status_code == 201

    refused = checkout(api, "buyer")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "37"  # 10:09:23 -> 10:10:00
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.json == {
        "error": {
            "code": "rate_limited",
            "message": "Too many checkout requests; try again in 37 seconds.",
            "details": {
                "routeClass": "checkout",
                "limit": CHECKOUT_LIMIT,
                "windowSeconds": CHECKOUT_WINDOW,
                "retryAfterSeconds": 37,
            },
        }
    }
    assert orders_of("buyer") == CHECKOUT_LIMIT


def test_retry_after_is_at_least_one_second_at_the_very_end_of_a_window(api, make_user, limited):
    make_user("buyer")
    limited[0] = T0.replace(minute=9, second=59, microsecond=999_000)
    for _ in range(CHECKOUT_LIMIT):
        checkout(api, "buyer")

    refused = checkout(api, "buyer")

    assert refused.headers["Retry-After"] == "1"
    assert refused.json["error"]["message"] == "Too many checkout requests; try again in 1 second."


def test_a_long_wait_reads_in_minutes(api, make_user, rate_limits_of, clock, default_catalog):
    rate_limits_of("checkout=1/3600")
    make_user("buyer")
    checkout(api, "buyer")

    refused = checkout(api, "buyer")

    assert refused.headers["Retry-After"] == str(3600 - (9 * 60 + 23))
    assert refused.json["error"]["message"] == "Too many checkout requests; try again in 51 minutes."


def test_the_next_window_lets_requests_through_again(api, make_user, limited):
    make_user("buyer")
    for _ in range(CHECKOUT_LIMIT):
        checkout(api, "buyer")
    assert checkout(api, "buyer").status_code == 429

    limited[0] = T0 + timedelta(seconds=37)  # 10:10:00, the next window

    assert checkout(api, "buyer").status_code == 201


def test_fixed_windows_let_twice_the_limit_through_across_a_boundary(api, make_user, limited):
    """The documented price of one write per request (chalicelib/domain/limits.py): the whole
    allowance at the end of one window, and again at the start of the next."""
    make_user("buyer")
    limited[0] = T0.replace(second=59)
    first = [checkout(api, "buyer").status_code for _ in range(CHECKOUT_LIMIT + 1)]
    limited[0] = T0 + timedelta(seconds=38)
    second = [checkout(api, "buyer").status_code for _ in range(CHECKOUT_LIMIT + 1)]

    assert first == second == [201] * CHECKOUT_LIMIT + [429]


# --- who counts ------------------------------------------------------------------------------------


def test_limits_are_per_user(api, make_user, limited):
    make_user("first")
    make_user("second")
    for _ in range(CHECKOUT_LIMIT):
        checkout(api, "first")
    assert checkout(api, "first").status_code == 429

    assert checkout(api, "second").status_code == 201


def test_classes_count_apart_and_subscriptions_share_the_checkout_class(api, make_user, limited, monkeypatch):
    make_user("buyer")
    for _ in range(CHECKOUT_LIMIT):
        checkout(api, "buyer")

    subscribing = api.post("/subscriptions", as_user="buyer", json_body={"planId": "monthly"})
    assert subscribing.status_code == 429 and subscribing.json["error"]["details"]["routeClass"] == "checkout"
    assert api.get("/catalog", as_user="buyer").status_code == 200  # another class


def test_anonymous_public_reads_are_limited_per_ip_and_keep_no_address(api, limited, source_ip):
    from chalicelib.models.rate_limits import RateLimitCounter

    source_ip("203.0.113.7")
    assert [api.get("/catalog").status_code for _ in range(READS_LIMIT + 1)] == [200] * READS_LIMIT + [429]
    refused = api.get("/readers")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "37"
    assert refused.json["error"]["message"] == "Too many requests; try again in 37 seconds."

    source_ip("198.51.100.20")
    assert api.get("/catalog").status_code == 200  # another address has its own allowance

    keys = [counter.counter_key for counter in RateLimitCounter.scan()]
    assert len(keys) == 2 and not any("203.0.113.7" in key or "198.51.100.20" in key for key in keys)


def test_a_signed_in_caller_of_a_public_read_counts_as_themself_not_their_address(api, make_user, limited, source_ip):
    make_reader("rdr")
    make_user("visitor")
    source_ip("203.0.113.7")
    for _ in range(READS_LIMIT):
        api.get("/readers/rdr")
    assert api.get("/readers/rdr").status_code == 429

    assert api.get("/readers/rdr", as_user="visitor").status_code == 200
    # /catalog is public without a caller: a token there is not verified, the address counts.
    assert api.get("/catalog", as_user="visitor").status_code == 429


def test_a_caller_refused_at_authentication_is_not_counted(api, make_user, limited):
    make_user("buyer")
    for _ in range(2 * CHECKOUT_LIMIT):
        assert api.post("/credits/checkout", json_body={"packageId": "seeker"}).status_code == 401

    assert checkout(api, "buyer").status_code == 201


# --- cost --------------------------------------------------------------------------------------------


def test_a_limited_request_makes_one_conditional_write_and_no_read(api, make_user, limited):
    make_user("buyer")
    checkout(api, "buyer")  # warm

    with dynamodb_calls() as admitted:
        checkout(api, "buyer")
    with dynamodb_calls() as catalog_read:
        api.get("/catalog")
    for _ in range(CHECKOUT_LIMIT):
        checkout(api, "buyer")
    with dynamodb_calls() as refused:
        assert checkout(api, "buyer").status_code == 429

    assert admitted.count("UpdateItem") == 1
    assert catalog_read == ["UpdateItem", "Query"]  # the counter, then the catalog
    assert refused == ["GetItem", "UpdateItem"]  # the caller (authentication), the refused counter


def test_a_route_without_a_class_and_a_class_turned_off_make_no_counter(api, make_user, rate_limits_of, clock):
    rate_limits_of("public_reads=off")
    make_user("someone")
    api.get("/me", as_user="someone")

    with dynamodb_calls() as me:
        assert api.get("/me", as_user="someone").status_code == 200
    with dynamodb_calls() as catalog_read:
        assert api.get("/catalog").status_code == 200

    assert "UpdateItem" not in me
    assert catalog_read == ["Query"]


def test_the_limiter_admits_the_request_when_dynamodb_cannot_answer(api, make_user, limited, monkeypatch):
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import UpdateError

    from chalicelib.models.rate_limits import RateLimitCounter

    def throttled(self, *args, **kwargs):
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise UpdateError("Failed to update item", cause=ClientError(error, "UpdateItem"))

    make_user("buyer")
    monkeypatch.setattr(RateLimitCounter, "update", throttled)

    assert [checkout(api, "buyer").status_code for _ in range(CHECKOUT_LIMIT + 2)] == [201] * (CHECKOUT_LIMIT + 2)


# --- declarations ------------------------------------------------------------------------------------

# The routes issue 16 names, by class (reports have no route yet).
LIMITED = {
    ("POST", "/credits/checkout"): "checkout",
    ("POST", "/subscriptions"): "checkout",
    ("POST", "/readings"): "reading_requests",
    ("POST", "/statuses"): "statuses",
    ("PATCH", "/statuses/{statusId}"): "statuses",
    ("POST", "/statuses/{statusId}/suggestions"): "statuses",
    ("POST", "/events"): "analytics",
    ("POST", "/media/uploads"): "media_uploads",
    ("GET", "/catalog"): "public_reads",
    ("GET", "/readers"): "public_reads",
    ("GET", "/readers/{readerId}"): "public_reads",
    ("GET", "/readers/{readerId}/reviews"): "public_reads",
}


def test_the_issues_routes_are_limited_by_their_class_and_webhooks_are_not(chalice_app):
    from chalicelib.api import REGISTRY

    declared = {(spec.method, spec.path): spec.rate_limit for spec in REGISTRY}
    assert {route: declared.get(route) for route in LIMITED} == LIMITED
    assert set(LIMITED.values()) | {"reports"} == set(limits.CLASSES)
    webhooks = [spec for spec in REGISTRY if spec.path.startswith("/webhooks/")]
    assert webhooks and all(spec.rate_limit is None for spec in webhooks)


def test_every_limited_operation_documents_the_429_and_its_retry_after(api):
    document = api.get("/openapi.json").json
    for (method, path), route_class in LIMITED.items():
        operation = document["paths"][path][method.lower()]
        assert operation["x-rate-limit-class"] == route_class
        refused = operation["responses"]["429"]
        assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
        assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    unlimited = document["paths"]["/me"]["get"]
    assert "429" not in unlimited["responses"] and "x-rate-limit-class" not in unlimited


# --- configuration -----------------------------------------------------------------------------------


def test_overrides_name_classes_and_the_wildcard_comes_first():
    parsed = limits.parse_overrides("checkout=3/60, *=100/10, public_reads=off")

    assert parsed["checkout"] == limits.RateLimit(3, 60)
    assert parsed["public_reads"] is None
    assert parsed["reports"] == parsed["analytics"] == limits.RateLimit(100, 10)
    assert limits.parse_overrides("") == {name: c.limit for name, c in limits.CLASSES.items()}


@pytest.mark.parametrize(
    "text",
    [
        "checkout",
        "checkout=0/60",
        "checkout=10/0",
        "checkout=10/86401",
        "checkout=ten/60",
        "checkout=10",
        "chekout=10/60",
    ],
)
def test_a_malformed_override_fails_at_start_with_a_sentence(text, rate_limits_of):
    from chalicelib.config import ConfigError, get_settings

    with pytest.raises(ConfigError, match="RATE_LIMITS"):
        rate_limits_of(text)
    with pytest.raises(ConfigError, match="RATE_LIMITS"):
        get_settings()  # every time, until the setting is fixed


# --- retries with the same Idempotency-Key ---------------------------------------------------------


def keyed_checkout(api, user: str, key: str, package_id: str = "seeker"):
    return api.post("/credits/checkout", as_user=user, json_body={"packageId": package_id},
                    headers={"Idempotency-Key": key})


def test_a_retry_with_the_same_idempotency_key_is_replayed_not_refused(api, make_user, rate_limits_of, clock,
                                                                       default_catalog):
    """The report: the same Idempotency-Key answered the same session ten times, then 429."""
    rate_limits_of("checkout=2/600")
    make_user("retrier")

    first, second, third = (keyed_checkout(api, "retrier", key) for key in ("key-1", "key-2", "key-3"))

    assert [first.status_code, second.status_code, third.status_code] == [201, 201, 429]
    replay = keyed_checkout(api, "retrier", "key-1")
    assert replay.status_code == 201
    assert replay.json["sessionId"] == first.json["sessionId"]
    assert replay.json["checkoutUrl"] == first.json["checkoutUrl"]
    assert orders_of("retrier") == 2  # no new Checkout Session
    # A key that never succeeded, or one reused for another package, is no way past the limit.
    assert keyed_checkout(api, "retrier", "key-3").status_code == 429
    reused = keyed_checkout(api, "retrier", "key-1", package_id="mystic")
    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert orders_of("retrier") == 2


def test_another_callers_idempotency_key_is_no_way_past_the_limit(api, make_user, rate_limits_of, clock,
                                                                  default_catalog):
    rate_limits_of("checkout=1/600")
    make_user("owner")
    make_user("borrower")
    assert keyed_checkout(api, "owner", "shared-key").status_code == 201
    assert keyed_checkout(api, "borrower", "own-key").status_code == 201

    assert keyed_checkout(api, "borrower", "shared-key").status_code == 429
