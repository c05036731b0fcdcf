"""Demo data for the local stage: the catalog, an admin, clients, readers, an application.

``seed_demo(issuer)`` is idempotent (deterministic ids; an item that already exists is
left as it is) and returns ``{handle: {"userId", "role", "token"}}`` for every demo user,
the same map ``make run`` writes to ``.local/dev-tokens.json``.

Import this module only after the environment is configured (tools.local_env.configure,
or the test conftest): chalicelib reads its settings at import, so it is imported lazily.

The clients' starting credits are a promotion granted through the ledger (entry
``demo-credits:<user>``, applied once however often the seed runs), so the books sum to
zero from the first request and ``make ledger-check`` passes on a fresh stack.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tools.local_issuer import LocalIssuer

DEMO_CREDITS = 120
DEMO_READING_CREDITS = 200  # covers the seeded readings, so each client keeps at least DEMO_CREDITS to try
EMAIL_DOMAIN = "demo.auralumic.example"

# handle, display name, role
STAFF_AND_CLIENTS: list[tuple[str, str, str]] = [
    ("admin", "Avery Admin", "admin"),
    ("client1", "Clara Nguyen", "client"),
    ("client2", "Marcus Bell", "client"),
    ("client3", "Priya Raman", "client"),
]

# The readers' working weeks (IANA timezone of the reader; times are local to it).
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
_SCHEDULES: dict[str, dict[str, list[dict[str, str]]]] = {
    "office": {day: [{"start": "09:00", "end": "17:00"}] for day in _WEEKDAYS},
    "evenings": {**{day: [{"start": "18:00", "end": "23:00"}] for day in _WEEKDAYS},
                 "sat": [{"start": "14:00", "end": "22:00"}]},
    "split": {**{day: [{"start": "08:00", "end": "12:00"}, {"start": "16:00", "end": "20:00"}]
                 for day in ["mon", "wed", "fri"]},
              "sun": [{"start": "10:00", "end": "16:00"}]},
    "weekends": {"fri": [{"start": "17:00", "end": "23:30"}], "sat": [{"start": "10:00", "end": "22:00"}],
                 "sun": [{"start": "10:00", "end": "20:00"}]},
    "mornings": {day: [{"start": "06:30", "end": "11:30"}] for day in [*_WEEKDAYS, "sat"]},
}

# handle, name, tagline, location, timezone, tools, abilities, style, credits per minute,
# offered reading types, schedule, instant booking, online, rating, rating count, readings
READERS: list[dict[str, Any]] = [
    {"handle": "reader1", "name": "Luna Marquez", "tagline": "Tarot that tells it straight",
     "location": "Austin, TX", "timezone": "America/Chicago", "tools": ["tarot", "oracle-cards"],
     "abilities": ["clairvoyant", "empath"], "style": "straightforward", "rate": 3,
     "types": ["phone_call", "video_message", "live_video"], "schedule": "office", "instant": True,
     "online": True, "rating": 4.9, "ratings": 212, "readings": 640},
    {"handle": "reader2", "name": "Orion Blake", "tagline": "Your chart, your path",
     "location": "Brooklyn, NY", "timezone": "America/New_York", "tools": ["astrology", "numerology"],
     "abilities": ["channeling"], "style": "inspirational", "rate": 4,
     "types": ["phone_call", "live_video"], "schedule": "evenings", "instant": False,
     "online": False, "rating": 4.7, "ratings": 98, "readings": 251},
    {"handle": "reader3", "name": "Sage Whitfield", "tagline": "Gentle guidance from the other side",
     "location": "Portland, OR", "timezone": "America/Los_Angeles", "tools": ["no-tools"],
     "abilities": ["medium", "clairaudient", "clairsentient"], "style": "compassionate", "rate": 5,
     "types": ["phone_call", "video_message"], "schedule": "split", "instant": True,
     "online": True, "rating": 4.95, "ratings": 341, "readings": 1022},
    {"handle": "reader4", "name": "Freya Lindqvist", "tagline": "Runes carved in northern light",
     "location": "Edinburgh, UK", "timezone": "Europe/London", "tools": ["runes", "pendulum"],
     "abilities": ["scrying"], "style": "straightforward", "rate": 2,
     "types": ["video_message", "live_video"], "schedule": "mornings", "instant": False,
     "online": False, "rating": 4.4, "ratings": 37, "readings": 58},
    {"handle": "reader5", "name": "Mira Okafor", "tagline": "Dreams speak; I translate",
     "location": "Berlin, Germany", "timezone": "Europe/Berlin", "tools": ["crystal-energy"],
     "abilities": ["dream-analysis", "empath"], "style": "compassionate", "rate": 3,
     "types": ["phone_call", "video_message"], "schedule": "office", "instant": True,
     "online": True, "rating": 4.8, "ratings": 126, "readings": 310},
    {"handle": "reader6", "name": "Kenji Arakawa", "tagline": "Ancient hexagrams, modern questions",
     "location": "Kyoto, Japan", "timezone": "Asia/Tokyo", "tools": ["i-ching", "numerology", "astrology"],
     "abilities": ["clairvoyant"], "style": "inspirational", "rate": 4,
     "types": ["live_video", "video_message"], "schedule": "evenings", "instant": False,
     "online": False, "rating": 4.6, "ratings": 64, "readings": 143},
    {"handle": "reader7", "name": "Isla Moreau", "tagline": "Love, loss and what comes next",
     "location": "Melbourne, Australia", "timezone": "Australia/Melbourne", "tools": ["tarot", "crystal-energy"],
     "abilities": ["medium", "empath"], "style": "compassionate", "rate": 3,
     "types": ["phone_call", "live_video"], "schedule": "weekends", "instant": True,
     "online": False, "rating": 4.85, "ratings": 177, "readings": 402},
    {"handle": "reader8", "name": "Dante Rivera", "tagline": "No fluff, just the cards",
     "location": "Mexico City, Mexico", "timezone": "America/Mexico_City", "tools": ["tarot", "runes", "pendulum"],
     "abilities": ["clairaudient"], "style": "straightforward", "rate": 2,
     "types": ["phone_call", "video_message", "live_video"], "schedule": "split", "instant": True,
     "online": True, "rating": 4.2, "ratings": 45, "readings": 77},
    {"handle": "reader9", "name": "Anjali Mehta", "tagline": "Your numbers already know",
     "location": "Mumbai, India", "timezone": "Asia/Kolkata", "tools": ["numerology", "astrology"],
     "abilities": ["channeling", "clairsentient"], "style": "inspirational", "rate": 3,
     "types": ["video_message", "phone_call"], "schedule": "mornings", "instant": False,
     "online": False, "rating": 4.75, "ratings": 88, "readings": 205},
    {"handle": "reader10", "name": "Rowan Ashby", "tagline": "Seeing clearly through the water bowl",
     "location": "Dublin, Ireland", "timezone": "Europe/Dublin", "tools": ["oracle-cards"],
     "abilities": ["scrying", "clairvoyant", "dream-analysis"], "style": "compassionate", "rate": 4,
     "types": ["live_video"], "schedule": "evenings", "instant": True,
     "online": True, "rating": 4.55, "ratings": 52, "readings": 96},
    {"handle": "reader11", "name": "Tala Kahale", "tagline": "Island wisdom for restless hearts",
     "location": "Honolulu, HI", "timezone": "Pacific/Honolulu", "tools": ["crystal-energy", "pendulum"],
     "abilities": ["empath", "channeling"], "style": "inspirational", "rate": 2,
     "types": ["phone_call", "video_message"], "schedule": "office", "instant": False,
     "online": False, "rating": 3.9, "ratings": 14, "readings": 22},
    {"handle": "reader12", "name": "Elias Brandt", "tagline": "Past lives, present answers",
     "location": "Toronto, Canada", "timezone": "America/Toronto", "tools": ["no-tools"],
     "abilities": ["medium", "clairvoyant"], "style": "straightforward", "rate": 5,
     "types": ["phone_call", "live_video", "video_message"], "schedule": "weekends", "instant": True,
     "online": False, "rating": 4.65, "ratings": 71, "readings": 188},
]

APPLICANT: dict[str, Any] = {
    "handle": "applicant", "name": "Nova Castellanos", "tagline": "New voice, old soul",
    "location": "Seville, Spain", "timezone": "Europe/Madrid", "tools": ["tarot", "astrology"],
    "abilities": ["clairsentient"], "style": "compassionate", "rate": 2,
    "types": ["phone_call", "video_message"], "schedule": "split", "instant": False,
    "online": False, "rating": 0, "ratings": 0, "readings": 0,
}

_TYPE_NAMES = {"phone_call": "Phone reading", "video_message": "Recorded video reading",
               "live_video": "Live video reading"}
_TYPE_DURATIONS = {"phone_call": [15, 30, 60], "video_message": [10], "live_video": [30, 45]}
_TYPE_DESCRIPTIONS = {
    "phone_call": "A {minutes}-minute live call. Bring a question, or let the reading find one.",
    "video_message": "A {minutes}-minute recorded video answering your question, delivered within 48 hours.",
    "live_video": "A {minutes}-minute face-to-face session over video.",
}


def user_id(handle: str) -> str:
    return f"user_demo_{handle}"


def _multipliers() -> dict[int, float]:
    from chalicelib.services.catalog_defaults import TIME_SPANS

    return {minutes: float(multiplier) for minutes, multiplier in TIME_SPANS}


def reading_options(reader: dict[str, Any]) -> list[dict[str, Any]]:
    """Options priced from the reader's per-minute rate and the catalog's time-span multipliers."""
    multipliers = _multipliers()
    options = []
    for reading_type in reader["types"]:
        for minutes in _TYPE_DURATIONS[reading_type]:
            options.append({
                "id": f"opt_{reader['handle']}_{reading_type}_{minutes}",
                "type": reading_type,
                "name": f"{minutes}-minute {_TYPE_NAMES[reading_type].lower()}",
                "description": _TYPE_DESCRIPTIONS[reading_type].format(minutes=minutes),
                "duration": minutes,
                "price": max(1, round(reader["rate"] * minutes * multipliers.get(minutes, 1.0))),
                # One option of the most prolific readers is paused, so inactive options show up too.
                "isActive": not (reader["readings"] > 600 and reading_type == "video_message"),
            })
    return options


def _badges(reader: dict[str, Any]) -> list[str]:
    """Badge ids for the reader's first tool and ability, by the catalog's tier rules."""
    from chalicelib.services.catalog_defaults import BADGE_TIERS

    earned = []
    for attribute in [reader["tools"][0], reader["abilities"][0]]:
        tier_earned = None
        for tier, rules in BADGE_TIERS:
            if reader["readings"] >= rules["readingsCompleted"] and reader["rating"] >= rules.get("averageRating", 0):
                tier_earned = tier
        if tier_earned:
            earned.append(f"{attribute}-{tier_earned.lower()}")
    return earned


def _bio(reader: dict[str, Any]) -> str:
    return (f"{reader['name']} reads from {reader['location']}. {reader['tagline']}. "
            f"Works with {', '.join(reader['tools'])}; gifts: {', '.join(reader['abilities'])}; "
            f"a {reader['style']} reader.")


def validate_reader(reader: dict[str, Any]) -> None:
    """The product's limits: up to 3 tools, up to 3 abilities, exactly 1 style, catalog ids only."""
    from chalicelib.services.catalog_defaults import ATTRIBUTES, slug

    known = {kind: {slug(name) for name in names} for kind, names in ATTRIBUTES.items()}
    tools, abilities = reader["tools"], reader["abilities"]
    problems = [
        *(["1-3 tools from the catalog"] if not (1 <= len(tools) <= 3 and set(tools) <= known["tools"]) else []),
        *(["1-3 abilities from the catalog"]
          if not (1 <= len(abilities) <= 3 and set(abilities) <= known["abilities"]) else []),
        *(["one style from the catalog"] if reader["style"] not in known["styles"] else []),
        *(["'no-tools' alone"] if "no-tools" in tools and tools != ["no-tools"] else []),
    ]
    if problems:
        raise ValueError(f"demo reader {reader['handle']} needs {', '.join(problems)}")


