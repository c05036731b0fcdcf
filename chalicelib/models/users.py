from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.domain.accounts import search_key, search_prefix
from chalicelib.models.base import region, table_name


class UsersByRole(GlobalSecondaryIndex["User"]):
    class Meta:
        index_name = "byRole"
        projection = AllProjection()

    role = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class UsersByStatus(GlobalSecondaryIndex["User"]):
    """Users by status, newest first: the admin's suspended list, and the suspension-expiry job."""

    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class UsersByEmail(GlobalSecondaryIndex["User"]):
    """The admin's search by the beginning of an email: the partition is its first characters
    (``domain.accounts.search_prefix``), the range the whole lowercased email."""

    class Meta:
        index_name = "byEmail"
        projection = AllProjection()

    search_email_prefix = UnicodeAttribute(hash_key=True, attr_name="searchEmailPrefix")
    search_email = UnicodeAttribute(range_key=True, attr_name="searchEmail")


class UsersByName(GlobalSecondaryIndex["User"]):
    """The admin's search by the beginning of a display name (as ``UsersByEmail``)."""

    class Meta:
        index_name = "byName"
        projection = AllProjection()

    search_name_prefix = UnicodeAttribute(hash_key=True, attr_name="searchNamePrefix")
    search_name = UnicodeAttribute(range_key=True, attr_name="searchName")


