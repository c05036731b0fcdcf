"""Insights storage: counters kept incrementally from the event stream, and the analytics
events clients send.

``metrics`` (pk, sk), one item per (owner, bucket):
- ``reader#<readerId>``: ``day#<YYYY-MM-DD>`` (the reader's local date; counters of that
  day), ``total`` (all-time counters), ``client#<clientId>`` (readings with that client, for
  repeat clients), ``badge#<attributeId>`` (the tier awarded), ``warning#<kind>`` (quality).
- ``platform#<shard>``: ``day#<YYYY-MM-DD>`` (UTC) platform counters, sharded to spread writes.
Counters are top-level number attributes named by the services (``completed``,
``completed:tarot``...), written with ADD through the low-level client (services/metrics);
this model names only the fixed attributes. ``attention``/``attentionAt`` (sparse) mark a
reader whose insights (badges, quality) need a new evaluation: the ``reader_insights`` job
Queries the keys-only ``attention`` index instead of every reader.

``analytics``: pk ``<YYYY-MM-DD>#<shard>``, sk ``<timestamp>#<eventId>``; TTL ``expiresAt``.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class NeedsAttention(GlobalSecondaryIndex["MetricItem"]):
    class Meta:
        index_name = "attention"
        projection = KeysOnlyProjection()

    attention = UnicodeAttribute(hash_key=True)
    attention_at = UnicodeAttribute(range_key=True, attr_name="attentionAt")


class MetricItem(Model):
    class Meta:
        table_name = table_name("metrics")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    attention = UnicodeAttribute(null=True)
    attention_at = UnicodeAttribute(null=True, attr_name="attentionAt")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")

    needs_attention = NeedsAttention()


class AnalyticsByUser(GlobalSecondaryIndex["AnalyticsEvent"]):
    """Sparse, keys only: the events a signed-in user sent (anonymous ones carry no ``userId``),
    so an account's erasure and its data export find them without reading the table."""

    class Meta:
        index_name = "byUser"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)


class AnalyticsEvent(Model):
    class Meta:
        table_name = table_name("analytics")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True, attr_name="userId")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")

    by_user = AnalyticsByUser()
