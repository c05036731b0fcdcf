"""Readings on the wire (the product's Reading, ReadingOption, Review, ReadingDelivery)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from chalicelib.domain.moderation import state_document
from chalicelib.domain.readings import (
    COMMENT_MAX,
    DURATION_MAX,
    NOTE_MAX,
    NOTE_MIN,
    QUESTION_MAX,
    RATING_MAX,
    RATING_MIN,
    REASON_MAX,
    REASON_MIN,
)
from chalicelib.schemas.common import ApiModel, InputModel, PageInfo, PageMeta, PageQuery
from chalicelib.schemas.moderation import ModerationStateOut
from chalicelib.schemas.readers import Line, OptionId, ReadingType, Text

ReadingStatus = Literal["requested", "accepted", "declined", "in_progress", "completed", "disputed", "refunded",
                        "cancelled", "expired"]
Tab = Literal["requested", "accepted", "archived"]
Resolution = Literal["full_refund", "partial_refund", "reject"]  # a resolved dispute's outcome
_USER_ID = r"^[A-Za-z0-9_-]{1,128}$"
_SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"

_EXAMPLE: dict[str, Any] = {"readerId": "user_demo_reader1", "optionType": "phone_call", "duration": 30,
            "scheduledAt": "2026-12-01T15:00:00Z"}


class QuoteIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [dict(_EXAMPLE)]})  # type: ignore[dict-item]

    reader_id: str = Field(pattern=_USER_ID)
    option_type: ReadingType
    option_id: OptionId | None = Field(default=None, description="one of the reader's options of that type; "
                                                                 "default: the only active one, or the only one "
                                                                 "of this duration (else 422 option_required)")
    duration: int = Field(ge=1, le=DURATION_MAX, description="minutes: the duration of a catalog time span")
    scheduled_at: AwareDatetime | None = Field(default=None, strict=False,
                                               description="UTC start on a 5-minute boundary; omit for now "
                                                           "(and always for a video message)")


class ReadingIn(QuoteIn):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {**_EXAMPLE, "topicId": "love-relationships", "question": "Will we move in together this year?"}]})

    topic_id: str = Field(pattern=_SLUG, description="a topic id from GET /catalog")
    question: Text | None = Field(default=None, max_length=QUESTION_MAX,
                                  description="required unless the topic is the general reading")


class PriceOut(ApiModel):
    """How a reading's price is computed: total = ceil(rate x minutes x multiplier) credits."""
    rate: float = Field(description="credits per minute of the reader's option (rounded to 4 decimals)")
    minutes: int
    multiplier: float = Field(description="the time span's multiplier")
    total: int = Field(description="the credits held at request: ceil(rate x minutes x multiplier), or the "
                                   "reader's lower offer (a suggested reading)")
    listed_total: int | None = Field(default=None, description="the listed price, when the reading was booked "
                                                              "from a reader's suggestion below it")

    @field_validator("rate", "multiplier", mode="before")
    @classmethod
    def _number(cls, value: Any) -> float:
        """Stored as exact decimal text ("2.6667"); shown as a JSON number."""
        return round(float(value), 4)


class OptionOut(ApiModel):
    """The reading option a reading was booked with: its type, duration and price."""
    id: str | None = None
    type: ReadingType
    name: str | None = None
    duration: int
    price: int


class QuoteOut(ApiModel):
    """What a reading would cost and whether the reader can take it at that time."""
    reader_id: str
    option: OptionOut
    schedule: Literal["immediate", "scheduled"]
    scheduled_start: str | None = None
    scheduled_end: str | None = None
    price: PriceOut
    available: bool = Field(description="whether the reader can take it then")
    reason: Literal["reader_offline", "outside_availability", "slot_taken"] | None = None


class AttendeeOut(ApiModel):
    """One party's credentials for joining a live session."""
    attendee_id: str
    join_token: str


class DeliveryOut(ApiModel):
    """How a reading is delivered: the video message, or the live session's meeting."""
    type: ReadingType
    delivered_at: str | None = None
    video_url: str | None = Field(default=None, description="a time-limited URL of the video message")
    provider: str | None = Field(default=None, description="chime | local")
    meeting_id: str | None = None
    media_region: str | None = None
    join_url: str | None = None
    attendee: AttendeeOut | None = Field(default=None, description="the caller's own attendee (join token)")
    created_at: str | None = None


