from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class ProcessedWebhook(Model):
    """One item per delivered webhook event id (``<source>#<id>``), written with a
    permanent conditional put: a replay, even days later, finds it and does nothing."""

    class Meta:
        table_name = table_name("webhook-events")
        region = region()

    event_key = UnicodeAttribute(hash_key=True, attr_name="eventKey")
    source = UnicodeAttribute()
    event_type = UnicodeAttribute(attr_name="type")
    received_at = UnicodeAttribute(attr_name="receivedAt")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # TTL only where a source allows
    # Sources that claim before acting (email: "sending" while SES is called, then "sent").
    state = UnicodeAttribute(null=True)