class User(Model):
    """No VersionAttribute: every write states its own condition (role changes on the
    current role, balances on their floor), so unrelated writes never conflict."""

    class Meta:
        table_name = table_name("users")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    email = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True, attr_name="displayName")
    image_url = UnicodeAttribute(null=True, attr_name="imageUrl")
    role = UnicodeAttribute(default="client")
    # active | suspended | deleted. "deleted" (DELETE /me or Clerk's user.deleted) is terminal: the item stays
    # as a tombstone so the subject is never provisioned again and late webhooks cannot revive it.
    status = UnicodeAttribute(default="active")
    # While suspended (services.accounts): why, since when, by which admin, and until when (None:
    # until an admin reinstates). Past ``suspendedUntil`` the account counts as active at once
    # (domain.accounts.effective_status); the suspension_expiry job then writes it back.
    suspension_reason = UnicodeAttribute(null=True, attr_name="suspensionReason")
    suspended_at = UnicodeAttribute(null=True, attr_name="suspendedAt")
    suspended_by = UnicodeAttribute(null=True, attr_name="suspendedBy")
    suspended_until = UnicodeAttribute(null=True, attr_name="suspendedUntil")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    last_login_at = UnicodeAttribute(null=True, attr_name="lastLoginAt")
    # Balances live on the account item so reading them never sums history (DESIGN.md);
    # only the ledger service writes them.
    credits_available = NumberAttribute(default=0, attr_name="creditsAvailable")
    credits_held = NumberAttribute(default=0, attr_name="creditsHeld")
    # A reader's earnings account (credits paid for completed readings, net of the fee).
    credits_earnings = NumberAttribute(default=0, attr_name="creditsEarnings")
    # A reader's payable account: earnings whose reading's dispute window closed, available
    # for a payout to their bank (issue 18: services/payouts/); earnings above stay pending.
    credits_payable = NumberAttribute(default=0, attr_name="creditsPayable")
    # Receivable: never positive; negative when a refund or chargeback reversed credits the
    # user had already spent. While it is below zero the user cannot book readings, and the
    # next grant pays it down first.
    credits_receivable = NumberAttribute(default=0, attr_name="creditsReceivable")
    preferences: MapAttribute[str, Any] = MapAttribute(null=True)  # raw map, validated by schemas.me.Preferences
    # Raised by one on every write of the preferences (optimistic locking: a PUT may name the
    # version it read); absent until they are first saved.
    preferences_version = NumberAttribute(null=True, attr_name="preferencesVersion")
    # The current subscription as GET /me shows it, so /me stays one GetItem: written only by
    # payments.subscriptions, in the same transaction as the subscription record. Its status
    # and Stripe's creation time decide which of two subscriptions' events may replace it.
    subscription_id = UnicodeAttribute(null=True, attr_name="subscriptionId")
    subscription_status = UnicodeAttribute(null=True, attr_name="subscriptionStatus")
    subscription_created_at = UnicodeAttribute(null=True, attr_name="subscriptionCreatedAt")
    age_verified_at = UnicodeAttribute(null=True, attr_name="ageVerifiedAt")
    age_verification_method = UnicodeAttribute(null=True, attr_name="ageVerificationMethod")  # self_declared
    # Compliance (services.compliance), on the user item so booking and GET /me read it for free.
    # Each consent: {granted, consentDate, consentVersion (the privacy policy in force then)};
    # the marketing one is written with preferences.notifications.marketingEmails, in one update.
    consent_marketing: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="consentMarketing")
    consent_analytics: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="consentAnalytics")
    consent_third_party: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="consentThirdParty")
    # The versions accepted: {version, sequence (its publication number), acceptedDate, ipAddress}.
    terms_accepted: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="termsAccepted")
    privacy_policy_accepted: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="privacyPolicyAccepted")

    # Clerk sync: Clerk's ``updated_at`` (ms since the epoch) of the state last applied; a
    # webhook carrying an older or equal one is stale and changes nothing.
    clerk_updated_at = NumberAttribute(null=True, attr_name="clerkUpdatedAt")
    deleted_at = UnicodeAttribute(null=True, attr_name="deletedAt")

    # Onboarding (UserOnboarding): top-level attributes so that marking steps is a commutative
    # ADD on a string set (no read-modify-write, no lost step under concurrent PATCHes).
    onboarding_steps = UnicodeSetAttribute(null=True, attr_name="onboardingCompletedSteps")
    onboarding_current_step = UnicodeAttribute(null=True, attr_name="onboardingCurrentStep")
    onboarding_skip_tutorial = BooleanAttribute(null=True, attr_name="onboardingSkipTutorial")
    onboarding_welcome_shown = BooleanAttribute(null=True, attr_name="onboardingWelcomeShown")
    onboarding_updated_at = UnicodeAttribute(null=True, attr_name="onboardingUpdatedAt")

    # The search keys of ``email`` and ``displayName`` (byEmail, byName). A full write (save,
    # batch, transaction put) derives them in ``serialize``; an update that sets either field
    # adds ``email_search_actions`` / ``name_search_actions``.
    search_email = UnicodeAttribute(null=True, attr_name="searchEmail")
    search_email_prefix = UnicodeAttribute(null=True, attr_name="searchEmailPrefix")
    search_name = UnicodeAttribute(null=True, attr_name="searchName")
    search_name_prefix = UnicodeAttribute(null=True, attr_name="searchNamePrefix")

    by_role = UsersByRole()
    by_status = UsersByStatus()
    by_email = UsersByEmail()
    by_name = UsersByName()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """The item with its search keys derived from the email and display name it holds."""
        self.search_email, self.search_email_prefix = _keys(self.email)
        self.search_name, self.search_name_prefix = _keys(self.display_name)
        return super().serialize(null_check=null_check)


def _keys(value: str | None) -> tuple[str | None, str | None]:
    key = search_key(value)
    return (key, search_prefix(key)) if key else (None, None)


def email_search_actions(email: str | None) -> list[Action]:
    """The update actions that keep byEmail in step with an update setting (or removing) the email."""
    key = search_key(email)
    if key is None:
        return [User.search_email.remove(), User.search_email_prefix.remove()]
    return [User.search_email.set(key), User.search_email_prefix.set(search_prefix(key))]


def name_search_actions(display_name: str | None) -> list[Action]:
    """The update actions that keep byName in step with an update setting (or removing) the display name."""
    key = search_key(display_name)
    if key is None:
        return [User.search_name.remove(), User.search_name_prefix.remove()]
    return [User.search_name.set(key), User.search_name_prefix.set(search_prefix(key))]
