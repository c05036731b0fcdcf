"""The scenario registry: one declaration per row of the request table.

To measure a new route, append a ``Scenario`` to ``SCENARIOS`` (and, if the route needs
data, a small setup function). Nothing else in the bench needs to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Harness:
    """The app under ``chalice.test.Client`` in one fresh moto account; given to setup functions."""

    def __init__(self, client: Any, issuer: Any):
        self.client = client
        self.issuer = issuer
        self._tokens: dict[str, str] = {}

    def token(self, user_id: str) -> str:
        """A signed session token for ``user_id`` (minted once: signing is not what we measure)."""
        if user_id not in self._tokens:
            self._tokens[user_id] = self.issuer.token(user_id, email=f"{user_id}@example.com")
        return self._tokens[user_id]

    def request(self, method: str, path: str, *, as_user: str | None = None, body: Any = None,
                headers: dict[str, str] | None = None) -> Any:
        all_headers = dict(headers or {})
        if as_user is not None:
            all_headers["Authorization"] = f"Bearer {self.token(as_user)}"
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return self.client.http.request(method=method, path=path, headers=all_headers, body=raw)


Setup = Callable[[Harness, "Scenario"], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: Any = None
    as_user: str | None = None
    setup: Setup | None = None
    target: str = ""  # shown in the table, e.g. "1 DynamoDB call"
    dynamodb_target: int | None = None  # when set, a request over it is flagged in the table
    status: int = 200  # the expected response status; anything else marks the row as an error
    headers: dict[str, str] = field(default_factory=dict)
    # Instead of method/path: ``operation(harness, n)`` is timed (n counts the calls from 0), for
    # service operations with no route of their own (ledger holds, captures) or requests that
    # must differ each time (a fresh signed webhook event). Returns something with status_code.
    operation: Callable[[Harness, int], Any] | None = None


# --- setup functions -------------------------------------------------------------------------


def provision_user(harness: Harness, scenario: Scenario) -> None:
    """The scenario's user exists (its first GET /me provisions it), so requests are warm."""
    assert scenario.as_user, f"{scenario.name}: provision_user needs as_user"
    response = harness.request("GET", "/me", as_user=scenario.as_user)
    if response.status_code != 200:
        raise RuntimeError(f"provisioning {scenario.as_user} failed: {response.status_code} {response.body!r}")


def seed_catalog(harness: Harness, scenario: Scenario) -> None:
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())


BENCH_READER = "user_bench_reader"


def approved_reader(harness: Harness, scenario: Scenario) -> None:
    """One approved, online reader with a realistic profile (six options, a weekly schedule)."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User
    from chalicelib.services import catalog, catalog_defaults

    catalog.upsert(catalog_defaults.default_items())
    now = iso(utcnow())
    User(user_id=BENCH_READER, role="reader", status="active", display_name="Bench Reader", created_at=now,
         updated_at=now, preferences={"privacy": {"showOnlineStatus": True}}).save()
    options = [{"id": f"opt_{kind}_{minutes}", "type": kind, "name": f"{minutes}-minute {kind}",
                "description": "A reading tailored to your question.", "duration": minutes, "price": minutes * 3,
                "isActive": True}
               for kind in ("phone_call", "live_video") for minutes in (15, 30, 60)]
    week = {day: [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}]
            for day in ("mon", "tue", "wed", "thu", "fri")}
    ReaderProfile(
        reader_id=BENCH_READER, status="approved", display_name="Bench Reader", tagline="Clear answers, kindly",
        bio="Twenty years of tarot and astrology. " * 10, location="Lisbon, Portugal",
        profile_image="https://images.example.com/bench.webp",
        attributes={"tools": ["tarot", "astrology"], "abilities": ["clairvoyant", "empath"], "style": "compassionate"},
        attribute_names={"tarot": "Tarot", "astrology": "Astrology", "clairvoyant": "Clairvoyant", "empath": "Empath",
                         "compassionate": "Compassionate"},
        reading_options=options, availability={"timezone": "Europe/Lisbon", "instantBooking": True, "schedule": week},
        is_online=True, online_flag="online", last_seen_at=now, rating_average=4.8, rating_count=120,
        total_readings=340, badges=["tarot-silver"], submitted_at=now, decided_at=now, created_at=now,
        updated_at=now,
    ).save()


class Done:
    status_code = 200


BENCH_BUYER = "user_bench_buyer"


def funded_user(harness: Harness, scenario: Scenario) -> None:
    """A client with a large balance, and the same amount already held (for captures)."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.users import User
    from chalicelib.services import ledger

    now = iso(utcnow())
    User(user_id=BENCH_BUYER, role="client", status="active", created_at=now, updated_at=now).save()
    promotion(BENCH_BUYER, 2_000_000, entry_id="bench:grant")
    ledger.apply(lambda tx: ledger.hold(tx, BENCH_BUYER, 1_000_000, entry_id="bench:hold"))


