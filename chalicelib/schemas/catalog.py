from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.common import ApiModel


class Topic(ApiModel):
    """A reading topic."""
    id: str
    name: str
    is_general: bool = Field(description="a question is optional only for the general topic")


class Attribute(ApiModel):
    """A reader attribute of the catalog: an ability, a tool or a style."""
    id: str
    name: str
    kind: Literal["abilities", "tools", "styles"]


class AttributesByKind(ApiModel):
    """The catalog's reader attributes, grouped by kind."""
    abilities: list[Attribute]
    tools: list[Attribute]
    styles: list[Attribute]


class ReadingType(ApiModel):
    """A kind of reading: phone call, video message or live video."""
    id: Literal["phone_call", "video_message", "live_video"]
    name: str
    description: str
    live: bool


class TimeSpan(ApiModel):
    """A reading duration clients can choose, and its price multiplier."""
    id: str
    duration: int = Field(description="minutes")
    label: str
    multiplier: float


class CreditPackage(ApiModel):
    """A pack of credits for sale (price in cents)."""
    id: str
    name: str
    credits: int
    price: int = Field(description="in cents")
    currency: str
    discount: int | None = Field(default=None, description="percentage")
    is_popular: bool
    stripe_price_id: str


class SubscriptionPlan(ApiModel):
    """A monthly plan granting credits (price in cents)."""
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
    """What a reader needs to earn a badge."""
    readings_completed: int
    average_rating: float | None = None
    timeframe: str | None = None


class Badge(ApiModel):
    """A badge readers earn by completed readings (and rating) in one attribute."""
    id: str
    name: str
    attribute: str
    tier: Literal["Bronze", "Silver", "Gold"]
    requirements: BadgeRequirements
    icon: str
    description: str


class Category(ApiModel):
    """A status category (love, career...): what a client's status is about. Its abilities and
    tools are the reader specialties that match it: readers with any of them see its statuses
    first and are notified of new ones; its topic is the reading topic a suggestion is booked
    under."""
    id: str
    name: str
    ability_ids: list[str] = Field(default_factory=list, description="attribute ids (abilities) that match")
    tool_ids: list[str] = Field(default_factory=list, description="attribute ids (tools) that match")
    topic_id: str | None = Field(default=None, description="the topic readings booked from a status of this "
                                                           "category use (default: the general reading)")


class CatalogOut(ApiModel):
    """Everything the product's forms choose from: topics, attributes, reading types, time spans, credit
    packages, plans, badges and categories."""
    topics: list[Topic]
    attributes: AttributesByKind
    reading_types: list[ReadingType]
    time_spans: list[TimeSpan]
    credit_packages: list[CreditPackage]
    subscription_plans: list[SubscriptionPlan]
    badges: list[Badge]
    categories: list[Category]
