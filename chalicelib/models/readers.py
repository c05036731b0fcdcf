from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class ReadersByStatus(GlobalSecondaryIndex["ReaderProfile"]):
    """Application queue and approved roster: Query by status, oldest submission first."""

    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    submitted_at = UnicodeAttribute(range_key=True, attr_name="submittedAt")


class OnlineReaders(GlobalSecondaryIndex["ReaderProfile"]):
    """Sparse: only online readers carry ``onlineFlag``; the presence job Queries it for
    heartbeats older than the timeout, the explore overlay for who is online. Keys only
    (readerId, onlineFlag, lastSeenAt): all either reads, so its Query pages stay small."""

    class Meta:
        index_name = "onlineReaders"
        projection = KeysOnlyProjection()

    online_flag = UnicodeAttribute(hash_key=True, attr_name="onlineFlag")
    last_seen_at = UnicodeAttribute(range_key=True, attr_name="lastSeenAt")


class ReaderProfile(Model):
    """A reader's profile; while ``status`` is draft/pending/declined it is the application."""

    class Meta:
        table_name = table_name("readers")
        region = region()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    status = UnicodeAttribute(default="draft")  # draft | pending | approved | declined | suspended | deleted
    display_name = UnicodeAttribute(null=True, attr_name="displayName")
    tagline = UnicodeAttribute(null=True)
    bio = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    languages: ListAttribute[Any] = ListAttribute(null=True)  # ISO 639-1 codes the reader reads in
    profile_image = UnicodeAttribute(null=True, attr_name="profileImage")
    background_image = UnicodeAttribute(null=True, attr_name="backgroundImage")
    # Set by the media job: {"uploadId": ..., "96": key, "256": key, "768": key} (WebP variants).
    profile_image_variants: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="profileImageVariants")
    background_image_variants: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="backgroundImageVariants")
    attributes: MapAttribute[str, Any] = MapAttribute(null=True)  # {tools: [...], abilities: [...], style: "..."}
    # {attributeId: name} for the ids in ``attributes``, copied from the catalog when they are
    # written, so the public card needs no catalog read.
    attribute_names: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="attributeNames")
    reading_options: ListAttribute[Any] = ListAttribute(null=True, attr_name="readingOptions")
    availability: MapAttribute[str, Any] = MapAttribute(null=True)  # {schedule, timezone, instantBooking}
    is_online = BooleanAttribute(default=False, attr_name="isOnline")
    online_flag = UnicodeAttribute(null=True, attr_name="onlineFlag")  # "online" while online, else absent
    last_seen_at = UnicodeAttribute(null=True, attr_name="lastSeenAt")
    rating_average = NumberAttribute(default=0, attr_name="ratingAverage")
    rating_count = NumberAttribute(default=0, attr_name="ratingCount")
    # Counters kept by the reader_stats event consumers (ReaderCounters writes them).
    total_readings = NumberAttribute(default=0, attr_name="totalReadings")
    accepted_count = NumberAttribute(null=True, attr_name="acceptedCount")
    completed_count = NumberAttribute(null=True, attr_name="completedCount")
    badges: ListAttribute[Any] = ListAttribute(null=True)
    # The few newest reviews, kept on the profile by the review writer so the public card stays
    # one read; the full list is GET /readers/{readerId}/reviews.
    recent_reviews: ListAttribute[Any] = ListAttribute(null=True, attr_name="recentReviews")
    # Moderation of the public text fields (services/moderation): "held:<itemId>" or
    # "hidden:<itemId>"; the public card masks such a field (and is withheld when it is the name),
    # unless a pending text below is what the mark is about.
    display_name_moderation = UnicodeAttribute(null=True, attr_name="displayNameModeration")
    tagline_moderation = UnicodeAttribute(null=True, attr_name="taglineModeration")
    bio_moderation = UnicodeAttribute(null=True, attr_name="bioModeration")
    location_moderation = UnicodeAttribute(null=True, attr_name="locationModeration")
    # An approved profile's edit moderation holds waits here while the public keeps the last
    # approved text in the field itself; approving moves it there. While one is present, the
    # field's ``*Moderation`` describes it (held, or hidden once rejected), not the public text.
    pending_display_name = UnicodeAttribute(null=True, attr_name="pendingDisplayName")
    pending_tagline = UnicodeAttribute(null=True, attr_name="pendingTagline")
    pending_bio = UnicodeAttribute(null=True, attr_name="pendingBio")
    pending_location = UnicodeAttribute(null=True, attr_name="pendingLocation")
    # Application-only fields.
    experience = UnicodeAttribute(null=True)  # beginner | intermediate | expert
    application_step = NumberAttribute(null=True, attr_name="applicationStep")  # the form step reached
    submission_count = NumberAttribute(null=True, attr_name="submissionCount")
    decided_by = UnicodeAttribute(null=True, attr_name="decidedBy")
    submitted_at = UnicodeAttribute(null=True, attr_name="submittedAt")
    decided_at = UnicodeAttribute(null=True, attr_name="decidedAt")
    decline_reason = UnicodeAttribute(null=True, attr_name="declineReason")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = VersionAttribute()
    # The version of what PATCH /reader/profile edits (its ETag; services/versions.py): raised by
    # each such edit only, where ``version`` above moves with every write (heartbeats, ratings).
    profile_version = NumberAttribute(null=True, attr_name="profileVersion")

    by_status = ReadersByStatus()
    online_readers = OnlineReaders()


# The moderation attribute of each public text field (wire name -> model attribute name).
MODERATED_FIELDS = {"displayName": "display_name_moderation", "tagline": "tagline_moderation",
                    "bio": "bio_moderation", "location": "location_moderation"}
# The pending text of each public text field (wire name -> model attribute name).
PENDING_FIELDS = {"displayName": "pending_display_name", "tagline": "pending_tagline",
                  "bio": "pending_bio", "location": "pending_location"}


class ReaderCounters(Model):
    """The counters of a ``ReaderProfile`` item, without its version: the event consumers
    ADD to them without raising the profile's version, so a counter never makes a
    concurrent edit or review of the profile retry or 409. Not a table of its own (the
    registry lists ReaderProfile for the readers table)."""

    class Meta:
        table_name = table_name("readers")
        region = region()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    total_readings = NumberAttribute(null=True, attr_name="totalReadings")
    accepted_count = NumberAttribute(null=True, attr_name="acceptedCount")
    completed_count = NumberAttribute(null=True, attr_name="completedCount")
