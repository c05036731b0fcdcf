"""Reader applications, reader profiles, reading options, availability and the public card.

The product's limits are constants of chalicelib/domain/readers.py; as the wire sees them:

* attributes: at most 3 tools, 3 abilities and 1 style, catalog ids (slugs such as
  ``tarot``); the catalog check itself (active entry of the right kind) is the service's,
  since it needs the catalog. A complete profile (submission, an approved reader's PATCH)
  has 1-3 tools, 1-3 abilities and exactly one style; "no-tools" stands alone.
* reading options: type phone_call | video_message | live_video; duration 5..180 minutes;
  price 1..10000 credits (an integer); at most 12 options; one option per type + duration.
* availability: an IANA timezone; per weekday (mon..sun) up to 12 slots ``{"start": "HH:MM",
  "end": "HH:MM"}`` in the reader's local time, start < end, "24:00" allowed as an end, slots
  of a day may touch (09:00-12:00 and 12:00-15:00) but not overlap. A slot never crosses
  midnight: 22:00-02:00 is two slots, 22:00-24:00 on one day and 00:00-02:00 on the next.
* images: an ``https://`` URL, or a media key under the caller's own prefix
  ``media/<userId>/...`` (the service checks the owner; the media capability attaches
  processed variants).
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain import readers as domain
from chalicelib.domain.readers import (
    MAX_ABILITIES,
    MAX_DURATION,
    MAX_PRICE,
    MAX_READING_OPTIONS,
    MAX_SLOTS_PER_DAY,
    MAX_TOOLS,
    MIN_DURATION,
    MIN_PRICE,
    WEEKDAYS,
)
from chalicelib.schemas.common import InputModel, PageQuery
from chalicelib.schemas.me import _valid_timezone

ReadingType = Literal["phone_call", "video_message", "live_video"]
ApplicationStatus = Literal["draft", "pending", "approved", "declined", "suspended", "deleted"]
Experience = Literal["beginner", "intermediate", "expert"]
# An ISO 639-1 language code: two lowercase letters ("en", "es").
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]

CatalogId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
OptionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MEDIA_KEY = re.compile(r"^media/[A-Za-z0-9_-]{1,128}/[A-Za-z0-9._/-]{1,512}$")


def _printable(value: str) -> str:
    if not value.replace("\n", "").replace("\t", "").isprintable():
        raise ValueError("Must not contain control characters.")
    return value


def _one_line(value: str) -> str:
    if not value.isprintable():
        raise ValueError("Must be one line without control characters.")
    return value


def _image_ref(value: str) -> str:
    """An https URL or a ``media/<userId>/...`` key; which user's prefix is checked by the service."""
    if _MEDIA_KEY.match(value):
        if ".." in value.split("/") or "//" in value:
            raise ValueError("Must be a media key without '..' or empty segments.")
        return value
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or not value.isprintable() or " " in value:
        raise ValueError("Must be an https:// URL or a media key 'media/<yourUserId>/...'.")
    return value


ImageRef = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_image_ref)]
Line = Annotated[str, AfterValidator(_one_line)]
Text = Annotated[str, AfterValidator(_printable)]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


# --- attributes ------------------------------------------------------------------------------


class AttributesIn(InputModel):
    """Attribute ids by kind. In a draft every part is optional and only the limits apply."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={
        "examples": [{"tools": ["tarot", "oracle-cards"], "abilities": ["clairvoyant"], "style": "compassionate"}]})

    tools: list[CatalogId] = Field(default_factory=list, max_length=MAX_TOOLS, description="at most 3 tool ids")
    abilities: list[CatalogId] = Field(default_factory=list, max_length=MAX_ABILITIES,
                                       description="at most 3 ability ids")
    style: CatalogId | None = Field(default=None, description="one style id")

    @field_validator("tools", "abilities")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return domain.distinct_attributes(value)

    @field_validator("tools")
    @classmethod
    def _no_tools_alone(cls, value: list[str]) -> list[str]:
        return domain.no_tools_alone(value)

    def to_domain(self) -> domain.Attributes:
        return domain.Attributes(tools=tuple(self.tools), abilities=tuple(self.abilities), style=self.style)


class CompleteAttributes(AttributesIn):
    """What a submitted application and an approved reader's profile carry."""

    tools: list[CatalogId] = Field(min_length=1, max_length=MAX_TOOLS, description="1-3 tool ids")
    abilities: list[CatalogId] = Field(min_length=1, max_length=MAX_ABILITIES, description="1-3 ability ids")
    style: CatalogId = Field(description="exactly one style id")


# --- reading options ---------------------------------------------------------------------------


