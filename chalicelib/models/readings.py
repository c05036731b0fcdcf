"""Readings, the reader's booked time slots, and reviews.

A reading's lists are sparse GSI keys kept by every transition: ``clientTab`` /
``readerTab`` = ``<userId>#<tab>`` (requested | accepted | archived), so each tab of
``GET /readings`` is one Query, newest first. ``timer``/``timerAt`` (one pending deadline
at a time: respond-by, reminder, delivery due) feed the scheduled job through the sparse
``timers`` index; ``disputeFlag`` lists open disputes for admins.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class ReadingsByClientTab(GlobalSecondaryIndex["Reading"]):
    class Meta:
        index_name = "byClientTab"
        projection = AllProjection()

    client_tab = UnicodeAttribute(hash_key=True, attr_name="clientTab")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class ReadingsByReaderTab(GlobalSecondaryIndex["Reading"]):
    class Meta:
        index_name = "byReaderTab"
        projection = AllProjection()

    reader_tab = UnicodeAttribute(hash_key=True, attr_name="readerTab")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class ReadingTimers(GlobalSecondaryIndex["Reading"]):
    class Meta:
        index_name = "timers"
        projection = KeysOnlyProjection()

    timer = UnicodeAttribute(hash_key=True)
    timer_at = UnicodeAttribute(range_key=True, attr_name="timerAt")


class OpenDisputes(GlobalSecondaryIndex["Reading"]):
    class Meta:
        index_name = "openDisputes"
        projection = AllProjection()

    dispute_flag = UnicodeAttribute(hash_key=True, attr_name="disputeFlag")
    disputed_at = UnicodeAttribute(range_key=True, attr_name="disputedAt")


class Reading(Model):
    class Meta:
        table_name = table_name("readings")
        region = region()

    reading_id = UnicodeAttribute(hash_key=True, attr_name="readingId")
    client_id = UnicodeAttribute(attr_name="clientId")
    reader_id = UnicodeAttribute(attr_name="readerId")
    status = UnicodeAttribute()
    topic_id = UnicodeAttribute(attr_name="topicId")
    topic = UnicodeAttribute()  # the topic's name when booked
    question = UnicodeAttribute(null=True)
    reading_option: MapAttribute[str, Any] = MapAttribute(attr_name="readingOption")  # the option as booked
    duration = NumberAttribute()  # minutes booked
    pricing: MapAttribute[str, Any] = MapAttribute()  # {rate, minutes, multiplier, total} as strings/ints
    credits_cost = NumberAttribute(attr_name="creditsCost")
    schedule = UnicodeAttribute()  # immediate | scheduled
    scheduled_start = UnicodeAttribute(null=True, attr_name="scheduledStart")
    scheduled_end = UnicodeAttribute(null=True, attr_name="scheduledEnd")
    respond_by = UnicodeAttribute(null=True, attr_name="respondBy")
    delivery_due_at = UnicodeAttribute(null=True, attr_name="deliveryDueAt")
    slots = NumberAttribute(default=0)  # how many 5-minute slot locks the reading holds
    request_fingerprint = UnicodeAttribute(null=True, attr_name="requestFingerprint")

    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    accepted_at = UnicodeAttribute(null=True, attr_name="acceptedAt")
    started_at = UnicodeAttribute(null=True, attr_name="startedAt")
    completed_at = UnicodeAttribute(null=True, attr_name="completedAt")
    closed_at = UnicodeAttribute(null=True, attr_name="closedAt")  # declined/cancelled/expired/refunded
    closed_by = UnicodeAttribute(null=True, attr_name="closedBy")
    close_reason = UnicodeAttribute(null=True, attr_name="closeReason")
    no_show = UnicodeAttribute(null=True, attr_name="noShow")  # client | reader

    delivery: MapAttribute[str, Any] = MapAttribute(null=True)
    # A call's or live video's meeting, made on the first join (services/readings/joining.py).
    meeting: MapAttribute[str, Any] = MapAttribute(null=True)
    review: MapAttribute[str, Any] = MapAttribute(null=True)
    dispute: MapAttribute[str, Any] = MapAttribute(null=True)
    paid_out = NumberAttribute(default=0, attr_name="paidOut")  # credits paid to the reader (net)
    fee = NumberAttribute(default=0)  # the platform fee taken at payout
    refunded = NumberAttribute(default=0)  # credits refunded to the client after capture

    client_tab = UnicodeAttribute(null=True, attr_name="clientTab")
    reader_tab = UnicodeAttribute(null=True, attr_name="readerTab")
    timer = UnicodeAttribute(null=True)
    timer_at = UnicodeAttribute(null=True, attr_name="timerAt")
    dispute_flag = UnicodeAttribute(null=True, attr_name="disputeFlag")
    disputed_at = UnicodeAttribute(null=True, attr_name="disputedAt")
    version = VersionAttribute()

    by_client_tab = ReadingsByClientTab()
    by_reader_tab = ReadingsByReaderTab()
    timers = ReadingTimers()
    open_disputes = OpenDisputes()


class ReadingMeeting(Model):
    """The live-session part of a reading's item: the same table and key as ``Reading``,
    without its version. Joining writes the meeting through it (services/readings/joining.py),
    conditional on the meeting alone, so a join never moves the version a concurrent
    transition (start, complete...) is conditional on."""

    class Meta:
        table_name = table_name("readings")
        region = region()

    reading_id = UnicodeAttribute(hash_key=True, attr_name="readingId")
    status = UnicodeAttribute(null=True)
    meeting: MapAttribute[str, Any] = MapAttribute(null=True)
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")


class ReadingSlot(Model):
    """One reader's 5-minute slot taken by a scheduled reading: a conditional put per slot
    in the booking transaction is what makes double-booking impossible."""

    class Meta:
        table_name = table_name("reading-slots")
        region = region()

    slot_key = UnicodeAttribute(hash_key=True, attr_name="slotKey")  # "<readerId>#<slot start, UTC ISO>"
    reading_id = UnicodeAttribute(attr_name="readingId")
    expires_at = NumberAttribute(attr_name="expiresAt")  # TTL: a day after the slot


class Review(Model):
    class Meta:
        table_name = table_name("reviews")
        region = region()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    sk = UnicodeAttribute(range_key=True)  # "<createdAt>#<readingId>": newest first
    reading_id = UnicodeAttribute(attr_name="readingId")
    client_id = UnicodeAttribute(attr_name="clientId")
    client_name = UnicodeAttribute(null=True, attr_name="clientName")
    rating = NumberAttribute()
    comment = UnicodeAttribute(default="")
    topic = UnicodeAttribute(null=True)
    reading_type = UnicodeAttribute(null=True, attr_name="readingType")
    created_at = UnicodeAttribute(attr_name="createdAt")
    # held | hidden (services/moderation): such a review is stored under ``hidden_reviews_key``,
    # out of the reader's public list, and counts in no rating.
    moderation = UnicodeAttribute(null=True)


def hidden_reviews_key(reader_id: str) -> str:
    """The partition of a reader's reviews that moderation holds or hides."""
    return f"hidden#{reader_id}"
