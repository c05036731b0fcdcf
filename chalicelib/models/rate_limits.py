"""The ``rate-limits`` table: one counter per route class, caller and window.

``counterKey`` is ``<class>#<subject>#<window seconds>:<window start>`` (chalicelib/domain/
limits.py): a new window is a new item, so nothing ever resets a counter, and every item
expires by TTL (``expiresAt``) a minute after its window ends.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class RateLimitCounter(Model):
    class Meta:
        table_name = table_name("rate-limits")
        region = region()

    counter_key = UnicodeAttribute(hash_key=True, attr_name="counterKey")
    # Requests admitted in the window, stored as "count" (`Model.count` is a method).
    admitted = NumberAttribute(null=True, attr_name="count")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # TTL, epoch seconds
