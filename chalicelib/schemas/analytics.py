"""Client analytics events on the wire (``POST /events``): one schema per event type, strict,
chosen by ``type`` (a discriminated union). A field the type does not declare is a 400.

A bad event's error path is ``events.<index>.<field>`` (``events.3.readerId``), the
convention of every other route's ``details.fields[].path`` (``readingOptions.1.type``);
pydantic would put the event's type between the index and the field
(``events.3.view_reader.readerId``), which ``EventsIn`` takes out."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from chalicelib.schemas.common import ApiModel, InputModel

MAX_EVENTS = 50
_ID = r"^[A-Za-z0-9_-]{1,128}$"
_EVENT_ID = r"^[A-Za-z0-9_-]{8,64}$"
_SESSION_ID = r"^[A-Za-z0-9_-]{16,64}$"
ReadingType = Literal["phone_call", "video_message", "live_video"]
Source = Literal["explore", "search", "favorites", "recommendations", "status", "dashboard", "link"]
Page = Literal["home", "explore", "favorites", "readings", "credits", "statuses", "dashboard"]


class _Event(InputModel):
    event_id: str = Field(pattern=_EVENT_ID, description="unique per event (a UUID is fine): an event sent again is "
                                                         "stored and counted once")
    occurred_at: AwareDatetime = Field(description="when it happened on the device (ISO 8601 with an offset); "
                                                   "within the last 7 days and at most 5 minutes ahead")


class ViewPage(_Event):
    """A page of the app was shown."""
    type: Literal["view_page"]
    page: Page


class ViewReader(_Event):
    """A reader's profile was opened (counts toward the reader's profile views)."""
    type: Literal["view_reader"]
    reader_id: str = Field(pattern=_ID)
    source: Source | None = Field(default=None, description="where the profile was opened from")


class Search(_Event):
    """A search or filter on explore, and how many readers it found."""
    type: Literal["search"]
    query: str | None = Field(default=None, max_length=200, description="the text typed, if any")
    topic_id: str | None = Field(default=None, pattern=_ID)
    attribute_ids: list[Annotated[str, Field(pattern=_ID)]] = Field(default_factory=list, max_length=10)
    reading_type: ReadingType | None = None
    online_only: bool | None = None
    results: int = Field(ge=0, le=100_000)


class ViewStatus(_Event):
    """A client status was opened."""
    type: Literal["view_status"]
    status_id: str = Field(pattern=_ID)


class Favorite(_Event):
    type: Literal["favorite"]
    reader_id: str = Field(pattern=_ID)


class Unfavorite(_Event):
    type: Literal["unfavorite"]
    reader_id: str = Field(pattern=_ID)


class StartBooking(_Event):
    """The booking form was opened for a reader."""
    type: Literal["start_booking"]
    reader_id: str = Field(pattern=_ID)
    reading_type: ReadingType | None = None


class AbandonBooking(_Event):
    """The booking form was closed without booking."""
    type: Literal["abandon_booking"]
    reader_id: str = Field(pattern=_ID)
    step: Literal["option", "time", "question", "review"] | None = None


class Book(_Event):
    """A reading was requested (the server records the booking itself; this ties it to the funnel)."""
    type: Literal["book"]
    reader_id: str = Field(pattern=_ID)
    reading_id: str = Field(pattern=_ID)
    reading_type: ReadingType


class StartCheckout(_Event):
    """A credit package or plan was chosen."""
    type: Literal["start_checkout"]
    package_id: str | None = Field(default=None, pattern=_ID)
    plan_id: str | None = Field(default=None, pattern=_ID)

    @model_validator(mode="after")
    def _one_of(self) -> StartCheckout:
        if (self.package_id is None) == (self.plan_id is None):
            raise ValueError("Send either packageId or planId.")
        return self


ClientEvent = Annotated[
    ViewPage | ViewReader | Search | ViewStatus | Favorite | Unfavorite | StartBooking | AbandonBooking | Book
    | StartCheckout,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[Any] = TypeAdapter(ClientEvent)
EVENT_TYPES = ("view_page", "view_reader", "search", "view_status", "favorite", "unfavorite", "start_booking",
               "abandon_booking", "book", "start_checkout")


class EventsIn(InputModel):
    """A batch of up to 50 events. A signed-in caller is recorded by user id; an anonymous one
    must send the session id the app keeps for it (random, not derived from the device)."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "sessionId": "s_3f9c2a7b4e1d8c6f",
        "events": [
            {"type": "search", "eventId": "e0b7a4c2-0001", "occurredAt": "2026-11-30T10:00:00Z",
             "query": "tarot", "results": 12},
            {"type": "view_reader", "eventId": "e0b7a4c2-0002", "occurredAt": "2026-11-30T10:00:05Z",
             "readerId": "rdr_luna", "source": "search"}]}]})
    session_id: str | None = Field(default=None, pattern=_SESSION_ID,
                                   description="required without a bearer token; ignored with one")
    # The validator below checks the length and each event (a plain validator: the limits are
    # stated for the document here).
    events: list[ClientEvent] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_EVENTS}, description=(
        f"1 to {MAX_EVENTS} events, each checked against the schema of its type; an error's path is "
        "events.<index>.<field>"))

    @field_validator("events", mode="plain", json_schema_input_type=list[ClientEvent])
    @classmethod
    def _each_event_by_its_type(cls, value: Any, info: ValidationInfo) -> list[Any]:
        """Each event against its type's schema, its errors placed at ``events.<index>.<field>``.
        (Not pydantic's own union validation of the list, which puts the type in the path; and
        not a wrap validator around it, which would see the JSON already turned into Python
        objects and refuse ISO-8601 strings as datetimes in strict mode.)"""
        if not isinstance(value, list):
            raise PydanticCustomError("list_type", "The events must be a list.")
        if not 1 <= len(value) <= MAX_EVENTS:
            raise PydanticCustomError("too_long" if value else "too_short",
                                      f"A batch holds 1 to {MAX_EVENTS} events; this one has {len(value)}.")
        events, errors = [], []
        for index, item in enumerate(value):
            try:
                events.append(_EVENT.validate_json(json.dumps(item), strict=True) if info.mode == "json"
                              else _EVENT.validate_python(item))
            except ValidationError as exc:
                errors += [event_error(index, error) for error in exc.errors(include_url=False)]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return events


