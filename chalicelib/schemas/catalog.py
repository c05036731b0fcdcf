from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.common import ApiModel


class Topic(ApiModel):
    id: str
    name: str
    is_general: bool = Field(description="a question is optional only for the general topic")


class Attribute(ApiModel):
    id: str
    name: str
    kind: Literal["abilities", "tools", "styles"]


class AttributesByKind(ApiModel):
    abilities: list[Attribute]
    tools: list[Attribute]
    styles: list[Attribute]


class ReadingType(ApiModel):
    id: Literal["phone_call", "video_message", "live_video"]
    name: str
    description: str
    live: bool


class TimeSpan(ApiModel):
    id: str
    duration: int = Field(description="minutes")
    label: str
    multiplier: float


class CreditPackage(ApiModel):
    id: str
    name: str
    credits: int
    price: int = Field(description="in cents")
    currency: str
    discount: int | None = Field(default=None, description="percentage")
    is_popular: bool
    stripe_price_id: str


class SubscriptionPlan(ApiModel):
    id: str
    name: str
    description: str
    price: int = Field(description="monthly, in cents")
    currency: str
    credits_included: int
    rollover_cap: int
    features: list[str]
    stripe_price_id: str
    is_active: bool = True
    trial_days: int | None = None


class BadgeRequirements(ApiModel):
    readings_completed: int
    average_rating: float | None = None
    timeframe: str | None = None


class Badge(ApiModel):
    id: str
    name: str
    attribute: str
    tier: Literal["Bronze", "Silver", "Gold"]
    requirements: BadgeRequirements
    icon: str
    description: str


class Category(ApiModel):
    id: str
    name: str


class CatalogOut(ApiModel):
    topics: list[Topic]
    attributes: AttributesByKind
    reading_types: list[ReadingType]
    time_spans: list[TimeSpan]
    credit_packages: list[CreditPackage]
    subscription_plans: list[SubscriptionPlan]
    badges: list[Badge]
    categories: list[Category]
