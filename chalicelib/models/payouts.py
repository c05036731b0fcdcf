"""Readers' payout accounts: the Stripe Connect (Express) account each reader is paid to.

``PayoutAccountItem``: one item per reader (``readerId``), created once by the first
``POST /reader/payout-account`` (a conditional put: concurrent starts keep one account) and
kept current by Stripe's signed ``account.updated`` events. ``eventCreated`` is the
``created`` (unix seconds) of the newest event applied: an older or replayed event is
refused by the condition of the update, so events applied in any order leave the newest.

``status`` is derived from Stripe's account: ``enabled`` (payouts enabled), ``restricted``
(details submitted but Stripe holds payouts, or requirements past due) or ``pending``
(onboarding not finished). The ``byStatus`` index (``status``, ``readerId``) lists the
enabled accounts for the payout job, one Query per page, never a Scan; ``byAccount``
(``accountId``, keys only) finds the reader of an account whose event carries no metadata.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

STATUS_PENDING = "pending"
STATUS_ENABLED = "enabled"
STATUS_RESTRICTED = "restricted"


class PayoutAccountsByStatus(GlobalSecondaryIndex["PayoutAccountItem"]):
    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    reader_id = UnicodeAttribute(range_key=True, attr_name="readerId")


class PayoutAccountsByAccount(GlobalSecondaryIndex["PayoutAccountItem"]):
    class Meta:
        index_name = "byAccount"
        projection = KeysOnlyProjection()

    account_id = UnicodeAttribute(hash_key=True, attr_name="accountId")


class PayoutAccountItem(Model):
    class Meta:
        table_name = table_name("payout-accounts")
        region = region()

    reader_id = UnicodeAttribute(hash_key=True, attr_name="readerId")
    account_id = UnicodeAttribute(attr_name="accountId")  # "acct_..."
    status = UnicodeAttribute(default=STATUS_PENDING)  # pending | enabled | restricted
    details_submitted = BooleanAttribute(default=False, attr_name="detailsSubmitted")
    payouts_enabled = BooleanAttribute(default=False, attr_name="payoutsEnabled")
    requirements_due: ListAttribute[str] = ListAttribute(default=list, attr_name="requirementsDue")
    disabled_reason = UnicodeAttribute(null=True, attr_name="disabledReason")
    event_created = NumberAttribute(default=0, attr_name="eventCreated")  # newest account.updated applied
    event_id = UnicodeAttribute(null=True, attr_name="eventId")  # that event's id
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")

    by_status = PayoutAccountsByStatus()
    by_account = PayoutAccountsByAccount()
