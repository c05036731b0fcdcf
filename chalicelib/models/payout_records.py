"""Reader payouts (issue 18): what the ledger's payout movements are about.

- ``Payout`` (payouts): one item per payout of a reader's payable credits to their bank,
  keyed by the payout id (also the ledger entry ``payout:<id>`` and the Stripe Transfer's
  idempotency key). Status: ``pending`` (the ledger moved the credits, the transfer is not
  created yet) -> ``paid`` (transfer created) | ``failed`` (returned: the transfer could not
  be created, or the bank refused the payout); ``paid`` -> ``reversed`` (the transfer was
  reversed: returned). ``byReader`` (readerId, createdAt) lists a reader's payouts newest
  first; ``byStatus`` (status, createdAt) the admin's list by status; ``byCreated`` (listing,
  createdAt) the admin's list of every payout (one partition: payouts are few, weekly).
- ``PayoutReader`` (payout-readers): a reader's payout state: the payout in flight
  (``lock``: one at a time, taken with a condition in the payout's transaction), an admin's
  hold and its reason, the credits paid out so far (net of returns) and the day the weekly
  job last paid them.
- ``Maturity`` (payout-maturities): one item per completed reading whose earnings are
  still inside the dispute window: the credits that mature (earnings -> payable) at
  ``dueAt``, written in the completion's transaction, reduced by a refund before then,
  deleted when they mature. ``byDue`` (dueShard, dueAt) is what the hourly job queries: the
  rows due now, in a few shards so that no index partition takes every completion.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

PENDING, PAID, FAILED, REVERSED = "pending", "paid", "failed", "reversed"
STATUSES = (PENDING, PAID, FAILED, REVERSED)
EVERY_PAYOUT = "payout"  # the byCreated index's one partition key
DUE_SHARDS = 8


class PayoutsByReader(GlobalSecondaryIndex["Payout"]):
    class Meta:
        index_name = "byReader"
        projection = AllProjection()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class PayoutsByStatus(GlobalSecondaryIndex["Payout"]):
    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class PayoutsByCreated(GlobalSecondaryIndex["Payout"]):
    class Meta:
        index_name = "byCreated"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class Payout(Model):
    class Meta:
        table_name = table_name("payouts")
        region = region()

    payout_id = UnicodeAttribute(hash_key=True, attr_name="payoutId")
    reader_id = UnicodeAttribute(attr_name="readerId")
    credits = NumberAttribute()
    amount_minor = NumberAttribute(attr_name="amountMinor")  # credits x the payout value of a credit
    currency = UnicodeAttribute()
    destination = UnicodeAttribute()  # the reader's Stripe Connect account ("acct_...")
    status = UnicodeAttribute(default=PENDING)
    source = UnicodeAttribute()  # request (POST /reader/payouts) | schedule (the weekly job)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    # When the transfer was sent (kept if the payout later fails or is reversed); stored as paidAt.
    sent_at = UnicodeAttribute(null=True, attr_name="paidAt")
    returned_at = UnicodeAttribute(null=True, attr_name="returnedAt")
    transfer_id = UnicodeAttribute(null=True, attr_name="transferId")  # "tr_..."
    failure_reason = UnicodeAttribute(null=True, attr_name="failureReason")  # a sentence the reader reads

    by_reader = PayoutsByReader()
    by_status = PayoutsByStatus()
    listing = UnicodeAttribute(default=EVERY_PAYOUT)  # every payout, for byCreated
    by_created = PayoutsByCreated()


class PayoutReader(Model):
    class Meta:
        table_name = table_name("payout-readers")
        region = region()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    lock = UnicodeAttribute(null=True)  # the payout in flight (pending), if any
    held = BooleanAttribute(null=True)  # True while an admin holds this reader's payouts; removed on release
    hold_reason = UnicodeAttribute(null=True, attr_name="holdReason")
    held_by = UnicodeAttribute(null=True, attr_name="heldBy")
    held_at = UnicodeAttribute(null=True, attr_name="heldAt")
    paid_out_credits = NumberAttribute(default=0, attr_name="paidOutCredits")  # net of returned payouts
    last_scheduled_on = UnicodeAttribute(null=True, attr_name="lastScheduledOn")  # YYYY-MM-DD (UTC)
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")


class MaturitiesByDue(GlobalSecondaryIndex["Maturity"]):
    class Meta:
        index_name = "byDue"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True, attr_name="dueShard")
    due_at = UnicodeAttribute(range_key=True, attr_name="dueAt")


class Maturity(Model):
    class Meta:
        table_name = table_name("payout-maturities")
        region = region()

    reading_id = UnicodeAttribute(hash_key=True, attr_name="readingId")
    reader_id = UnicodeAttribute(attr_name="readerId")
    credits = NumberAttribute()  # what matures: the reader's share, less what a refund took back
    due_at = UnicodeAttribute(attr_name="dueAt")  # the reading's completion + the dispute window
    due_shard = UnicodeAttribute(attr_name="dueShard")  # "0".."7", by the reading id
    completed_at = UnicodeAttribute(attr_name="completedAt")

    by_due = MaturitiesByDue()
