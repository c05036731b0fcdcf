"""Catalog administration: request bodies (create / partial update) and admin views.

The stored ``data`` of a catalog item is exactly what ``GET /catalog`` shows (camelCase
keys, see services/catalog_defaults.py); a body model dumped ``by_alias`` *is* that data.
Create bodies take an optional ``id`` (a slug); patch bodies make every field optional,
refuse an explicit ``null`` and add ``active`` (true restores a retired item).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.readings import DURATION_MAX
from chalicelib.schemas.catalog import (
    Attribute,
    Badge,
    BadgeRequirements,
    Category,
    CreditPackage,
    SubscriptionPlan,
    TimeSpan,
)
from chalicelib.schemas.common import ApiModel, InputModel, Page, PageQuery

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
STRIPE_PRICE_PATTERN = r"^price_[A-Za-z0-9_-]{1,100}$"
# The reader performance periods (DESIGN.md): a badge's requirements count readings in one of them.
TIMEFRAMES = ("this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total")
Timeframe = Literal["this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total"]
AttributeKind = Literal["abilities", "tools", "styles"]
Tier = Literal["Bronze", "Silver", "Gold"]

MULTIPLIER_MIN, MULTIPLIER_MAX = Decimal("0.1"), Decimal("3.0")
_PLAIN_DECIMAL = re.compile(r"^\d{1,2}(\.\d{1,3})?$")



def _position() -> Any:
    return Field(default=None, ge=0, le=10_000, description="display order within its list (ascending)")


def _item_id() -> Any:
    return Field(default=None, pattern=SLUG_PATTERN,
                 description="optional slug (lowercase letters, digits, hyphens); default: a slug of the name")


def multiplier_text(value: str | int | float) -> str:
    """The multiplier as the catalog stores it: decimal text, exactly as given when given as text
    ("0.95"), else the shortest text of the number (0.95 -> "0.95", 1 -> "1")."""
    text = value.strip() if isinstance(value, str) else repr(value)
    if not _PLAIN_DECIMAL.match(text):
        raise ValueError("Must be a decimal number with at most 3 decimal places, such as 0.95.")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # unreachable after the pattern, kept for clarity
        raise ValueError("Must be a decimal number.") from exc
    if not MULTIPLIER_MIN <= amount <= MULTIPLIER_MAX:
        raise ValueError(f"Must be between {MULTIPLIER_MIN} and {MULTIPLIER_MAX}.")
    return text


def patch_config(example: dict[str, Any]) -> ConfigDict:
    """A patch body's config: its example, and at least one field (an empty body is a 400)."""
    return ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [example], "minProperties": 1})


