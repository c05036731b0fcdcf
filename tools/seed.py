"""Demo data for the local stage: the catalog, an admin, clients, readers, an application,
credits, readings in every state, and clients' statuses with suggested readings
(tools/seed_statuses.py).

Everything is written through the services, as the product would write it: users are
provisioned on first sight, verify their age and accept the terms and privacy policy the demo
admin published (tools/seed_legal.py); readers apply (draft, submit) and the
demo admin approves them; online readers go online; the clients' credits are promotions
granted through the ledger; readings are requested, accepted, delivered, reviewed and
disputed by their parties. So the demo holds only shapes the services produce (a reader's
rating is the average of the reviews the demo readings left), the books sum to zero from
the first request, and ``make ledger-check`` passes on a fresh stack.

``seed_demo(issuer)`` is idempotent (deterministic ids, idempotent services: a second run
writes nothing) and returns ``{handle: {"userId", "role", "token"}}`` for every demo user,
the same map ``make run`` writes to ``.local/dev-tokens.json``.

Import this module only after the environment is configured (tools.local_env.configure,
or the test conftest): chalicelib reads its settings at import, so it is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from tools.local_issuer import LocalIssuer
from tools.seed_images import seed_pictures
from tools.seed_legal import accept_legal_documents, seed_legal_documents

DEMO_CREDITS = 120
DEMO_BIRTH_DATE = date(1990, 4, 12)  # the demo users declare they are 18+
EMAIL_DOMAIN = "demo.auralumic.example"

# handle, display name, role
STAFF_AND_CLIENTS: list[tuple[str, str, str]] = [
    ("admin", "Avery Admin", "admin"),
    ("client1", "Clara Nguyen", "client"),
    ("client2", "Marcus Bell", "client"),
    ("client3", "Priya Raman", "client"),
]

# The readers' working weeks (IANA timezone of the reader; times are local to it).
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
SCHEDULES: dict[str, dict[str, list[dict[str, str]]]] = {
    "office": {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS},
    "evenings": {**{day: [{"start": "18:00", "end": "23:00"}] for day in WEEKDAYS},
                 "sat": [{"start": "14:00", "end": "22:00"}]},
    "split": {**{day: [{"start": "08:00", "end": "12:00"}, {"start": "16:00", "end": "20:00"}]
                 for day in ["mon", "wed", "fri"]},
              "sun": [{"start": "10:00", "end": "16:00"}]},
    "weekends": {"fri": [{"start": "17:00", "end": "23:30"}], "sat": [{"start": "10:00", "end": "22:00"}],
                 "sun": [{"start": "10:00", "end": "20:00"}]},
    "mornings": {day: [{"start": "06:30", "end": "11:30"}] for day in [*WEEKDAYS, "sat"]},
}

# handle, name, tagline, location, timezone, tools, abilities, style, credits per minute,
# offered reading types, schedule, instant booking, online, reading types paused. Ratings come
# from the demo readings' reviews; nothing else about a reader's history is invented.
READERS: list[dict[str, Any]] = [
    {"handle": "reader1", "name": "Luna Marquez", "tagline": "Tarot that tells it straight",
     "location": "Austin, TX", "timezone": "America/Chicago", "tools": ["tarot", "oracle-cards"],
     "abilities": ["clairvoyant", "empath"], "style": "straightforward", "rate": 3,
     "types": ["phone_call", "video_message", "live_video"], "schedule": "office", "instant": True,
     "online": True, "paused": ["video_message"]},
    {"handle": "reader2", "name": "Orion Blake", "tagline": "Your chart, your path",
     "location": "Brooklyn, NY", "timezone": "America/New_York", "tools": ["astrology", "numerology"],
     "abilities": ["channeling"], "style": "inspirational", "rate": 4,
     "types": ["phone_call", "live_video"], "schedule": "evenings", "instant": False,
     "online": False},
    {"handle": "reader3", "name": "Sage Whitfield", "tagline": "Gentle guidance from the other side",
     "location": "Portland, OR", "timezone": "America/Los_Angeles", "tools": ["no-tools"],
     "abilities": ["medium", "clairaudient", "clairsentient"], "style": "compassionate", "rate": 5,
     "types": ["phone_call", "video_message"], "schedule": "split", "instant": True,
     "online": True, "paused": ["video_message"]},
    {"handle": "reader4", "name": "Freya Lindqvist", "tagline": "Runes carved in northern light",
     "location": "Edinburgh, UK", "timezone": "Europe/London", "tools": ["runes", "pendulum"],
     "abilities": ["scrying"], "style": "straightforward", "rate": 2,
     "types": ["video_message", "live_video"], "schedule": "mornings", "instant": False,
     "online": False},
    {"handle": "reader5", "name": "Mira Okafor", "tagline": "Dreams speak; I translate",
     "location": "Berlin, Germany", "timezone": "Europe/Berlin", "tools": ["crystal-energy"],
     "abilities": ["dream-analysis", "empath"], "style": "compassionate", "rate": 3,
     "types": ["phone_call", "video_message"], "schedule": "office", "instant": True,
     "online": True},
    {"handle": "reader6", "name": "Kenji Arakawa", "tagline": "Ancient hexagrams, modern questions",
     "location": "Kyoto, Japan", "timezone": "Asia/Tokyo", "tools": ["i-ching", "numerology", "astrology"],
     "abilities": ["clairvoyant"], "style": "inspirational", "rate": 4,
     "types": ["live_video", "video_message"], "schedule": "evenings", "instant": False,
     "online": False},
    {"handle": "reader7", "name": "Isla Moreau", "tagline": "Love, loss and what comes next",
     "location": "Melbourne, Australia", "timezone": "Australia/Melbourne", "tools": ["tarot", "crystal-energy"],
     "abilities": ["medium", "empath"], "style": "compassionate", "rate": 3,
     "types": ["phone_call", "live_video"], "schedule": "weekends", "instant": True,
     "online": False},
    {"handle": "reader8", "name": "Dante Rivera", "tagline": "No fluff, just the cards",
     "location": "Mexico City, Mexico", "timezone": "America/Mexico_City", "tools": ["tarot", "runes", "pendulum"],
     "abilities": ["clairaudient"], "style": "straightforward", "rate": 2,
     "types": ["phone_call", "video_message", "live_video"], "schedule": "split", "instant": True,
     "online": True},
    {"handle": "reader9", "name": "Anjali Mehta", "tagline": "Your numbers already know",
     "location": "Mumbai, India", "timezone": "Asia/Kolkata", "tools": ["numerology", "astrology"],
     "abilities": ["channeling", "clairsentient"], "style": "inspirational", "rate": 3,
     "types": ["video_message", "phone_call"], "schedule": "mornings", "instant": False,
     "online": False},
    {"handle": "reader10", "name": "Rowan Ashby", "tagline": "Seeing clearly through the water bowl",
     "location": "Dublin, Ireland", "timezone": "Europe/Dublin", "tools": ["oracle-cards"],
     "abilities": ["scrying", "clairvoyant", "dream-analysis"], "style": "compassionate", "rate": 4,
     "types": ["live_video"], "schedule": "evenings", "instant": True,
     "online": True},
    {"handle": "reader11", "name": "Tala Kahale", "tagline": "Island wisdom for restless hearts",
     "location": "Honolulu, HI", "timezone": "Pacific/Honolulu", "tools": ["crystal-energy", "pendulum"],
     "abilities": ["empath", "channeling"], "style": "inspirational", "rate": 2,
     "types": ["phone_call", "video_message"], "schedule": "office", "instant": False,
     "online": False},
    {"handle": "reader12", "name": "Elias Brandt", "tagline": "Past lives, present answers",
     "location": "Toronto, Canada", "timezone": "America/Toronto", "tools": ["no-tools"],
     "abilities": ["medium", "clairvoyant"], "style": "straightforward", "rate": 5,
     "types": ["phone_call", "live_video", "video_message"], "schedule": "weekends", "instant": True,
     "online": False},
]

APPLICANT: dict[str, Any] = {
    "handle": "applicant", "name": "Nova Castellanos", "tagline": "New voice, old soul",
    "location": "Seville, Spain", "timezone": "Europe/Madrid", "tools": ["tarot", "astrology"],
    "abilities": ["clairsentient"], "style": "compassionate", "rate": 2,
    "types": ["phone_call", "video_message"], "schedule": "split", "instant": False,
    "online": False,
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


def online_reader_ids() -> list[str]:
    """The demo readers the seed puts online (the local heartbeat keeps them there)."""
    return [user_id(reader["handle"]) for reader in READERS if reader["online"]]


def reading_options(reader: dict[str, Any]) -> list[dict[str, Any]]:
    """Options priced at the reader's per-minute rate: ``price`` is what the reader sets for
    ``duration`` minutes (the listed basePrice); the quote applies the time span's multiplier
    once, on top of it."""
    options = []
    for reading_type in reader["types"]:
        for minutes in _TYPE_DURATIONS[reading_type]:
            options.append({
                "id": f"opt_{reader['handle']}_{reading_type}_{minutes}",
                "type": reading_type,
                "name": f"{minutes}-minute {_TYPE_NAMES[reading_type].lower()}",
                "description": _TYPE_DESCRIPTIONS[reading_type].format(minutes=minutes),
                "duration": minutes,
                "price": reader["rate"] * minutes,
                # Some readers have paused a kind of reading, so inactive options show up too.
                "isActive": reading_type not in reader.get("paused", []),
            })
    return options


def _bio(reader: dict[str, Any]) -> str:
    return (f"{reader['name']} reads from {reader['location']}. {reader['tagline']}. "
            f"Works with {', '.join(reader['tools'])}; gifts: {', '.join(reader['abilities'])}; "
            f"a {reader['style']} reader.")


def application(reader: dict[str, Any]) -> Any:
    """The reader's application as the form sends it (``PUT /reader-application``), read as
    that route reads it (``.changes()`` are what the service takes); the service checks it
    against the catalog."""
    from chalicelib.schemas.readers import ApplicationDraft

    return ApplicationDraft.model_validate({
        "displayName": reader["name"], "tagline": reader["tagline"], "bio": _bio(reader),
        "location": reader["location"], "experience": "expert", "step": 4,
        "attributes": {"tools": reader["tools"], "abilities": reader["abilities"], "style": reader["style"]},
        "readingOptions": reading_options(reader),
        "availability": {"timezone": reader["timezone"], "instantBooking": reader["instant"],
                         "schedule": SCHEDULES[reader["schedule"]]},
    })


def demo_users() -> list[tuple[str, str, str]]:
    """(handle, display name, role) of every demo user; the applicant is still a client."""
    return [*STAFF_AND_CLIENTS, *((r["handle"], r["name"], "reader") for r in READERS),
            (APPLICANT["handle"], APPLICANT["name"], "client")]


def provision(handle: str, name: str, role: str, now: datetime) -> None:
    """The user as first sight provisions it (a client who declared 18+); the admin is then
    given its role, as an operator would."""
    from chalicelib.models.base import iso
    from chalicelib.models.users import User
    from chalicelib.services import onboarding, users

    user = users.get_or_provision(user_id(handle), email=f"{handle}@{EMAIL_DOMAIN}", name=name)
    if role == "admin":
        if user.role != "admin":
            users.update_fields(user.user_id, [User.role.set("admin"), User.updated_at.set(iso(now))])
        return
    onboarding.verify_age(user, method="self_declared", date_of_birth=DEMO_BIRTH_DATE, now=now)
    accept_legal_documents(user.user_id, now)  # the terms and privacy policy in force, so the demo books


SECOND_LANGUAGES: list[list[str]] = [[], ["es"], [], ["fr"], ["pt"], []]


def _become_reader(reader: dict[str, Any], index: int, now: datetime, *, approve: bool) -> None:
    """Apply, submit and (``approve``) be approved by the demo admin, at times spread over
    the past year; an approved reader who is online goes online. Steps already taken are
    skipped."""
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services import presence, reader_applications, readers

    reader_id = user_id(reader["handle"])
    applied = now - timedelta(days=3 if not approve else 420 - 30 * index, hours=index)
    try:
        status = ReaderProfile.get(reader_id, consistent_read=True).status
    except ReaderProfile.DoesNotExist:
        status = None
    if status in (None, "draft"):
        reader_applications.save_draft(reader_id, "client", application(reader).changes(), now=applied)
        reader_applications.submit(reader_id, "client", now=applied + timedelta(hours=2))
        status = "pending"
    if approve and status == "pending":
        reader_applications.approve(reader_id, admin_id=user_id("admin"), now=applied + timedelta(days=2))
        # Every demo reader reads in English; some in a second language (the explore filter's values).
        readers.update_profile(reader_id, {"languages": ["en", *SECOND_LANGUAGES[index % len(SECOND_LANGUAGES)]]},
                               now=applied + timedelta(days=2))
        if reader["online"]:
            presence.set_online(reader_id, True, now=now)


def promotion(client_id: str, credits: int, *, entry_id: str, memo: str, moment: datetime | None = None) -> None:
    """Credits granted through the ledger, once per entry id however often the seed runs;
    dated at ``moment`` (before the backdated readings they pay for), default now."""
    from chalicelib.models.base import iso
    from chalicelib.services import ledger

    dated = iso(moment) if moment is not None else None
    ledger.apply(lambda tx: ledger.grant(tx, ledger.read_user(client_id), credits, source="promotion",
                                         entry_id=entry_id, memo=memo, now=dated),
                 retry_on=ledger.balance_moved(client_id))


def seed_demo(issuer: LocalIssuer, *, token_ttl_s: int = 7 * 24 * 3600) -> dict[str, dict[str, str]]:
    """Seed the catalog and the demo users; returns ``{handle: {userId, role, token}}``."""
    from chalicelib.models.base import utcnow
    from chalicelib.services import catalog
    from chalicelib.services.catalog_defaults import default_items

    catalog.upsert(default_items())
    now = utcnow()
    seed_legal_documents(user_id("admin"), now)
    for handle, name, role in demo_users():
        provision(handle, name, role, now)
    for index, reader in enumerate(READERS):
        _become_reader(reader, index, now, approve=True)
    _become_reader(APPLICANT, len(READERS), now, approve=False)
    seed_pictures(READERS, user_id)  # through the real upload pipeline (tools/seed_images.py)
    granted = now - timedelta(hours=2 * (len(DEMO_READINGS) + 1))  # before the first demo reading
    for handle, _name, role in STAFF_AND_CLIENTS:
        if role == "client":
            client_id = user_id(handle)
            promotion(client_id, DEMO_CREDITS, entry_id=f"demo-credits:{client_id}", memo="Welcome credits (demo)",
                      moment=granted)
            promotion(client_id, reading_credits(client_id), entry_id=f"demo-reading-credits:{client_id}",
                      memo="Credits for the demo readings", moment=granted)
    seed_readings(now)
    from tools.seed_statuses import seed_statuses  # it reads this module's demo readers

    seed_statuses(now)
    return {handle: {"userId": user_id(handle), "role": role,
                     "token": issuer.token(user_id(handle), ttl_s=token_ttl_s, email=f"{handle}@{EMAIL_DOMAIN}",
                                           name=name)}
            for handle, name, role in demo_users()}


# (key, client, reader, type, story): a reading in every state between the demo users. The
# reviews of the completed ones are the only ratings: the other readers have none yet.
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
_COMMENTS = {5: "Clear, kind and spot on.", 4: "Helpful reading."}


def _option(reader: str, reading_type: str) -> dict[str, Any]:
    spec = next(r for r in READERS if r["handle"] == reader)
    return next(o for o in reading_options(spec) if o["type"] == reading_type and o["isActive"])


def reading_credits(client_id: str) -> int:
    """What the client's demo readings cost (the booking service's quote), so each demo
    client keeps DEMO_CREDITS to try the product with."""
    from chalicelib.services import readings

    return sum(readings.prepare(user_id(reader), reading_type, _option(reader, reading_type)["id"],
                                int(_option(reader, reading_type)["duration"]), None).price.total
               for _key, client, reader, reading_type, _story in DEMO_READINGS if user_id(client) == client_id)


def at(moment: datetime, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``action`` (a service call) as of ``moment``: it gets it as ``now`` (its state change
    and its ledger movement are dated at it), and the event it emits is dated at it
    (``outbox.dated``), so the consumers count it on its own day, a response time is the
    minutes the story says, not the time the seed took to get there, and the reader's
    earnings periods (ledger lines) agree with the reader metrics (events)."""
    from chalicelib.services import outbox

    with outbox.dated(moment):
        return action(*args, now=moment, **kwargs)