class ReadingOptionIn(InputModel):
    id: OptionId | None = Field(default=None, description="keep an existing option's id; omitted: a new id is made")
    type: ReadingType
    name: Line = Field(min_length=1, max_length=80)
    description: Text = Field(default="", max_length=1000)
    duration: int = Field(ge=MIN_DURATION, le=MAX_DURATION, description="minutes, 5..180")
    price: int = Field(ge=MIN_PRICE, le=MAX_PRICE, description="credits, 1..10000")
    is_active: bool = True
    # Read-only fields of the reader views (the listed prices), accepted so that a form can
    # send back the options it read; never stored.
    base_price: int | None = Field(default=None, exclude=True, description="read-only: ignored")
    price_duration: int | None = Field(default=None, exclude=True, description="read-only: ignored")
    prices: list[Any] | None = Field(default=None, exclude=True, description="read-only: ignored")
    moderation: dict[str, Any] | None = Field(default=None, exclude=True, description="read-only: ignored")

    def to_domain(self) -> domain.ReadingOption:
        return domain.ReadingOption(id=self.id, type=self.type, name=self.name, description=self.description,
                                    duration=self.duration, price=self.price, is_active=self.is_active)


def _distinct_options(options: list[ReadingOptionIn]) -> list[ReadingOptionIn]:
    seen: dict[tuple[str, int], int] = {}
    ids: dict[str, int] = {}
    for index, option in enumerate(options):
        key = (option.type, option.duration)
        if key in seen:
            raise ValueError(f"Options {seen[key]} and {index} are both a {option.duration}-minute {option.type}; "
                             "one option per type and duration.")
        seen[key] = index
        if option.id is not None:
            if option.id in ids:
                raise ValueError(f"Options {ids[option.id]} and {index} share the id {option.id!r}.")
            ids[option.id] = index
    return options


ReadingOptionList = Annotated[list[ReadingOptionIn], Field(max_length=MAX_READING_OPTIONS),
                              AfterValidator(_distinct_options)]


class ReadingOptionsPut(InputModel):
    """``PUT /reader/reading-options`` replaces the whole list (an empty list pauses every
    booking; ``isActive: false`` pauses one option)."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{"readingOptions": [
        {"type": "phone_call", "name": "Quick call", "description": "A focused question", "duration": 15,
         "price": 30, "isActive": True},
        {"type": "video_message", "name": "Video reading", "description": "A recorded spread", "duration": 20,
         "price": 45, "isActive": True},
    ]}]})

    reading_options: ReadingOptionList


# --- availability ------------------------------------------------------------------------------


class TimeSlot(InputModel):
    start: str = Field(description="HH:MM, 00:00..23:59, the reader's local time")
    end: str = Field(description="HH:MM, after start; 24:00 means midnight at the end of the day")

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("Must be HH:MM between 00:00 and 23:59.")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str) -> str:
        if value != "24:00" and not _CLOCK.match(value):
            raise ValueError("Must be HH:MM between 00:01 and 24:00.")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeSlot:
        if _minutes(self.start) >= _minutes(self.end):
            raise ValueError(f"Start {self.start} must be before end {self.end} (split a slot that crosses midnight).")
        return self


def _no_overlap(slots: list[TimeSlot]) -> list[TimeSlot]:
    ordered = sorted(slots, key=lambda s: _minutes(s.start))
    for before, after in pairwise(ordered):
        if _minutes(after.start) < _minutes(before.end):
            raise ValueError(f"Slots {before.start}-{before.end} and {after.start}-{after.end} overlap.")
    return ordered


DaySlots = Annotated[list[TimeSlot], Field(max_length=MAX_SLOTS_PER_DAY), AfterValidator(_no_overlap)]


class WeeklySchedule(InputModel):
    """Slots per weekday, in the reader's timezone; a day left out has no slots."""

    mon: DaySlots = Field(default_factory=list)
    tue: DaySlots = Field(default_factory=list)
    wed: DaySlots = Field(default_factory=list)
    thu: DaySlots = Field(default_factory=list)
    fri: DaySlots = Field(default_factory=list)
    sat: DaySlots = Field(default_factory=list)
    sun: DaySlots = Field(default_factory=list)


class AvailabilityDraft(InputModel):
    """Availability in an application draft: every part optional."""

    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone name, e.g. Europe/Paris")
    instant_booking: bool = False
    schedule: WeeklySchedule = Field(default_factory=WeeklySchedule)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else _valid_timezone(value)

    def to_domain(self) -> domain.Availability:
        return domain.Availability(timezone=self.timezone, instant_booking=self.instant_booking, schedule={
            day: tuple(domain.TimeSlot(start=slot.start, end=slot.end) for slot in getattr(self.schedule, day))
            for day in WEEKDAYS})


