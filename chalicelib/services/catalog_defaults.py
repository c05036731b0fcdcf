"""The catalog the product requirements define, as seed data.

``make run`` seeds it into the local tables; a new cloud stage gets it with
``make seed-catalog STAGE=dev``. Admins curate it afterwards (catalog administration).
"""

from __future__ import annotations

from typing import Any


def slug(name: str) -> str:
    """"Love & Relationships" -> "love-relationships" (runs of other characters -> one dash)."""
    return "-".join(part for part in "".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


TOPICS = ["Career & Work", "Lost & Seeking", "Love & Relationships", "Past Life", "Life Path", "Future Life"]
GENERAL_TOPIC = "General Reading"  # the one topic where a question is optional

ATTRIBUTES = {
    "abilities": ["Dream Analysis", "Channeling", "Empath", "Clairaudient", "Clairvoyant", "Scrying", "Medium",
                  "Clairsentient"],
    "tools": ["Runes", "Crystal Energy", "Astrology", "No Tools", "Pendulum", "Oracle Cards", "I-Ching", "Numerology",
              "Tarot"],
    "styles": ["Compassionate", "Inspirational", "Straightforward"],
}

READING_TYPES = [
    ("phone_call", "Phone call", "A live voice call with your reader.", True),
    ("video_message", "Video message", "A pre-recorded video answering your question.", False),
    ("live_video", "Live video", "A live video session with your reader.", True),
]

# duration (minutes), multiplier: longer readings cost a little less per minute.
TIME_SPANS = [(10, "1.0"), (15, "1.0"), (30, "0.95"), (45, "0.92"), (60, "0.9")]

CREDIT_PACKAGES = [
    ("starter", "Starter", 30, 999, 0, False),
    ("seeker", "Seeker", 60, 1799, 10, True),
    ("mystic", "Mystic", 120, 3299, 15, False),
    ("oracle", "Oracle", 300, 7499, 25, False),
]

PLANS = [
    ("monthly-60", "Monthly Seeker", "60 credits every month; unused credits roll over up to 60.", 1599, 60, 60,
     ["60 credits a month", "Roll over up to 60 credits"], 0),
    ("monthly-150", "Monthly Mystic", "150 credits every month; unused credits roll over up to 150.", 3499, 150,
     150, ["150 credits a month", "Roll over up to 150 credits", "Priority support"], 7),
]

# Status categories: (id, name, matching abilities, matching tools, the topic a suggestion books).
STATUS_CATEGORIES = [
    ("love", "Love", ["Empath", "Clairsentient", "Clairvoyant"], ["Tarot", "Oracle Cards", "Astrology"],
     "Love & Relationships"),
    ("career", "Career", ["Clairvoyant", "Clairaudient"], ["Tarot", "Numerology", "Astrology", "I-Ching"],
     "Career & Work"),
    ("spiritual", "Spiritual", ["Medium", "Channeling", "Dream Analysis", "Scrying"],
     ["Crystal Energy", "Runes", "Pendulum"], "Life Path"),
    ("general", "General", [], [], GENERAL_TOPIC),
]

BADGE_TIERS: list[tuple[str, dict[str, Any]]] = [
    ("Bronze", {"readingsCompleted": 10}),
    ("Silver", {"readingsCompleted": 50, "averageRating": 4.5}),
    ("Gold", {"readingsCompleted": 200, "averageRating": 4.7, "timeframe": "last_6_months"}),
]


def default_items() -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, id, data) for every catalog entry."""
    items: list[tuple[str, str, dict[str, Any]]] = []
    for position, name in enumerate([*TOPICS, GENERAL_TOPIC]):
        items.append(("topic", slug(name), {"name": name, "isGeneral": name == GENERAL_TOPIC, "position": position}))
    for kind, names in ATTRIBUTES.items():
        for position, name in enumerate(names):
            items.append(("attribute", slug(name), {"name": name, "kind": kind, "position": position}))
    for position, (type_id, name, description, live) in enumerate(READING_TYPES):
        items.append(("reading_type", type_id, {"name": name, "description": description, "live": live,
                                                "position": position}))
    for minutes, multiplier in TIME_SPANS:
        items.append(("time_span", f"{minutes}-min", {"duration": minutes, "label": f"{minutes} minutes",
                                                      "multiplier": multiplier}))
    for package_id, name, credits, cents, discount, popular in CREDIT_PACKAGES:
        items.append(("credit_package", package_id, {
            "name": name, "credits": credits, "price": cents, "currency": "usd", "discount": discount,
            "isPopular": popular, "stripePriceId": f"price_{package_id}"}))
    for plan_id, name, description, cents, included, rollover, features, trial in PLANS:
        items.append(("plan", plan_id, {
            "name": name, "description": description, "price": cents, "currency": "usd",
            "creditsIncluded": included, "rolloverCap": rollover, "features": features,
            "stripePriceId": f"price_{plan_id}", "trialDays": trial}))
    for position, (category_id, name, abilities, tools, topic) in enumerate(STATUS_CATEGORIES):
        items.append(("category", category_id, {"name": name, "position": position,
                                                "abilityIds": [slug(a) for a in abilities],
                                                "toolIds": [slug(t) for t in tools], "topicId": slug(topic)}))
    for names in ATTRIBUTES.values():
        for name in names:
            for tier, requirements in BADGE_TIERS:
                items.append(("badge", f"{slug(name)}-{tier.lower()}", {
                    "name": f"{name} {tier}", "attribute": slug(name), "tier": tier,
                    "requirements": requirements, "icon": f"badge-{tier.lower()}",
                    "description": f"{requirements['readingsCompleted']} completed {name} readings"
                                   + (f" rated {requirements['averageRating']}+" if "averageRating" in requirements
                                      else "")}))
    return items