def promotion(user_id: str, credits: int, *, entry_id: str) -> None:
    """Credits granted through the ledger, in a unit of work of their own."""
    from chalicelib.services import ledger

    ledger.apply(lambda tx: ledger.grant(tx, ledger.read_user(user_id), credits, source="promotion",
                                         entry_id=entry_id), retry_on=ledger.balance_moved(user_id))


def ledger_hold(harness: Harness, n: int) -> Done:
    """One hold in its own unit of work (no read: the ledger's floor is the condition)."""
    from chalicelib.services import ledger

    ledger.apply(lambda tx: ledger.hold(tx, BENCH_BUYER, 1, entry_id=f"bench:hold:{n}", ref=f"reading_{n}"))
    return Done()


def ledger_capture(harness: Harness, n: int) -> Done:
    from chalicelib.services import ledger

    ledger.apply(lambda tx: ledger.capture(tx, BENCH_BUYER, 1, entry_id=f"bench:capture:{n}", ref=f"reading_{n}"))
    return Done()


def stripe_webhook(harness: Harness, n: int) -> Any:
    """A new, correctly signed checkout.session.completed each time (verify, record, enqueue)."""
    import time as _time

    from chalicelib.config import get_settings
    from chalicelib.integrations import stripe_signature

    event = {"id": f"evt_bench_{n}", "object": "event", "type": "checkout.session.completed", "created": 0,
             "data": {"object": {"id": f"cs_bench_{n}", "object": "checkout.session", "mode": "payment",
                                 "payment_status": "paid", "payment_intent": f"pi_bench_{n}", "amount_total": 1799,
                                 "currency": "usd", "metadata": {"userId": BENCH_BUYER, "kind": "credits",
                                                                 "packageId": "seeker", "credits": "60"}}}}
    body = json.dumps(event).encode()
    header = stripe_signature.header(get_settings().stripe_webhook_secret, int(_time.time()), body)
    return harness.client.http.request(method="POST", path="/webhooks/stripe", body=body,
                                       headers={"Content-Type": "application/json", "Stripe-Signature": header})


BENCH_CLIENT = "user_bench_client"
BENCH_READINGS = 260  # requested readings made in setup, one per timed accept (runs + warm-ups)


