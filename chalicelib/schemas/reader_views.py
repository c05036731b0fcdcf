"""Reader responses: the application, the reader's own profile, its parts, and the public
card. The request shapes and the limits they enforce are in schemas/readers.py."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from chalicelib.schemas.common import ApiModel, PageInfo, PageMeta, SendsNulls
from chalicelib.schemas.moderation import ModerationStateOut
from chalicelib.schemas.readers import ApplicationStatus, Experience, ReadingType

# Every image in a response is an absolute URL a browser loads (media_urls.public_url):
# processed variants from the media CDN, external images as they were set.
ImageUrl = Annotated[str, Field(json_schema_extra={"format": "uri"})]
_IMAGE = "an absolute URL that loads: a processed WebP variant on the media CDN, or the https URL that was set"
_VARIANTS = "processed WebP variants: {size in px: absolute URL on the media CDN}"
_AVERAGE = "the average review rating, 1..5; null (no data, not 0) before the first review (ratingCount 0)"


class AttributesOut(ApiModel):
    """A reader's attributes, by id: the tools and abilities they read with and their style."""
    tools: list[str]
    abilities: list[str]
    style: str | None = None


class ListedPriceOut(ApiModel):
    """What ``POST /readings/quote`` charges for the option at one duration a client can
    choose (an active catalog time span): the same computation, so the same total."""

    time_span_id: str = Field(description="the catalog time span's id (GET /catalog timeSpans)")
    duration: int = Field(description="minutes: send it as the quote's and the request's duration")
    label: str | None = Field(default=None, description="the time span's label, e.g. \"30 minutes\"")
    multiplier: float = Field(description="the time span's price multiplier")
    total: int = Field(description="credits charged: ceil(price / option duration x minutes x multiplier)")


class ReadingOptionOut(ApiModel):
    """A kind of reading a reader offers, with the price listed per duration the client can choose."""
    id: str
    type: ReadingType
    name: str
    description: str
    duration: int
    price: int = Field(description="credits. On a public card (GET /readers/{readerId}): the listed total for "
                                   "priceDuration minutes, what the quote charges. On the reader's own views: "
                                   "the price the reader set for duration minutes (basePrice), before the time "
                                   "span's multiplier")
    is_active: bool
    base_price: int | None = Field(default=None, description="the price the reader set for duration minutes: "
                                                             "the rate is basePrice / duration")
    price_duration: int | None = Field(default=None, description="public card: the minutes price buys (the "
                                                                 "option's duration when a client can choose it, "
                                                                 "else the shortest duration on offer)")
    prices: list[ListedPriceOut] | None = Field(default=None, description="the total the quote charges per "
                                                                          "duration a client can choose, shortest "
                                                                          "first (read-only)")
    moderation: dict[Literal["name", "description"], ModerationStateOut] | None = Field(
        default=None, description=(
            "your own views only: the texts (name, description) whose newest version, shown here, moderation "
            "holds or hides; the public card keeps the option's last approved text until the new one is approved "
            "(a description without one shows empty, an option whose name has none is not on the card)"))


class TimeSlotOut(ApiModel):
    """A time window in the reader's timezone (HH:MM)."""
    start: str
    end: str


class WeeklyScheduleOut(ApiModel):
    """A reader's weekly working hours, by weekday."""
    mon: list[TimeSlotOut]
    tue: list[TimeSlotOut]
    wed: list[TimeSlotOut]
    thu: list[TimeSlotOut]
    fri: list[TimeSlotOut]
    sat: list[TimeSlotOut]
    sun: list[TimeSlotOut]


class AvailabilityOut(ApiModel):
    """When a reader takes readings: their timezone, whether they take immediate requests, and their weekly
    schedule."""
    timezone: str | None = None
    instant_booking: bool
    schedule: WeeklyScheduleOut


class _ProfileFields(ApiModel):
    id: str = Field(description="the reader's user id")
    user_id: str
    status: ApplicationStatus
    display_name: str | None = None
    tagline: str | None = None
    bio: str | None = None
    location: str | None = None
    languages: list[str] = Field(default_factory=list,
                                 description="ISO 639-1 codes of the languages the reader reads in")
    profile_image: ImageUrl | None = Field(default=None, description=_IMAGE)
    background_image: ImageUrl | None = Field(default=None, description=_IMAGE)
    profile_image_variants: dict[str, ImageUrl] | None = Field(default=None, description=_VARIANTS)
    background_image_variants: dict[str, ImageUrl] | None = Field(default=None, description=_VARIANTS)
    attributes: AttributesOut
    attribute_names: dict[str, str] = Field(description="catalog name of each attribute id in attributes")
    reading_options: list[ReadingOptionOut]
    availability: AvailabilityOut
    created_at: str
    updated_at: str