class PatchModel(InputModel):
    """A partial update: only the fields sent change; ``null`` is refused, never stored."""

    active: bool | None = Field(default=None, description="false retires the item, true restores it")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_and_not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(key for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"Null is not a value for {', '.join(nulls)}; omit a field to keep it.")
            if not data:
                raise ValueError("Send at least one field to change.")
        return data

    def changes(self) -> dict[str, Any]:
        """The data fields sent (camelCase, as stored), without ``active``."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"active"})


# --------------------------------------------------------------------------- attributes


class AttributeCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={
        "examples": [{"name": "Tea Leaves", "kind": "tools"}]})

    id: str | None = _item_id()
    name: str = Field(min_length=1, max_length=60)
    kind: AttributeKind
    position: int | None = _position()


class AttributePatch(PatchModel):
    """The kind is fixed at creation: moving a tool to the abilities would break the per-kind
    limits of readers who chose it."""

    model_config = patch_config({"name": "Tarot Cards"})

    name: str | None = Field(default=None, min_length=1, max_length=60)
    position: int | None = _position()


# --------------------------------------------------------------------------- categories


_Specialties = Annotated[list[Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]], Field(max_length=20)]


class CategoryCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [
        {"name": "Family", "abilityIds": ["empath"], "toolIds": ["tarot", "oracle-cards"], "topicId": "life-path"}]})

    id: str | None = _item_id()
    name: str = Field(min_length=1, max_length=60)
    position: int | None = _position()
    ability_ids: _Specialties | None = Field(default=None, description="active ability attribute ids that match")
    tool_ids: _Specialties | None = Field(default=None, description="active tool attribute ids that match")
    topic_id: str | None = Field(default=None, pattern=SLUG_PATTERN,
                                 description="an active topic id: readings booked from these statuses use it")


class CategoryPatch(PatchModel):
    model_config = patch_config({"name": "Romance", "toolIds": ["tarot"]})

    name: str | None = Field(default=None, min_length=1, max_length=60)
    position: int | None = _position()
    ability_ids: _Specialties | None = None
    tool_ids: _Specialties | None = None
    topic_id: str | None = Field(default=None, pattern=SLUG_PATTERN)


# --------------------------------------------------------------------------- badges


class BadgeRequirementsIn(InputModel):
    readings_completed: int = Field(ge=1, le=100_000)
    average_rating: float | None = Field(default=None, ge=1, le=5)
    timeframe: Timeframe | None = None


class BadgeCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "name": "Runes Platinum", "attribute": "runes", "tier": "Gold",
        "requirements": {"readingsCompleted": 500, "averageRating": 4.8, "timeframe": "total"},
        "icon": "badge-gold", "description": "500 completed Runes readings rated 4.8+"}]})

    id: str | None = _item_id()
    name: str = Field(min_length=1, max_length=80)
    attribute: str = Field(pattern=SLUG_PATTERN, description="the id of an active attribute")
    tier: Tier
    requirements: BadgeRequirementsIn
    icon: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=500)


class BadgePatch(PatchModel):
    """``requirements`` is replaced as a whole."""

    model_config = patch_config({"requirements": {"readingsCompleted": 12}})

    name: str | None = Field(default=None, min_length=1, max_length=80)
    attribute: str | None = Field(default=None, pattern=SLUG_PATTERN)
    tier: Tier | None = None
    requirements: BadgeRequirementsIn | None = None
    icon: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=500)


# --------------------------------------------------------------------------- time spans


class TimeSpanCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={
        "examples": [{"duration": 20, "label": "20 minutes", "multiplier": 0.97}]})

    id: str | None = Field(default=None, pattern=SLUG_PATTERN, description="default: '<duration>-min'")
    duration: int = Field(ge=5, le=DURATION_MAX, description="minutes")
    label: str | None = Field(default=None, min_length=1, max_length=40, description="default: '<duration> minutes'")
    multiplier: str | int | float = Field(description="0.1 to 3.0, at most 3 decimals: a number (decimal text "
                                                      "such as '0.95' is accepted too); shown as a number")

    @field_validator("multiplier")
    @classmethod
    def _multiplier(cls, value: str | int | float) -> str:
        return multiplier_text(value)


class TimeSpanPatch(PatchModel):
    model_config = patch_config({"multiplier": 0.9})

    duration: int | None = Field(default=None, ge=5, le=DURATION_MAX)
    label: str | None = Field(default=None, min_length=1, max_length=40)
    multiplier: str | int | float | None = None

    @field_validator("multiplier")
    @classmethod
    def _multiplier(cls, value: str | int | float | None) -> str | None:
        return None if value is None else multiplier_text(value)


# --------------------------------------------------------------------------- credit packages


class CreditPackageCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "name": "Sage", "credits": 600, "price": 13999, "currency": "usd", "discount": 30, "isPopular": False,
        "stripePriceId": "price_sage"}]})

    id: str | None = _item_id()
    name: str = Field(min_length=1, max_length=60)
    credits: int = Field(ge=1, le=100_000)
    price: int = Field(ge=50, le=10_000_000, description="in cents (Stripe's minimum charge is 50)")
    currency: Literal["usd"] = "usd"
    discount: int = Field(default=0, ge=0, le=90, description="percentage shown to the buyer")
    is_popular: bool = False
    stripe_price_id: str = Field(pattern=STRIPE_PRICE_PATTERN)


class CreditPackagePatch(PatchModel):
    model_config = patch_config({"isPopular": True})

    name: str | None = Field(default=None, min_length=1, max_length=60)
    credits: int | None = Field(default=None, ge=1, le=100_000)
    price: int | None = Field(default=None, ge=50, le=10_000_000)
    currency: Literal["usd"] | None = None
    discount: int | None = Field(default=None, ge=0, le=90)
    is_popular: bool | None = None
    stripe_price_id: str | None = Field(default=None, pattern=STRIPE_PRICE_PATTERN)


# --------------------------------------------------------------------------- subscription plans

class PlanCreate(InputModel):
    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{
        "name": "Monthly Oracle", "description": "300 credits every month.", "price": 6499, "currency": "usd",
        "creditsIncluded": 300, "rolloverCap": 300, "features": ["300 credits a month"],
        "stripePriceId": "price_monthly_oracle", "isActive": True, "trialDays": 7}]})

    id: str | None = _item_id()
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    price: int = Field(ge=50, le=10_000_000, description="monthly, in cents")
    currency: Literal["usd"] = "usd"
    credits_included: int = Field(ge=1, le=100_000)
    rollover_cap: int = Field(ge=0, le=100_000)
    features: list[str] = Field(default_factory=list, max_length=20)
    stripe_price_id: str = Field(pattern=STRIPE_PRICE_PATTERN)
    is_active: bool = Field(default=True, description="false: shown to current subscribers, not sold")
    trial_days: int = Field(default=0, ge=0, le=30)

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        return _check_features(value)


class PlanPatch(PatchModel):
    model_config = patch_config({"trialDays": 14})

    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    price: int | None = Field(default=None, ge=50, le=10_000_000)
    currency: Literal["usd"] | None = None
    credits_included: int | None = Field(default=None, ge=1, le=100_000)
    rollover_cap: int | None = Field(default=None, ge=0, le=100_000)
    features: list[str] | None = Field(default=None, max_length=20)
    stripe_price_id: str | None = Field(default=None, pattern=STRIPE_PRICE_PATTERN)
    is_active: bool | None = None
    trial_days: int | None = Field(default=None, ge=0, le=30)

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_features(value)


def _check_features(value: list[str]) -> list[str]:
    cleaned = [feature.strip() for feature in value]
    if any(not 1 <= len(feature) <= 120 for feature in cleaned):
        raise ValueError("Each feature is 1 to 120 characters.")
    return cleaned


# --------------------------------------------------------------------------- admin views


class ListQuery(PageQuery):
    active: bool | None = Field(default=None, description="true: only live items; false: only retired ones")


class _Admin(ApiModel):
    active: bool = Field(description="false once retired (soft-deleted): hidden from GET /catalog")
    version: int = Field(description="send it back as If-Match to update only this version")
    updated_at: str


class AdminAttribute(_Admin, Attribute):
    """A reader attribute (ability, tool or style) as admins manage it."""
    position: int | None = None


class AdminCategory(_Admin, Category):
    """A status category as admins manage it."""
    position: int | None = None


class AdminBadge(_Admin, Badge):
    """A badge as admins manage it: the attribute, tier and requirements readers earn it by."""
    requirements: BadgeRequirements


class AdminTimeSpan(_Admin, TimeSpan):
    """A time span as admins manage it: a reading duration and its price multiplier."""
    pass


class AdminCreditPackage(_Admin, CreditPackage):
    """A credit package as admins manage it (price in cents)."""
    pass


class AdminPlan(_Admin, SubscriptionPlan):
    """A subscription plan as admins manage it (price in cents)."""
    pass


class AdminAttributePage(Page[AdminAttribute]):
    """A page of reader attributes, for admins."""
    pass


class AdminCategoryPage(Page[AdminCategory]):
    """A page of status categories, for admins."""
    pass


class AdminBadgePage(Page[AdminBadge]):
    """A page of badges, for admins."""
    pass


class AdminTimeSpanPage(Page[AdminTimeSpan]):
    """A page of time spans, for admins."""
    pass


class AdminCreditPackagePage(Page[AdminCreditPackage]):
    """A page of credit packages, for admins."""
    pass


class AdminPlanPage(Page[AdminPlan]):
    """A page of subscription plans, for admins."""
    pass