def readings_world(harness: Harness, scenario: Scenario) -> None:
    """The default catalog, an online reader with options, a verified client with credits."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    approved_reader(harness, scenario)
    now = iso(utcnow())
    User(user_id=BENCH_CLIENT, role="client", status="active", created_at=now, updated_at=now,
         age_verified_at=now).save()
    promotion(BENCH_CLIENT, 10_000_000, entry_id="bench:client-credits")
    profile = ReaderProfile.get(BENCH_READER)
    profile.update(actions=[ReaderProfile.is_online.set(True)])


def requested_readings(harness: Harness, scenario: Scenario) -> None:
    from chalicelib.models.users import User
    from chalicelib.services import readings

    readings_world(harness, scenario)
    client = User.get(BENCH_CLIENT)
    for n in range(BENCH_READINGS):
        readings.request(client, reader_id=BENCH_READER, option_type="phone_call", option_id=None, duration=30,
                         scheduled_at=None, topic_id="general-reading", question=None, idempotency_key=f"bench-{n}")


READING_BODY = {"readerId": BENCH_READER, "optionType": "phone_call", "duration": 30, "topicId": "career-work",
                "question": "Should I take the new role?"}


def request_reading(harness: Harness, n: int) -> Any:
    return harness.request("POST", "/readings", as_user=BENCH_CLIENT, body=READING_BODY,
                           headers={"Idempotency-Key": f"bench-request-{n}"})


def accept_reading(harness: Harness, n: int) -> Any:
    import hashlib

    reading_id = "rdg_" + hashlib.sha256(f"{BENCH_CLIENT}:bench-{n}".encode()).hexdigest()[:26]
    return harness.request("POST", f"/readings/{reading_id}/accept", as_user=BENCH_READER)


# --- the registry ----------------------------------------------------------------------------

PREFERENCES = {
    "theme": "dark",
    "language": "pt-BR",
    "timezone": "Europe/Paris",
    "notifications": {"email": True, "push": False, "inApp": True, "readingReminders": True,
                      "marketingEmails": False},
    "accessibility": {"highContrast": False, "fontSize": "large", "screenReader": False, "reducedMotion": True},
    "privacy": {"profileVisibility": "readers_only", "showOnlineStatus": False, "allowDirectMessages": True},
}

SCENARIOS: list[Scenario] = [
    Scenario("GET /me (warm)", "GET", "/me", as_user="user_bench", setup=provision_user,
             target="1 DynamoDB call", dynamodb_target=1),
    Scenario("GET /catalog", "GET", "/catalog", setup=seed_catalog,
             target="1 DynamoDB call (one Query)", dynamodb_target=1),
    Scenario("PUT /me/preferences", "PUT", "/me/preferences", body=PREFERENCES, as_user="user_bench",
             setup=provision_user, target="2 DynamoDB calls (auth GetItem + UpdateItem)", dynamodb_target=2),
    Scenario("GET /health", "GET", "/health",
             target="1 DescribeTable per table, 1 SQS, 1 S3"),
    Scenario("GET /readers/{readerId}", "GET", f"/readers/{BENCH_READER}", setup=approved_reader,
             target="<= 2 DynamoDB calls (profile GetItem + the reader's privacy GetItem)", dynamodb_target=2),
    Scenario("ledger hold (service)", "-", "ledger.hold", setup=funded_user, operation=ledger_hold,
             target="1 TransactWriteItems, no read", dynamodb_target=1),
    Scenario("ledger capture (service)", "-", "ledger.capture", setup=funded_user, operation=ledger_capture,
             target="1 TransactWriteItems, no read", dynamodb_target=1),
    Scenario("POST /webhooks/stripe", "POST", "/webhooks/stripe", setup=funded_user, operation=stripe_webhook,
             target="1 TransactWriteItems (event record + outbox)", dynamodb_target=1),
    Scenario("POST /readings", "POST", "/readings", setup=readings_world, operation=request_reading, status=201,
             target="1 transaction + <= 5 reads (auth, reader profile, catalog BatchGet, the parties' 2 BatchGets)",
             dynamodb_target=6),
    Scenario("POST /readings/{id}/accept", "POST", "/readings/{id}/accept", setup=requested_readings,
             operation=accept_reading,
             target="1 transaction + <= 5 reads (auth, reading, reading after, the parties' 2 BatchGets)",
             dynamodb_target=6),
    Scenario("GET /readings (a tab)", "GET", "/readings?as=client&tab=requested", as_user=BENCH_CLIENT,
             setup=requested_readings, target="auth GetItem + one Query + the parties' 2 BatchGets per page",
             dynamodb_target=4),
    Scenario("GET /credits", "GET", "/credits", as_user=BENCH_BUYER, setup=funded_user,
             target="2 DynamoDB calls (auth GetItem + history Query)", dynamodb_target=2),
]
