"""The demo clients' statuses and the readings demo readers suggested for them.

Three demo clients have two active statuses each, one per category they worry about, posted
over the last day or so; demo readers whose specialties match answered most of them (the
newest has no answer yet). Everything goes through the services as the routes call them
(the bodies validated by the routes' own schemas): ``statuses.create`` (category, active
limit, moderation hook) and ``statuses.suggest`` (the reader's options, a catalog time span,
a price at or below the listed one, a proposed time inside the reader's availability).
Nothing is accepted: client1 (the README's demo client: 18+ declared, 120 credits free)
can afford every suggestion on their statuses and accept it as it is (a recorded video, a
proposed time, an online reader's call), except Orion's call: he is offline, so that one
needs a ``scheduledAt`` inside his evenings (409 reader_offline without one).

Idempotent: a status the client already posted (same content) is not posted again, and a
reader who already suggested on a status does not suggest again, so a second run writes
nothing (one Query per demo client).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tools.seed import READERS, reading_options, user_id

# key, client, category, mood, content, posted (hours ago), suggestions. A suggestion:
# reader, type, duration, minutes after the post, title, description, message, and
# optionally "discount" (credits below the listed price) and "scheduled" (a proposed start:
# the reader's next such local weekday and time, at least two days ahead).
DEMO_STATUSES: list[dict[str, Any]] = [
    {"key": "clara-love", "client": "client1", "category": "love", "mood": "hopeful", "hours_ago": 26,
     "content": "Six months after my breakup I finally feel ready to date again, but some days I still catch "
                "myself waiting for his message. Is someone new on the horizon for me, or do I need to let go "
                "of him first?",
     "suggestions": [
         {"reader": "reader1", "type": "phone_call", "duration": 30, "after_minutes": 40,
          "title": "Letting go and moving forward: a Celtic Cross",
          "description": "A ten-card Celtic Cross on what still ties you to him, what you are ready to "
                         "release, and the energy of the next person walking toward you.",
          "message": "Hi Clara, the fact that you are asking this tells me you have already done a lot of "
                     "healing. Let's see what the cards say about the space you are making for someone new."},
         {"reader": "reader7", "type": "live_video", "duration": 30, "after_minutes": 150, "discount": 10,
          "scheduled": ("sat", "10:30"),
          "title": "Closing one chapter, opening the next",
          "description": "Face to face over video: the lessons of the last relationship, the timing of new "
                         "love, and a crystal layout to help you release what you no longer need.",
          "message": "This crossroads is exactly what I love to read for, so I have taken a little off my "
                     "usual price. Saturday morning my time works well for me; if it does not suit you, "
                     "pick another time when you accept."},
         {"reader": "reader5", "type": "video_message", "duration": 10, "after_minutes": 420,
          "title": "Is your heart ready? A recorded reading",
          "description": "A ten-minute video I record just for you within 48 hours: an empathic read of "
                         "where your heart stands today, and one gentle step for the weeks ahead.",
          "message": "No need to be online at the same time as me: watch it whenever you feel ready."},
     ]},
    {"key": "marcus-grandmother", "client": "client2", "category": "spiritual", "mood": "wistful",
     "hours_ago": 20,
     "content": "My grandmother passed away last spring, and for weeks now I keep dreaming of her kitchen: "
                "the same scene every time, the radio on, bread in the oven. Is she trying to tell me "
                "something, or is this just grief?",
     "suggestions": [
         {"reader": "reader3", "type": "phone_call", "duration": 30, "after_minutes": 25,
          "title": "Connecting with your grandmother",
          "description": "A mediumship call: I open the space for her to come through, share everything I "
                         "receive, and leave time for your own questions to her.",
          "message": "Marcus, dreams that repeat this clearly are often a loved one's way of saying hello. "
                     "I would be honoured to help you listen."},
         {"reader": "reader5", "type": "phone_call", "duration": 15, "after_minutes": 70,
          "title": "Dream interpretation: her kitchen",
          "description": "We go through the dream symbol by symbol (the radio, the bread, the warmth) and "
                         "what your grandmother and your own heart may be telling you.",
          "message": "Kitchens in dreams speak of nourishment and home. I would love to unpack this one "
                     "with you."},
         {"reader": "reader4", "type": "video_message", "duration": 10, "after_minutes": 300,
          "title": "A rune casting for a message from your ancestors",
          "description": "I cast the runes for your grandmother's message and record a ten-minute video "
                         "reading of what they show, delivered within 48 hours.",
          "message": "The runes have a long memory for family and for those who came before us."},
     ]},
    {"key": "priya-offers", "client": "client3", "category": "career", "mood": "anxious", "hours_ago": 9,
     "content": "I have two job offers: one in Toronto with a big salary jump, one here in Chicago close to my "
                "family. I have to answer by Friday and I change my mind every hour. Which one will I be glad "
                "I chose?",
     "suggestions": [
         {"reader": "reader6", "type": "live_video", "duration": 30, "after_minutes": 35,
          "title": "I Ching decision reading: two roads",
          "description": "We cast a hexagram for each offer and read them side by side: the opportunity, "
                         "the hidden cost, and how each path unfolds over the next two years.",
          "message": "The I Ching is at its best with a clear either-or question like yours. Happy to go "
                     "deep on this before your Friday deadline."},
         {"reader": "reader9", "type": "phone_call", "duration": 15, "after_minutes": 95, "discount": 5,
          "title": "The numbers behind your two offers",
          "description": "Your personal year number, the numbers of each city and start date, and what they "
                         "say about timing, money and family.",
          "message": "Personal year numbers often speak clearly about moves like this one. I have taken a "
                     "little off the price, since the deadline is close and you have enough on your mind."},
         {"reader": "reader8", "type": "phone_call", "duration": 15, "after_minutes": 180,
          "title": "A straight answer: Toronto or Chicago",
          "description": "One card for each offer and one for what you truly want. Fifteen minutes, no "
                         "fluff, and a clear answer you can act on.",
          "message": "You do not need another list of pros and cons; you need clarity. Let's get you some."},
     ]},
    {"key": "clara-bakery", "client": "client1", "category": "career", "mood": "restless", "hours_ago": 5,
     "content": "I have been offered a team lead role at work, but part of me wants to quit and finally open "
                "the bakery I have dreamed about for years. Which path will I look back on without regret?",
     "suggestions": [
         {"reader": "reader2", "type": "phone_call", "duration": 30, "after_minutes": 50,
          "title": "Your birth chart at a career crossroads",
          "description": "Your natal chart and this year's transits: where Saturn asks for responsibility, "
                         "where Jupiter opens doors, and which months favour a leap.",
          "message": "Clara, send me your birth date, time and place after you accept, and I will have your "
                     "chart ready before we talk."},
     ]},
    {"key": "priya-moving-in", "client": "client3", "category": "love", "mood": "conflicted", "hours_ago": 2,
     "content": "My partner wants us to move in together this summer. I love him, but something in me keeps "
                "hesitating. Is it just fear, or is my intuition telling me to wait?",
     "suggestions": [
         {"reader": "reader10", "type": "live_video", "duration": 30, "after_minutes": 45,
          "title": "Fear or intuition? An oracle reading",
          "description": "A live session with the oracle deck to tell the voice of old fears from your "
                         "intuition, and to see how the move could feel a year from now.",
          "message": "That hesitation deserves to be heard without judgement. Let's look at it together."},
     ]},
    {"key": "marcus-pause", "client": "client2", "category": "general", "mood": "stuck", "hours_ago": 0.4,
     "content": "Everything feels on pause lately: work, friendships, even the hobbies I used to love. I would "
                "like some perspective on what this season of my life is asking of me.",
     "suggestions": []},  # just posted: no reader has answered yet
]

_WEEKDAY_INDEX = {day: index for index, day in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])}


def _reader(handle: str) -> dict[str, Any]:
    return next(reader for reader in READERS if reader["handle"] == handle)


def _option(reader: dict[str, Any], reading_type: str, duration: int) -> dict[str, Any]:
    return next(o for o in reading_options(reader)
                if o["type"] == reading_type and o["duration"] == duration and o["isActive"])


def listed_price(option: dict[str, Any], duration: int) -> int:
    """The reader's listed price for ``option`` at ``duration`` (the quote's own formula with
    the default catalog's time span; ``statuses.suggest`` checks the offer against its quote)."""
    from chalicelib.services import pricing
    from chalicelib.services.catalog_defaults import TIME_SPANS

    return pricing.price(option, duration, dict(TIME_SPANS)[duration]).total


