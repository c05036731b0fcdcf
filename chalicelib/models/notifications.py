"""In-app notifications: one partition per user in the notifications table.

* A row per notification: ``sk`` = ``<occurredAt>#<eventId>#<type>`` (deterministic, so a
  redelivered event writes nothing twice; sorts by time, so the partition reads newest first
  with ``ScanIndexForward=false``). ``expiresAt`` (epoch seconds) is the table's TTL.
* The counter item, ``sk`` = ``~counter`` ("~" sorts after every row, so a newest-first Query
  meets it first): ``unreadCount``, ``readAllBefore`` (the read-all watermark: every row whose
  ``sk`` is at or below it is read), ``readAllAt`` (when the last read-all happened) and
  ``seq`` (how many rows were ever counted: read-all's optimistic check). It never expires.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

COUNTER_SK = "~counter"


class Notification(Model):
    """A notification row or the user's counter item (see the module docstring)."""

    class Meta:
        table_name = table_name("notifications")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)
    # Rows.
    type = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    related_id = UnicodeAttribute(null=True, attr_name="relatedId")
    action_url = UnicodeAttribute(null=True, attr_name="actionUrl")
    event_id = UnicodeAttribute(null=True, attr_name="eventId")
    created_date = UnicodeAttribute(null=True, attr_name="createdDate")  # the event's occurredAt
    delivered_at = UnicodeAttribute(null=True, attr_name="deliveredAt")
    read_at = UnicodeAttribute(null=True, attr_name="readAt")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # DynamoDB TTL (epoch seconds)
    # The counter item.
    unread_count = NumberAttribute(null=True, attr_name="unreadCount")
    read_all_before = UnicodeAttribute(null=True, attr_name="readAllBefore")
    read_all_at = UnicodeAttribute(null=True, attr_name="readAllAt")
    seq = NumberAttribute(null=True)

    @property
    def is_counter(self) -> bool:
        return self.sk == COUNTER_SK