class AvailabilityPut(AvailabilityDraft):
    """``PUT /reader/availability`` replaces the whole availability."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "timezone": "Europe/Paris", "instantBooking": True,
        "schedule": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
                     "sat": [{"start": "10:00", "end": "24:00"}]}}]})

    timezone: str = Field(max_length=64, description="IANA time zone name, e.g. Europe/Paris")


# --- application and profile inputs -----------------------------------------------------------


class ApplicationDraft(InputModel):
    """``PUT /reader-application``: one step of the multi-step form. Fields left out keep
    their saved value; ``null`` clears a field; values that are present are validated in
    full (limits, catalog). ``attributes``, ``readingOptions`` and ``availability`` are
    replaced as a whole."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "displayName": "Luna Marquez", "tagline": "Tarot that tells it straight", "location": "Austin, TX",
        "bio": "Fifteen years of reading tarot for friends, now for you.",
        "attributes": {"tools": ["tarot"], "abilities": ["clairvoyant"], "style": "straightforward"},
        "experience": "expert", "step": 2}]})

    display_name: Line | None = Field(default=None, min_length=1, max_length=80)
    tagline: Line | None = Field(default=None, min_length=1, max_length=120)
    bio: Text | None = Field(default=None, min_length=1, max_length=4000)
    location: Line | None = Field(default=None, min_length=1, max_length=120)
    profile_image: ImageRef | None = None
    background_image: ImageRef | None = None
    attributes: AttributesIn | None = None
    reading_options: ReadingOptionList | None = None
    availability: AvailabilityDraft | None = None
    experience: Experience | None = None
    step: int | None = Field(default=None, ge=1, le=20, description="the form step the applicant reached")

    def changes(self) -> dict[str, Any]:
        """{field: value} of the fields sent (``None``: clear it), nested values as domain values."""
        return _changes(self)


def _changes(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        if isinstance(value, list):
            value = [item.to_domain() if hasattr(item, "to_domain") else item for item in value]
        elif hasattr(value, "to_domain"):
            value = value.to_domain()
        out[name] = value
    return out


def _not_nullable(schema: dict[str, Any]) -> None:
    """A field whose ``None`` only means "left out": the document does not offer null."""
    variants = [v for v in schema.pop("anyOf", []) if v.get("type") != "null"]
    if len(variants) == 1:
        schema.update(variants[0])
    schema.pop("default", None)


class ReaderProfilePatch(InputModel):
    """``PATCH /reader/profile``: the fields a reader edits. Left out: unchanged. ``null``
    clears location, profileImage or backgroundImage; the other fields cannot be cleared.
    ``attributes`` is replaced as a whole and must stay complete."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "tagline": "Tarot that tells it straight", "location": "Austin, TX",
        "profileImage": "https://images.example.com/luna.webp",
        "attributes": {"tools": ["tarot", "pendulum"], "abilities": ["empath"], "style": "compassionate"}}]})

    display_name: Line | None = Field(default=None, min_length=1, max_length=80, json_schema_extra=_not_nullable)
    tagline: Line | None = Field(default=None, min_length=1, max_length=120, json_schema_extra=_not_nullable)
    bio: Text | None = Field(default=None, min_length=1, max_length=4000, json_schema_extra=_not_nullable)
    location: Line | None = Field(default=None, min_length=1, max_length=120)
    languages: list[LanguageCode] | None = Field(
        default=None, min_length=1, max_length=10, json_schema_extra=_not_nullable,
        description="ISO 639-1 codes of the languages you read in, e.g. [\"en\", \"es\"]")
    profile_image: ImageRef | None = None
    background_image: ImageRef | None = None
    attributes: CompleteAttributes | None = Field(default=None, json_schema_extra=_not_nullable)

    @field_validator("languages")
    @classmethod
    def _distinct_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("Each language may be listed once.")
        return value

    @field_validator("display_name", "tagline", "bio", "attributes", "languages", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for values that were sent (defaults are not validated): None means "null".
        if value is None:
            raise ValueError("Cannot be cleared; leave it out to keep the current value.")
        return value

    def changes(self) -> dict[str, Any]:
        """{field: value} of the fields sent (``None``: clear it), attributes as domain values."""
        return _changes(self)


class OnlineIn(InputModel):
    """``PUT /reader/online``: ``true`` again while online is a heartbeat (send one about
    every minute; after ``READER_PRESENCE_TIMEOUT_SECONDS`` without one the reader goes offline)."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{"online": True}]})

    online: bool


class DeclineIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={
        "examples": [{"reason": "Please add a longer bio and at least one active reading option."}]})

    reason: Text = Field(min_length=1, max_length=500, description="shown to the applicant")


class ApplicationQuery(PageQuery):
    status: Literal["pending", "approved", "declined"] = Field(default="pending",
                                                               description="queue to list; oldest submission first")
