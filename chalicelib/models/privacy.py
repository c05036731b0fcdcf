"""The ``privacy`` table: data exports and account erasures, one partition per user.

* ``sk = export#<exportId>`` (``DataExport``): one export request, its state and, once
  built, the S3 key of its file and until when it may be downloaded. ``expiresAt`` (TTL)
  removes the record some weeks after the file is gone.
* ``sk = lock#export`` (``ExportLock``): the export in progress. Taking it is the
  conditional put that makes "one export at a time per user" hold under concurrent
  requests; the job removes it when it finishes.
* ``sk = erasure`` (``Erasure``): a deleted account's erasure: when and how the account was
  deleted, when it is purged, and when it was. While the purge is due the item carries
  ``purgeDue`` (the sparse, keys-only ``purgeDue`` index, ranged by ``purgeAt``): the purge
  job Queries it for what is due instead of reading every user. The purge removes
  ``purgeDue`` once nothing is left to erase outside our tables either (``externalPending``:
  the Clerk user, Stripe customers); the item stays as the record that the erasure happened
  (ids and times only).

* ``sk = suggested#<statusId>`` (``SuggestionTrace``): a reader suggested a reading for that
  status (written with the suggestion, services/statuses/suggestions.py). Suggestions live in
  their status's item, which no index finds by reader: the purge of a deleted reader Queries
  these (one partition) to scrub every suggestion they made, on statuses active or not, and
  deletes them. Ids only.

* ``sk = consent#<at>#<changeId>`` (``ConsentChange``): one change of one of the user's
  consents (marketing, analytics, thirdParty), append-only: given or withdrawn, under which
  privacy policy version, when, and where (``source``). Written in the transaction that
  changes the consent (services/consent_history.py); a Query of the partition's ``consent#``
  keys lists them; the purge deletes them.

``Erasure`` is the model the registry lists for the table (it declares the index).
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

EXPORT_PREFIX = "export#"
EXPORT_LOCK_SK = "lock#export"
ERASURE_SK = "erasure"
PURGE_DUE = "due"
SUGGESTED_PREFIX = "suggested#"
CONSENT_PREFIX = "consent#"


class DataExport(Model):
    class Meta:
        table_name = table_name("privacy")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)
    export_id = UnicodeAttribute(attr_name="exportId")
    state = UnicodeAttribute()  # pending | ready (expired and failed are derived: domain.privacy.export_state)
    requested_at = UnicodeAttribute(attr_name="requestedAt")
    ready_at = UnicodeAttribute(null=True, attr_name="readyAt")
    available_until = UnicodeAttribute(null=True, attr_name="availableUntil")
    object_key = UnicodeAttribute(null=True, attr_name="objectKey")
    size_bytes = NumberAttribute(null=True, attr_name="sizeBytes")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # DynamoDB TTL (epoch seconds)

    @staticmethod
    def key_of(export_id: str) -> str:
        return EXPORT_PREFIX + export_id


class ExportLock(Model):
    class Meta:
        table_name = table_name("privacy")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=EXPORT_LOCK_SK)
    export_id = UnicodeAttribute(attr_name="exportId")
    since = UnicodeAttribute()


class PurgeDueIndex(GlobalSecondaryIndex["Erasure"]):
    class Meta:
        index_name = "purgeDue"
        projection = KeysOnlyProjection()

    purge_due = UnicodeAttribute(hash_key=True, attr_name="purgeDue")
    purge_at = UnicodeAttribute(range_key=True, attr_name="purgeAt")


class Erasure(Model):
    class Meta:
        table_name = table_name("privacy")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True, default=ERASURE_SK)
    source = UnicodeAttribute()  # self (DELETE /me) | clerk (Clerk's user.deleted)
    deleted_at = UnicodeAttribute(attr_name="deletedAt")
    purge_at = UnicodeAttribute(attr_name="purgeAt")
    purge_due = UnicodeAttribute(null=True, attr_name="purgeDue")  # sparse: "due" until purged
    purged_at = UnicodeAttribute(null=True, attr_name="purgedAt")
    # The statuses a deleted reader had active suggestions on (withdrawn at deletion): the
    # purge removes the reader's name from them (statuses have no index by suggester).
    suggested_on = UnicodeSetAttribute(null=True, attr_name="suggestedOn")
    # Purges that failed (the job logs each): a failed purge's ``purgeAt`` moves later (see
    # services/privacy/erasure.py ``postpone``), so it never stalls the others at the head of the index.
    attempts = NumberAttribute(null=True)
    last_failed_at = UnicodeAttribute(null=True, attr_name="lastFailedAt")
    # The account's display name at its deletion (Clerk's deletion removes it from the user item
    # at once): what the purge looks for in other users' text. The purge removes it.
    names = UnicodeSetAttribute(null=True)
    # What the purge has still to erase outside our tables ("clerk", "stripe:<customerId>"; see
    # services/privacy/external.py): while any is left the erasure keeps ``purgeDue``, so the job
    # retries it (the tables are not purged again). Each leaves the set once done.
    external_pending = UnicodeSetAttribute(null=True, attr_name="externalPending")

    purge_due_index = PurgeDueIndex()


class SuggestionTrace(Model):
    """A reader suggested a reading for ``statusId`` (ids only; see the module docstring)."""

    class Meta:
        table_name = table_name("privacy")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")  # the reader
    sk = UnicodeAttribute(range_key=True)  # suggested#<statusId>

    @staticmethod
    def of(reader_id: str, status_id: str) -> SuggestionTrace:
        return SuggestionTrace(user_id=reader_id, sk=SUGGESTED_PREFIX + status_id)

    @property
    def status_id(self) -> str:
        return self.sk.removeprefix(SUGGESTED_PREFIX)


class ConsentChange(Model):
    """One change of a consent (see the module docstring): written once, never updated."""

    class Meta:
        table_name = table_name("privacy")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    sk = UnicodeAttribute(range_key=True)  # consent#<at>#<changeId>: oldest first
    consent = UnicodeAttribute()  # marketing | analytics | thirdParty
    granted = BooleanAttribute()
    consent_version = UnicodeAttribute(null=True, attr_name="consentVersion")  # the privacy policy in force
    consent_date = UnicodeAttribute(attr_name="consentDate")
    source = UnicodeAttribute()  # settings | signup | onboarding | preferences

    @staticmethod
    def key(at: str, change_id: str) -> str:
        return f"{CONSENT_PREFIX}{at}#{change_id}"
