from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class UsersByRole(GlobalSecondaryIndex["User"]):
    class Meta:
        index_name = "byRole"
        projection = AllProjection()

    role = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


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
    # active | suspended | deleted. "deleted" (Clerk's user.deleted) is terminal: the item stays
    # as a tombstone so the subject is never provisioned again and late webhooks cannot revive it.
    status = UnicodeAttribute(default="active")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    last_login_at = UnicodeAttribute(null=True, attr_name="lastLoginAt")
    # Balances live on the account item so reading them never sums history (DESIGN.md);
    # only the ledger service writes them.
    credits_available = NumberAttribute(default=0, attr_name="creditsAvailable")
    credits_held = NumberAttribute(default=0, attr_name="creditsHeld")
    # A reader's earnings account (credits paid for completed readings, net of the fee).
    credits_earnings = NumberAttribute(default=0, attr_name="creditsEarnings")
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

    by_role = UsersByRole()
