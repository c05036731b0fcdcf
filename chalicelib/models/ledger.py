"""The credits ledger: an append-only journal and the balances it moves.

- ``LedgerEntry`` (ledger-entries): one item per movement, keyed by a deterministic id
  (``purchase:<checkout session>``, ``hold:<reading>``...) and written with a conditional
  put, so a retried movement cannot apply twice. It lists every posting; postings sum to 0.
- ``LedgerLine`` (ledger-lines): a user's view of an entry (what it changed on their
  accounts), for ``GET /credits`` history: one Query, newest first. A line that moved the
  user's earnings account also carries ``earner`` (the same user id), which puts it in the
  sparse ``byEarner`` index: a reader's earnings lines, newest first, without the lines of
  their own bookings as a client (``GET /reader/earnings``).
- ``SystemAccount`` (ledger-accounts): platform and external accounts, sharded so that
  every purchase or capture does not contend on one item; the balance is the sum of the
  shards (one Query).

User accounts (available, held, earnings, receivable) are attributes of the user item
(models.users.User), so ``GET /me`` reads balances without touching the journal.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class Posting(MapAttribute[str, Any]):
    account = UnicodeAttribute()
    amount = NumberAttribute()


class LedgerEntry(Model):
    class Meta:
        table_name = table_name("ledger-entries")
        region = region()

    entry_id = UnicodeAttribute(hash_key=True, attr_name="entryId")
    kind = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    postings = ListAttribute(of=Posting)
    ref = UnicodeAttribute(null=True)
    memo = UnicodeAttribute(null=True)
    shard = NumberAttribute(default=0)


class LedgerLinesByEarner(GlobalSecondaryIndex["LedgerLine"]):
    """Sparse: only the lines that moved their owner's earnings (``earner`` is set on those alone)."""

    class Meta:
        index_name = "byEarner"
        projection = AllProjection()

    earner = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LedgerLine(Model):
    class Meta:
        table_name = table_name("ledger-lines")
        region = region()

    owner = UnicodeAttribute(hash_key=True)  # user id
    sk = UnicodeAttribute(range_key=True)  # "<createdAt>#<entryId>": newest first with ScanIndexForward=False
    entry_id = UnicodeAttribute(attr_name="entryId")
    kind = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    changes: MapAttribute[str, Any] = MapAttribute()  # {"available": -10, "held": 10, ...}
    ref = UnicodeAttribute(null=True)
    memo = UnicodeAttribute(null=True)
    earner = UnicodeAttribute(null=True)  # the owner, on lines that changed their earnings only

    by_earner = LedgerLinesByEarner()


class SystemAccount(Model):
    class Meta:
        table_name = table_name("ledger-accounts")
        region = region()

    account = UnicodeAttribute(hash_key=True)  # "platform:revenue", "external:stripe", ...
    shard = NumberAttribute(range_key=True)
    balance = NumberAttribute(default=0)