class JoinOut(ApiModel):
    """The caller's way into a call's or live video's session (POST /readings/{id}/join):
    the meeting both parties share and the caller's own attendee (its join token is the
    caller's secret)."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [{  # type: ignore[dict-item]
        "readingId": "rdg_01JDEXAMPLE", "type": "live_video", "provider": "chime",
        "meetingId": "4e3c1b0a-8f57-4a3e-9d4f-0c1b2a3d4e5f", "mediaRegion": "us-east-1", "joinUrl": None,
        "attendee": {"attendeeId": "a1b2c3d4", "joinToken": "<the caller's secret token>"},
        "createdAt": "2026-12-01T18:50:00.000Z"}]})
    reading_id: str
    type: ReadingType
    provider: str = Field(description="chime (Amazon Chime SDK Meetings) | local (the stand-in)")
    meeting_id: str = Field(description="the meeting both parties join")
    media_region: str | None = None
    join_url: str | None = Field(default=None, description="a URL to join with, when the provider has one")
    attendee: AttendeeOut = Field(description="the caller's own attendee; pass it with the meeting to the SDK")
    created_at: str | None = Field(default=None, description="when the first join made the meeting")


class ReviewOut(ApiModel):
    """A client's review of a completed reading."""
    id: str
    rating: int
    comment: str
    client_name: str | None = Field(default=None, description="the reviewer's first name")
    created_at: str
    # The product's Review interface names (same values as the reading's).
    created_date: str | None = Field(default=None, description="same as createdAt (the Review interface's name)")
    reading_id: str | None = None
    client_id: str | None = None
    reader_id: str | None = None
    is_disputed: bool = Field(default=False, description="whether the client opened a dispute on the reading")
    moderation: ModerationStateOut | None = Field(default=None, description=(
        "the reviewer's (and admins') view only: held or hidden by moderation, so it is not on the reader's "
        "profile; the reader sees the rating without the comment"))


class PartyOut(ApiModel):
    """A party of a reading as a UI shows it beside the id. A reader: the public profile's
    display name and image. A client: the first name only, and no avatar when their
    privacy.profileVisibility is private. A value not known (e.g. a deleted account) is left out."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [  # type: ignore[dict-item]
        {"id": "user_demo_reader1", "displayName": "Luna Star", "avatarUrl": "https://images.example.com/luna.webp"}]})

    id: str
    display_name: str | None = None
    avatar_url: str | None = Field(default=None, description="an absolute URL that loads (uploaded images from the "
                                                             "media CDN)")


class DisputeOut(ApiModel):
    """A client's dispute of a reading, and its resolution once an admin decides."""
    reason: str
    opened_at: str
    status: Literal["open", "resolved"]
    outcome: Resolution | None = Field(default=None, description="once resolved: full_refund, partial_refund "
                                                                   "or reject (the reading is completed again)")
    refunded: int | None = Field(default=None, description="once resolved: the credits refunded (0 when rejected)")
    note: str | None = None
    resolved_at: str | None = None


class ReadingOut(ApiModel):
    """A reading between a client and a reader: its option, price, schedule, status and what the caller may do
    next."""
    id: str
    client_id: str
    reader_id: str
    client: PartyOut | None = Field(default=None, description="the client's display name and avatar")
    reader: PartyOut | None = Field(default=None, description="the reader's display name and avatar")
    status: ReadingStatus
    topic_id: str
    topic: str
    question: str | None = None
    reading_option: OptionOut
    duration: int
    pricing: PriceOut
    credits_cost: int
    schedule: Literal["immediate", "scheduled"]
    scheduled_start: str | None = None
    scheduled_end: str | None = None
    respond_by: str | None = Field(default=None, description="an unanswered request expires then")
    delivery_due_at: str | None = None
    created_at: str
    updated_at: str
    accepted_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    no_show: Literal["client", "reader"] | None = None
    refunded_credits: int = Field(default=0, description="credits given back to the client (a cancellation, a "
                                                          "reader no-show or a dispute's full or partial refund)")
    resolution: Resolution | None = Field(
        default=None, description="how an admin resolved the dispute (dispute.outcome): full_refund and "
                                  "partial_refund end in status refunded (refundedCredits says how much), reject "
                                  "in status completed; null while no dispute is resolved")
    delivery: DeliveryOut | None = None
    review: ReviewOut | None = None
    dispute: DisputeOut | None = None
    # The product's Reading interface names, beside the fields above (same values).
    created_date: str | None = Field(default=None, description="same as createdAt")
    scheduled_date: str | None = Field(default=None, description="same as scheduledStart (scheduled readings)")
    completed_date: str | None = Field(default=None, description="same as completedAt")
    delivery_url: str | None = Field(default=None, description="same as delivery.videoUrl: the video message's "
                                                               "time-limited URL")
    allowed_actions: list[str] = Field(description="what the caller may do next: accept, decline, cancel, start, "
                                                   "complete, deliver, report_no_show, review, dispute, join, resolve")