class ApplicationOut(_ProfileFields):
    """A reader application: the profile being applied with, its review status and what is missing to submit it."""
    experience: Experience | None = None
    step: int | None = None
    submitted_at: str | None = None
    decided_at: str | None = None
    decline_reason: str | None = None
    submission_count: int = 0
    missing_for_submit: list[str] = Field(description="fields still needed before submitting (empty: ready)")


class ApplicationPage(ApiModel):
    """A page of reader applications, for admins."""
    data: list[ApplicationOut]
    pagination: PageInfo
    meta: PageMeta


class ReaderProfileOut(_ProfileFields, SendsNulls):
    """The reader's own profile, with their status and statistics."""
    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ("rating_average",)
    experience: Experience | None = None
    is_online: bool
    last_seen_at: str | None = None
    rating_average: float | None = Field(description=_AVERAGE)
    rating_count: int
    total_readings: int
    badges: list[str]
    # The product's PsychicReader names, beside the fields above.
    is_approved: bool = Field(default=False, description="status is approved")
    last_active: str | None = Field(default=None, description="same as lastSeenAt")
    created_date: str | None = Field(default=None, description="same as createdAt")
    stats: OwnStats | None = None
    reviews: list[ReviewSummary] = Field(default_factory=list, description="the most recent reviews (full "
                                                                             "list: /readers/{id}/reviews)")
    moderation: dict[str, ModerationStateOut] | None = Field(default=None, description=(
        "the text fields (displayName, tagline, bio, location) whose newest text, shown in the field here, "
        "moderation holds or hides: your public card keeps the field's last approved text until the new one is "
        "approved, or leaves the field out when none was (and is not shown at all while that is the name)"))
    version: int = Field(ge=1, description=(
        "raised by each PATCH /reader/profile (not by reading options, availability or online status); also its "
        "ETag: send it as If-Match to PATCH only that version (a stale one is a 409 version_mismatch)"))


class ReadingOptionsOut(ApiModel):
    """A reader's reading options."""
    reading_options: list[ReadingOptionOut]


class OnlineOut(ApiModel):
    """A reader's online status after a change."""
    is_online: bool
    last_seen_at: str
    changed: bool = Field(description="false for a heartbeat that kept the same status")


class CardStats(SendsNulls):
    """A reader's public statistics (counters kept as readings are accepted and completed)."""
    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ("average_rating", "completion_rate")
    total_readings: int = Field(description="readings completed")
    average_rating: float | None = Field(description=_AVERAGE)
    completion_rate: float | None = Field(ge=0, le=100,
                                          description="readings completed as a percentage of readings accepted, "
                                                      "one decimal; null (no data, not 0) until a reading was "
                                                      "completed")


class OwnStats(CardStats):
    """The reader's own stats: the public ones and what only the reader sees."""

    total_earnings: int = Field(description="credits earned so far, net of the platform fee (the earnings "
                                            "balance: payouts are not built yet)")


class ReviewSummary(ApiModel):
    """A recent review, as a reader card shows it."""
    id: str
    rating: int
    comment: str | None = None
    client_name: str | None = None
    created_at: str


class ReaderCard(SendsNulls):
    """``GET /readers/{readerId}``: what the frontend shows on a reader's public profile.
    ``isOnline`` and ``lastActive`` respect the reader's privacy.showOnlineStatus (hidden:
    isOnline false, no lastActive)."""
    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ("rating_average",)

    id: str
    user_id: str
    display_name: str | None = None
    tagline: str | None = None
    location: str | None = None
    languages: list[str] = Field(default_factory=list,
                                 description="ISO 639-1 codes of the languages the reader reads in")
    experience: Experience | None = Field(default=None, description="the experience the reader stated when applying")
    bio: str | None = None
    profile_image: ImageUrl | None = Field(default=None, description=_IMAGE)
    background_image: ImageUrl | None = Field(default=None, description=_IMAGE)
    profile_image_variants: dict[str, ImageUrl] | None = Field(default=None, description=_VARIANTS)
    background_image_variants: dict[str, ImageUrl] | None = Field(default=None, description=_VARIANTS)
    attributes: AttributesOut
    attribute_names: dict[str, str]
    reading_options: list[ReadingOptionOut] = Field(description="active options only")
    availability: AvailabilityOut
    is_online: bool
    last_active: str | None = None
    is_approved: bool = True
    rating_average: float | None = Field(description=_AVERAGE)
    rating_count: int
    total_readings: int
    stats: CardStats
    badges: list[str]
    reviews: list[ReviewSummary] = Field(description="the most recent reviews (full list: /readers/{id}/reviews)")
    created_at: str
    created_date: str = Field(description="same as createdAt (the PsychicReader interface's name)")
    visibility: Literal["public", "readers_only"] = Field(
        default="public", description="the reader's privacy.profileVisibility: readers_only cards are shown to "
                                      "signed-in readers and admins only (a private profile has no public card)")
