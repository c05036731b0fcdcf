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
]