def seed_readings(now: datetime) -> int:
    """Drive the real services (ledger included) through each story; a reading already
    seeded (same idempotency key) is left as it is. Returns how many were created."""
    from chalicelib.models.users import User
    from chalicelib.services import readings

    created_count = 0
    for index, (key, client, reader, reading_type, story) in enumerate(DEMO_READINGS):
        client_id, reader_id = user_id(client), user_id(reader)
        option = _option(reader, reading_type)
        booked = now - timedelta(hours=2 * (len(DEMO_READINGS) - index))
        topic = "general-reading" if index % 3 == 0 else "career-work"
        # Immediate readings with online readers: the same request however often the seed runs.
        reading, created = at(booked, readings.request, User.get(client_id), reader_id=reader_id,
                              option_type=reading_type, option_id=option["id"], duration=option["duration"],
                              scheduled_at=None, topic_id=topic, question=_QUESTIONS[reading_type],
                              idempotency_key=f"demo-{key}")
        if not created:
            continue
        created_count += 1
        rid = reading.reading_id
        answered = booked + timedelta(minutes=3)
        begins = answered + timedelta(minutes=2)
        if story == "declined":
            at(answered, readings.decline, rid, reader_id, "reader", reason="I am fully booked today, sorry.")
        elif story == "cancelled":
            at(answered, readings.cancel, rid, client_id, "client", reason="Something came up.")
        elif story == "expired":
            at(booked + timedelta(minutes=15), readings.expire, rid)
        elif story != "requested":
            at(answered, readings.accept, rid, reader_id, "reader")
            if story == "accepted":
                continue
            at(begins, readings.start, rid, reader_id, "reader")
            if story == "in_progress":
                continue
            ended = begins + timedelta(minutes=int(option["duration"]))
            at(ended, readings.complete, rid, reader_id, "reader")
            done = ended + timedelta(minutes=1)
            if story.startswith("completed:"):
                rating = int(story.split(":")[1])
                at(done, readings.review, rid, client_id, "client", rating=rating, comment=_COMMENTS[rating])
            elif story in ("disputed", "refunded"):
                at(done, readings.open_dispute, rid, client_id, "client", reason="The call dropped after five minutes.")
                if story == "refunded":
                    at(done, readings.resolve_dispute, rid, user_id("admin"), outcome="full_refund", amount=None,
                       note="Connection failed on the reader's side.")
    return created_count
