"""Client statuses and suggested readings on the wire (the product's Status and
SuggestedReading)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from chalicelib.domain.readings import DURATION_MAX
from chalicelib.domain.statuses import (
    CONTENT_MAX,
    CONTENT_MIN,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MESSAGE_MAX,
    MOOD_MAX,
    TITLE_MAX,
    TITLE_MIN,
)
from chalicelib.schemas.common import ApiModel, InputModel, PageInfo, PageMeta, PageQuery
from chalicelib.schemas.moderation import ModerationStateOut
from chalicelib.schemas.readers import Line, OptionId, ReadingType, Text
from chalicelib.schemas.readings import ReadingOut

StatusState = Literal["active", "accepted", "closed", "expired", "deleted"]
SuggestionState = Literal["active", "accepted", "withdrawn", "closed"]
_CATEGORY = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
_DATE: dict[str, Any] = {"format": "date-time"}


class StatusIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {"content": "I keep meeting the same kind of partner and it never lasts. What am I missing?",
         "mood": "hopeful", "category": "love"}]})

    content: Text = Field(min_length=CONTENT_MIN, max_length=CONTENT_MAX,
                          description="what is on your mind: readers read it and suggest a reading for it")
    mood: Line | None = Field(default=None, min_length=1, max_length=MOOD_MAX, description="how you feel, in a word")
    category: str = Field(pattern=_CATEGORY, description="a status category id from GET /catalog (categories)")


class StatusPatch(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {"content": "Same question, clearer: why do my relationships end after three months?"}]})

    content: Text | None = Field(default=None, min_length=CONTENT_MIN, max_length=CONTENT_MAX)
    mood: Line | None = Field(default=None, min_length=1, max_length=MOOD_MAX,
                              description="null removes the mood")
    category: str | None = Field(default=None, pattern=_CATEGORY)


class SuggestionIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {"title": "Three-card relationship spread", "description": "We look at the pattern, its root and the way "
         "out, card by card.", "suggestedType": "phone_call", "estimatedDuration": 30, "suggestedPrice": 50,
         "message": "I read for this exact question often; I would love to help."}]})

    title: Line = Field(min_length=TITLE_MIN, max_length=TITLE_MAX)
    description: Text = Field(min_length=DESCRIPTION_MIN, max_length=DESCRIPTION_MAX,
                              description="what the reading will cover")
    suggested_type: ReadingType = Field(description="the reading type: one of your active reading options' types")
    option_id: OptionId | None = Field(default=None, description="which of your options of that type (needed when "
                                                                 "you have several of it)")
    estimated_duration: int = Field(ge=1, le=DURATION_MAX, description="minutes: a catalog time span's duration")
    suggested_price: int | None = Field(default=None, ge=1, le=100_000, description=(
        "credits; at most your listed price for this option and duration (below it is shown as a discount); "
        "default: the listed price"))
    message: Text | None = Field(default=None, max_length=MESSAGE_MAX, description="a personal note to the client")
    scheduled_at: AwareDatetime | None = Field(default=None, strict=False, description=(
        "a proposed start (UTC, 5-minute boundary, 30 minutes to 90 days ahead) for a phone call or live video; "
        "the client may accept it or pick another time"))


class AcceptIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {}, {"scheduledAt": "2026-12-05T18:00:00Z"}]})

    scheduled_at: AwareDatetime | None = Field(default=None, strict=False, description=(
        "when to have a phone call or live video (UTC, 5-minute boundary); default: the time the reader proposed, "
        "else now (the reader must be online)"))


class AuthorOut(ApiModel):
    """Who posted a status, as readers see it: hidden when the client's profile is private."""
    user_id: str | None = None
    display_name: str | None = Field(default=None, description="the client's first name")
    avatar_url: str | None = None


