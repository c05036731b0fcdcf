"""A reader's profile: the product's limits, stated once, and the plain values the reader
services take (the request schemas in schemas/readers.py validate the wire format and
convert to these).

* attributes: at most 3 tools, 3 abilities and 1 style; a complete profile (submission,
  an approved reader's PATCH) has 1-3 tools, 1-3 abilities and exactly one style;
  "no-tools" stands alone.
* reading options: duration 5..180 minutes; price 1..10000 credits; at most 12 options.
* availability: per weekday (mon..sun) up to 12 slots in the reader's local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_TOOLS = 3
MAX_ABILITIES = 3
MIN_DURATION, MAX_DURATION = 5, 180
MIN_PRICE, MAX_PRICE = 1, 10_000
MAX_READING_OPTIONS = 12
MAX_SLOTS_PER_DAY = 12
NO_TOOLS = "no-tools"
# Who may see a card of each visibility (privacy.profileVisibility; "private" has no card):
# None = everyone, else the signed-in roles allowed. The single card (services/reader_cards)
# and the explore engine both apply it.
VISIBLE_TO: dict[str, frozenset[str] | None] = {"public": None, "readers_only": frozenset({"reader", "admin"})}


def may_see(visibility: str | None, viewer_role: str | None) -> bool:
    """Whether a caller of ``viewer_role`` (None: anonymous) may see a card of ``visibility``
    (None: public); a visibility not in ``VISIBLE_TO`` is shown to nobody."""
    key = visibility or "public"
    if key not in VISIBLE_TO:
        return False
    allowed = VISIBLE_TO[key]
    return allowed is None or viewer_role in allowed


def distinct_attributes(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("Must not repeat an attribute.")
    return ids


def no_tools_alone(tools: list[str]) -> list[str]:
    if NO_TOOLS in tools and len(tools) > 1:
        raise ValueError(f"The tool '{NO_TOOLS}' cannot be combined with other tools.")
    return tools


@dataclass(frozen=True)
class Attributes:
    """Catalog attribute ids by kind."""

    tools: tuple[str, ...] = ()
    abilities: tuple[str, ...] = ()
    style: str | None = None


@dataclass(frozen=True)
class ReadingOption:
    type: str
    name: str
    duration: int
    price: int
    description: str = ""
    is_active: bool = True
    id: str | None = None  # None: a new option (the service makes its id)


@dataclass(frozen=True)
class TimeSlot:
    start: str  # HH:MM, the reader's local time
    end: str  # HH:MM after start; 24:00 is the end of the day


@dataclass(frozen=True)
class Availability:
    timezone: str | None = None
    instant_booking: bool = False
    schedule: dict[str, tuple[TimeSlot, ...]] = field(default_factory=dict)  # weekday -> slots


class CompleteAttributes(BaseModel):
    """What a submitted application and an approved reader's profile carry."""

    tools: list[str] = Field(min_length=1, max_length=MAX_TOOLS)
    abilities: list[str] = Field(min_length=1, max_length=MAX_ABILITIES)
    style: str

    @field_validator("tools", "abilities")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return distinct_attributes(value)

    @field_validator("tools")
    @classmethod
    def _no_tools_alone(cls, value: list[str]) -> list[str]:
        return no_tools_alone(value)


class CompleteApplication(BaseModel):
    """What a submission requires of the saved draft (the stored, camelCase document):
    displayName, tagline, bio, attributes (1-3 tools, 1-3 abilities, one style), at least
    one active reading option, availability with a timezone. Optional: location, images,
    experience."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    display_name: str = Field(alias="displayName", min_length=1)
    tagline: str = Field(min_length=1)
    bio: str = Field(min_length=1)
    attributes: CompleteAttributes
    reading_options: list[dict[str, Any]] = Field(alias="readingOptions", min_length=1)
    availability: dict[str, Any]

    @field_validator("reading_options")
    @classmethod
    def _one_active(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not any(option.get("isActive") for option in value):
            raise ValueError("At least one reading option must be active.")
        return value

    @field_validator("availability")
    @classmethod
    def _timezone(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value.get("timezone"):
            raise ValueError("A timezone is required.")
        return value


def completion_rate(accepted: int, completed: int) -> float | None:
    """Completed readings as a percentage of accepted ones, 0..100 with one decimal; None
    (no data) until a reading was completed (a new reader shows neither 0 nor a made-up 100)."""
    if accepted <= 0 or completed <= 0:
        return None
    return round(min(100.0, 100.0 * completed / accepted), 1)