def proposed_start(reader: dict[str, Any], weekday: str, clock: str, after: datetime) -> datetime:
    """The reader's next ``weekday`` at ``clock`` (their local time), at least two days after
    ``after``, in UTC (inside their weekly schedule, or ``statuses.suggest`` refuses it)."""
    zone = ZoneInfo(reader["timezone"])
    local = (after + timedelta(days=2)).astimezone(zone)
    hour, minute = (int(part) for part in clock.split(":"))
    day = local.date() + timedelta(days=(_WEEKDAY_INDEX[weekday] - local.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def seed_statuses(now: datetime) -> int:
    """Post the demo statuses and their suggestions (what is missing of them); returns how
    many suggestions were made."""
    from chalicelib.models.statuses import Status
    from chalicelib.models.users import User
    from chalicelib.schemas.statuses import StatusIn, SuggestionIn
    from chalicelib.services import statuses

    posted: dict[str, dict[str, Status]] = {}
    clients: dict[str, User] = {}
    made = 0
    for spec in DEMO_STATUSES:
        client_id = user_id(spec["client"])
        if client_id not in posted:
            posted[client_id] = {s.content: s for s in Status.by_client.query(client_id)}
        at = now - timedelta(hours=spec["hours_ago"])
        status = posted[client_id].get(spec["content"])
        if status is None:
            body = StatusIn.model_validate({"content": spec["content"], "mood": spec["mood"],
                                            "category": spec["category"]})
            if client_id not in clients:
                clients[client_id] = User.get(client_id)
            status = statuses.create(clients[client_id], content=body.content, mood=body.mood,
                                     category=body.category, now=at)
        if not status.is_active:
            continue
        for offer in spec["suggestions"]:
            reader = _reader(offer["reader"])
            reader_id = user_id(reader["handle"])
            if reader_id in (status.suggester_ids or set()):
                continue
            option = _option(reader, offer["type"], offer["duration"])
            start = None
            if "scheduled" in offer:
                weekday, clock = offer["scheduled"]
                start = proposed_start(reader, weekday, clock, after=now)
            price = listed_price(option, offer["duration"]) - int(offer["discount"]) if "discount" in offer else None
            offered = SuggestionIn.model_validate({
                "title": offer["title"], "description": offer["description"], "suggestedType": offer["type"],
                "optionId": option["id"], "estimatedDuration": offer["duration"], "suggestedPrice": price,
                "message": offer["message"], "scheduledAt": start.isoformat() if start else None})
            suggested_at = min(at + timedelta(minutes=offer["after_minutes"]), now - timedelta(minutes=1))
            status, _ = statuses.suggest(
                reader_id, status.status_id, title=offered.title, description=offered.description,
                suggested_type=offered.suggested_type, option_id=offered.option_id,
                duration=offered.estimated_duration, suggested_price=offered.suggested_price,
                message=offered.message, scheduled_at=offered.scheduled_at,
                now=suggested_at)
            made += 1
    return made