def _create_missing(model_class: Any, items: list[Any], key: Callable[[Any], str]) -> int:
    """Write the items whose hash key is not in the table yet (one BatchGet, one
    BatchWrite); existing items are left exactly as they are. Returns how many were written."""
    existing = {key(item) for item in model_class.batch_get([key(i) for i in items], consistent_read=True)}
    missing = [item for item in items if key(item) not in existing]
    with model_class.batch_write() as batch:
        for item in missing:
            batch.save(item)
    return len(missing)


def _reader_profile(reader: dict[str, Any], index: int, now: Any, *, pending: bool) -> Any:
    from chalicelib.models.base import iso
    from chalicelib.models.readers import ReaderProfile

    validate_reader(reader)
    created = now - timedelta(days=3 if pending else 420 - 30 * index, hours=index)
    submitted = created + timedelta(hours=2)
    decided = None if pending else submitted + timedelta(days=2)
    return ReaderProfile(
        reader_id=user_id(reader["handle"]),
        status="pending" if pending else "approved",
        display_name=reader["name"],
        tagline=reader["tagline"],
        bio=_bio(reader),
        location=reader["location"],
        attributes={"tools": list(reader["tools"]), "abilities": list(reader["abilities"]),
                    "style": reader["style"]},
        reading_options=reading_options(reader),
        availability={"timezone": reader["timezone"], "instantBooking": reader["instant"],
                      "schedule": _SCHEDULES[reader["schedule"]]},
        is_online=reader["online"],
        online_flag="online" if reader["online"] else None,
        last_seen_at=iso(now if reader["online"] else now - timedelta(hours=5 + index)),
        rating_average=reader["rating"],
        rating_count=reader["ratings"],
        total_readings=reader["readings"],
        badges=[] if pending else _badges(reader),
        submitted_at=iso(submitted),
        decided_at=iso(decided) if decided else None,
        created_at=iso(created),
        updated_at=iso(decided or submitted),
        version=1,  # batch writes do not set it
    )