class SuggestedReadingOut(ApiModel):
    """A reading a reader suggested for a status (the product's SuggestedReading)."""
    id: str
    status_id: str
    reader_id: str
    reader_name: str
    reader_avatar_url: str | None = Field(default=None, description="the reader's profile picture (a URL)")
    title: str
    description: str
    suggested_type: ReadingType
    option_id: str | None = None
    estimated_duration: int = Field(description="minutes")
    suggested_price: int | None = Field(default=None, description="credits the client pays on accepting")
    listed_price: int | None = Field(default=None, description="the reader's listed price for the same reading")
    is_discount: bool = Field(description="suggestedPrice is below listedPrice")
    message: str | None = None
    scheduled_at: str | None = Field(default=None, json_schema_extra=_DATE, description="the proposed start")
    topic_id: str | None = Field(default=None, description="the topic the reading is booked under")
    topic_name: str | None = Field(default=None, description="that topic's name")
    state: SuggestionState
    is_accepted: bool
    created_at: str = Field(json_schema_extra=_DATE)
    updated_at: str = Field(json_schema_extra=_DATE)
    moderation: ModerationStateOut | None = Field(default=None, description=(
        "its reader's (and admins') view only: held or hidden by moderation, so its client does not see it"))


class StatusOut(ApiModel):
    """A client's status (the product's Status). Its owner and admins see every suggestion;
    a reader sees only their own, and the author as the client's privacy allows."""
    id: str
    user_id: str | None = Field(default=None, description="the client who posted it (absent for readers when the "
                                                          "client's profile is private)")
    author: AuthorOut | None = Field(default=None, description="readers' view: who posted it")
    content: str
    mood: str | None = None
    category: str
    category_name: str | None = None
    is_active: bool = Field(description="true while it takes suggestions")
    state: StatusState
    created_at: str = Field(json_schema_extra=_DATE)
    updated_at: str = Field(json_schema_extra=_DATE)
    closed_at: str | None = Field(default=None, json_schema_extra=_DATE)
    expires_at: str | None = Field(default=None, json_schema_extra=_DATE,
                                   description="when an active status closes by itself")
    version: int = Field(ge=1, description=(
        "raised by every change of the status or its suggestions; also its ETag: send it as If-Match to PATCH, "
        "close or DELETE it (a stale one is a 409 version_mismatch)"))
    deleted_at: str | None = Field(default=None, json_schema_extra=_DATE, description=(
        "only in the answer to DELETE: a deleted status (state deleted) is gone from every list and its GET is a 404"))
    accepted_suggested_reading_id: str | None = None
    reading_id: str | None = Field(default=None, description="the reading booked from the accepted suggestion "
                                                             "(its client and reader see it)")
    suggestion_count: int = Field(description="the suggestions readers made and did not withdraw (accepted and "
                                              "closed ones included)")
    suggested_by_you: bool | None = Field(default=None, description="readers' view: you have an active "
                                                                    "suggestion on it")
    suggested_readings: list[SuggestedReadingOut]
    moderation: ModerationStateOut | None = Field(default=None, description=(
        "its client's (and admins') view only: held or hidden by moderation, so no reader sees it"))


class StatusPage(ApiModel):
    """A page of the caller's statuses, newest first."""
    data: list[StatusOut]
    pagination: PageInfo
    meta: PageMeta


class FeedItem(ApiModel):
    """An active status in a reader's feed."""
    id: str
    user_id: str | None = None
    author: AuthorOut
    content: str
    mood: str | None = None
    category: str
    category_name: str | None = None
    matches_specialties: bool = Field(description="its category matches one of your abilities or tools")
    suggestion_count: int = Field(description="readers who have suggested a reading so far")
    suggested_by_you: bool
    created_at: str = Field(json_schema_extra=_DATE)
    expires_at: str = Field(json_schema_extra=_DATE)


class FeedPage(ApiModel):
    """Active statuses: those matching your specialties first, newest first within each group."""
    data: list[FeedItem]
    pagination: PageInfo
    meta: PageMeta


class StatusesQuery(PageQuery):
    """``?limit=&cursor=``."""


class AcceptOut(ApiModel):
    """The accepted suggestion's status (now closed) and the reading request it created."""
    status: StatusOut
    reading: ReadingOut


def feed_document(row: Any, author: dict[str, Any], *, viewer_id: str, matching: set[str],
                  categories: dict[str, dict[str, Any]], expires_at: str) -> dict[str, Any]:
    suggesters = set(row.suggester_ids or set())
    found = categories.get(row.category) or {}
    document = {"id": row.status_id, "author": author, "content": row.content, "mood": row.mood,
                "category": row.category, "categoryName": found.get("name"),
                "matchesSpecialties": row.category in matching, "suggestionCount": len(suggesters),
                "suggestedByYou": viewer_id in suggesters, "createdAt": row.created_at, "expiresAt": expires_at}
    if author.get("userId"):
        document["userId"] = author["userId"]
    return document
