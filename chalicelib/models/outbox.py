from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

PENDING = "pending"


class PendingEvents(GlobalSecondaryIndex["OutboxEvent"]):
    """Sparse: only events not yet relayed carry ``pending``; the sweeper Queries it."""

    class Meta:
        index_name = "pendingEvents"
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class OutboxEvent(Model):
    """A domain event, written in the same transaction as the state change it reports."""

    class Meta:
        table_name = table_name("outbox")
        region = region()

    event_id = UnicodeAttribute(hash_key=True, attr_name="eventId")
    event_type = UnicodeAttribute(attr_name="type")
    data: MapAttribute[str, Any] = MapAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    pending = UnicodeAttribute(null=True)
    relayed_at = UnicodeAttribute(null=True, attr_name="relayedAt")
    expires_at = NumberAttribute(attr_name="expiresAt")  # DynamoDB TTL (epoch seconds)
    # The story it belongs to (chalicelib/logs.py): the id of the API request, consumed message
    # or scheduled run that emitted it; the relay carries it into the queue message.
    correlation_id = UnicodeAttribute(null=True, attr_name="correlationId")

    pending_events = PendingEvents()
