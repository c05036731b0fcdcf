from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
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
    status = UnicodeAttribute(default="active")  # active | suspended
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    last_login_at = UnicodeAttribute(null=True, attr_name="lastLoginAt")
    # Balances live on the account item so reading them never sums history (DESIGN.md);
    # only the ledger service writes them.
    credits_available = NumberAttribute(default=0, attr_name="creditsAvailable")
    credits_held = NumberAttribute(default=0, attr_name="creditsHeld")
    preferences: MapAttribute[str, Any] = MapAttribute(null=True)  # raw map, validated by schemas.me.Preferences
    age_verified_at = UnicodeAttribute(null=True, attr_name="ageVerifiedAt")

    by_role = UsersByRole()