def demo_users() -> list[tuple[str, str, str]]:
    """(handle, display name, role) of every demo user; the applicant is still a client."""
    return [*STAFF_AND_CLIENTS, *((r["handle"], r["name"], "reader") for r in READERS),
            (APPLICANT["handle"], APPLICANT["name"], "client")]


def seed_demo(issuer: LocalIssuer, *, token_ttl_s: int = 7 * 24 * 3600) -> dict[str, dict[str, str]]:
    """Seed the catalog and the demo users; returns ``{handle: {userId, role, token}}``."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User
    from chalicelib.services import catalog, ledger
    from chalicelib.services.catalog_defaults import default_items

    catalog.upsert(default_items())
    now = utcnow()
    users = []
    for index, (handle, name, role) in enumerate(demo_users()):
        created = iso(now - timedelta(days=500 - index))
        users.append(User(user_id=user_id(handle), email=f"{handle}@{EMAIL_DOMAIN}", display_name=name, role=role,
                          status="active", created_at=created, updated_at=created,
                          # Demo clients have declared they are 18+, so they can book right away.
                          age_verified_at=created if role == "client" else None,
                          age_verification_method="self_declared" if role == "client" else None))
    profiles = [_reader_profile(reader, index, now, pending=False) for index, reader in enumerate(READERS)]
    profiles.append(_reader_profile(APPLICANT, len(READERS), now, pending=True))
    _create_missing(User, users, lambda u: u.user_id)
    _create_missing(ReaderProfile, profiles, lambda p: p.reader_id)
    for handle, _name, _role in demo_users():
        if handle.startswith("client"):
            ledger.grant(user_id(handle), DEMO_CREDITS, source="promotion", entry_id=f"demo-credits:{user_id(handle)}",
                         memo="Welcome credits (demo)")
            ledger.grant(user_id(handle), DEMO_READING_CREDITS, source="promotion",
                         entry_id=f"demo-reading-credits:{user_id(handle)}", memo="Credits for the demo readings")
    seed_readings(now)
    return {handle: {"userId": user_id(handle), "role": role,
                     "token": issuer.token(user_id(handle), ttl_s=token_ttl_s, email=f"{handle}@{EMAIL_DOMAIN}",
                                           name=name)}
            for handle, name, role in demo_users()}


# (key, client, reader, type, story): a reading in every state between the demo users.
DEMO_READINGS: list[tuple[str, str, str, str, str]] = [
    ("requested", "client1", "reader5", "video_message", "requested"),
    ("accepted", "client2", "reader5", "video_message", "accepted"),
    ("in-progress", "client1", "reader1", "phone_call", "in_progress"),
    ("declined", "client3", "reader5", "phone_call", "declined"),
    ("cancelled", "client2", "reader1", "live_video", "cancelled"),
    ("expired", "client3", "reader3", "phone_call", "expired"),
    ("completed-1", "client1", "reader3", "phone_call", "completed:5"),
    ("completed-2", "client2", "reader1", "phone_call", "completed:4"),
    ("disputed", "client3", "reader1", "phone_call", "disputed"),
    ("refunded", "client2", "reader5", "phone_call", "refunded"),
]
_QUESTIONS = {
    "video_message": "What should I focus on this winter?",
    "phone_call": "Is this new job offer the right move for me?",
    "live_video": "Will my sister and I reconcile?",
}


def seed_readings(now: Any) -> int:
    """Drive the real services (ledger included) through each story; a reading already
    seeded (same idempotency key) is left as it is. Returns how many were created."""
    from chalicelib.models.users import User
    from chalicelib.services import readings

    created_count = 0
    for index, (key, client, reader, reading_type, story) in enumerate(DEMO_READINGS):
        client_id, reader_id = user_id(client), user_id(reader)
        spec = next(r for r in READERS if r["handle"] == reader)
        option = next(o for o in reading_options(spec) if o["type"] == reading_type and o["isActive"])
        started = now - timedelta(hours=2 * (len(DEMO_READINGS) - index))
        topic = "general-reading" if index % 3 == 0 else "career-work"
        reading, created = readings.request(
            User.get(client_id), reader_id=reader_id, option_type=reading_type, option_id=option["id"],
            duration=option["duration"], scheduled_at=None, topic_id=topic, question=_QUESTIONS[reading_type],
            idempotency_key=f"demo-{key}", now=started)
        if not created:
            continue
        created_count += 1
        rid = reading.reading_id
        at = started + timedelta(minutes=3)
        if story == "declined":
            readings.decline(rid, reader_id, "reader", reason="I am fully booked today, sorry.", now=at)
        elif story == "cancelled":
            readings.cancel(rid, client_id, "client", reason="Something came up.", now=at)
        elif story == "expired":
            readings.expire(rid, now=started + timedelta(minutes=15))
        elif story != "requested":
            readings.accept(rid, reader_id, "reader", now=at)
            if story == "accepted":
                continue
            readings.start(rid, reader_id, "reader", now=at + timedelta(minutes=2))
            if story == "in_progress":
                continue
            readings.complete(rid, reader_id, "reader", now=at + timedelta(minutes=2 + int(option["duration"])))
            done = at + timedelta(minutes=3 + int(option["duration"]))
            if story.startswith("completed:"):
                readings.review(rid, client_id, "client", rating=int(story.split(":")[1]),
                                comment="Clear, kind and spot on." if story.endswith("5") else "Helpful reading.",
                                now=done)
            elif story in ("disputed", "refunded"):
                readings.open_dispute(rid, client_id, "client", reason="The call dropped after five minutes.",
                                      now=done)
                if story == "refunded":
                    readings.resolve_dispute(rid, user_id("admin"), outcome="full_refund", amount=None,
                                             note="Connection failed on the reader's side.", now=done)
    return created_count