class ReadingPage(ApiModel):
    """A page of the caller's readings, newest first."""
    data: list[ReadingOut]
    pagination: PageInfo
    meta: PageMeta


class ReadingsQuery(PageQuery):
    as_: Literal["client", "reader"] = Field(default="client", alias="as", description="whose side to list")
    tab: Tab = Field(default="requested", description="requested; accepted (accepted and in progress); archived")


class ReasonIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [
        {"reason": "I am not available at that time, sorry."}]})
    reason: Line = Field(min_length=REASON_MIN, max_length=REASON_MAX)


class OptionalReasonIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{"reason": "Plans changed"}]})
    reason: Line | None = Field(default=None, max_length=REASON_MAX)


class DeliveryIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{}]})
    upload_key: str | None = Field(default=None, max_length=1024,
                                   description="video message: the key of the reader's upload (POST /media/uploads "
                                               "with purpose video_message); omit for calls and live video")


class ReviewIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [
        {"rating": 5, "comment": "Warm, precise and honest."}]})
    rating: int = Field(ge=RATING_MIN, le=RATING_MAX)
    comment: Text = Field(default="", max_length=COMMENT_MAX)


class ReaderReviewOut(ApiModel):
    """A review of a reader, as their public profile lists it."""
    reading_id: str
    rating: int
    comment: str
    client_name: str | None = None
    topic: str | None = None
    reading_type: str | None = None
    created_at: str


class ReaderReviewPage(ApiModel):
    """A page of a reader's reviews, newest first."""
    data: list[ReaderReviewOut]
    pagination: PageInfo
    meta: PageMeta


class ResolveIn(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [
        {"outcome": "partial_refund", "amount": 10, "note": "The call dropped twice."}]})
    outcome: Resolution
    amount: int | None = Field(default=None, ge=1, description="credits, for a partial refund (<= the price)")
    note: Line = Field(min_length=NOTE_MIN, max_length=NOTE_MAX, description="why: both parties are told")


def reading_document(reading: Any, user_id: str, role: str, allowed: list[str],
                     delivery: dict[str, Any] | None) -> dict[str, Any]:
    from chalicelib.models.base import plain

    return {
        "id": reading.reading_id, "clientId": reading.client_id, "readerId": reading.reader_id,
        "status": reading.status, "topicId": reading.topic_id, "topic": reading.topic, "question": reading.question,
        "readingOption": plain(reading.reading_option), "duration": int(reading.duration),
        "pricing": plain(reading.pricing), "creditsCost": int(reading.credits_cost), "schedule": reading.schedule,
        "scheduledStart": reading.scheduled_start, "scheduledEnd": reading.scheduled_end,
        "respondBy": reading.respond_by, "deliveryDueAt": reading.delivery_due_at,
        "createdAt": reading.created_at, "updatedAt": reading.updated_at, "acceptedAt": reading.accepted_at,
        "startedAt": reading.started_at, "completedAt": reading.completed_at, "closedAt": reading.closed_at,
        "closedBy": reading.closed_by, "closeReason": reading.close_reason, "noShow": reading.no_show,
        "refundedCredits": int(reading.refunded or 0), "delivery": delivery,
        "review": _review_document(reading, plain(reading.review), user_id, role),
        "dispute": plain(reading.dispute), "allowedActions": allowed,
        "createdDate": reading.created_at, "scheduledDate": reading.scheduled_start,
        "completedDate": reading.completed_at, "deliveryUrl": (delivery or {}).get("videoUrl"),
        "resolution": (plain(reading.dispute) or {}).get("outcome"),
    }


def _review_document(reading: Any, review: dict[str, Any] | None, user_id: str, role: str) -> dict[str, Any] | None:
    """The reading's copy of its review, with the Review interface's fields. A review held or
    hidden by moderation: its client and admins see it with its state, the reader without the
    comment."""
    if review is None:
        return None
    state = review.pop("moderation", None)
    document = {**review, "createdDate": review.get("createdAt"), "readingId": reading.reading_id,
                "clientId": reading.client_id, "readerId": reading.reader_id, "isDisputed": reading.dispute is not None}
    if state is not None:
        if role == "admin" or user_id == reading.client_id:
            document["moderation"] = state_document(state)
        else:
            document["comment"] = ""
    return document