_TYPES_LISTED = ", ".join(EVENT_TYPES)


def event_error(index: int, error: Any) -> InitErrorDetails:
    """One of pydantic's errors about the event at ``index``, placed at ``<index>.<field>``
    (the route's ``events.`` goes in front; the event's type, pydantic's union tag, taken out)
    with a sentence saying what is wrong with that event."""
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    place: tuple[int] = (index,)
    tag = loc[0] if loc and loc[0] in EVENT_TYPES else None
    field = loc[1:] if tag else loc
    if kind == "union_tag_invalid":
        return _error(kind, (*place, "type"), error["input"],
                      f"The event type {ctx.get('tag')!r} is not one of: {_TYPES_LISTED}.")
    if kind == "union_tag_not_found":
        return _error(kind, (*place, "type"), error["input"], f"Every event needs a type, one of: {_TYPES_LISTED}.")
    if kind == "extra_forbidden" and tag and field:
        return _error(kind, (*place, *field), error["input"], f"A {tag} event has no field {field[-1]}.")
    if kind == "missing" and tag and field:
        return _error(kind, (*place, *field), error["input"], f"A {tag} event needs {field[-1]}.")
    return InitErrorDetails(type=kind, loc=(*place, *field), input=error["input"], ctx=ctx)


def _error(kind: str, loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    # The message is the template: braces in it (none expected) would read as placeholders.
    return InitErrorDetails(type=PydanticCustomError(kind, message.replace("{", "(").replace("}", ")")), loc=loc,
                            input=value)


class EventsOut(ApiModel):
    """What a batch of analytics events did: how many were stored and counted."""
    accepted: int = Field(description="events stored (an event sent before is stored once)")
    profile_views: int = Field(description="view_reader events newly counted toward a reader's profile views")
