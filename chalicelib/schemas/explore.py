"""``GET /readers``: the explore page's filters, and its page of cards with facets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from chalicelib.pagination import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.schemas.common import ApiModel, PageInfo, QueryModel
from chalicelib.schemas.reader_views import ReaderCard

MAX_IDS = 20  # ids per list filter
MAX_ID_LENGTH = 64


def _id_list(value: Any) -> Any:
    """``a,b`` or a repeated parameter (``?tools=a&tools=b``), or both: one list, no blanks."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        return value  # pydantic reports the wrong type
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


IdList = Annotated[list[Annotated[str, Field(max_length=MAX_ID_LENGTH)]],
                   BeforeValidator(_id_list), Field(max_length=MAX_IDS)]
Availability = Literal["now", "today", "this_week", "flexible"]
Sort = Literal["recommended", "rating", "price", "newest", "online"]


class ExploreQuery(QueryModel):
    """Every filter is optional; list filters take comma-separated ids or a repeated
    parameter. Attribute filters match any id within a kind and all kinds given."""

    online_now: bool = Field(default=False, description="only readers online now (live, not from the snapshot)")
    favorites: bool = Field(default=False, description="only readers the caller favorited (needs a bearer token)")
    abilities: IdList = Field(default_factory=list, description="catalog ability ids: any of them")
    tools: IdList = Field(default_factory=list, description="catalog tool ids: any of them")
    styles: IdList = Field(default_factory=list, description="catalog style ids: any of them")
    reading_types: IdList = Field(default_factory=list, description="catalog reading type ids: any of them")
    badges: IdList = Field(default_factory=list, description="catalog badge ids: any of them")
    languages: IdList = Field(default_factory=list, description="languages: any of them")
    price_min: int | None = Field(default=None, ge=0, le=1_000_000,
                                  description="credits: some listed total of the reader is at least this")
    price_max: int | None = Field(default=None, ge=0, le=1_000_000,
                                  description="credits: some listed total within [priceMin, priceMax]")
    min_rating: float | None = Field(default=None, ge=0, le=5, description="average rating at least this")
    availability: Availability | None = Field(default=None, description="a slot now, later today or this week, "
                                                                        "in the reader's timezone")
    location: str | None = Field(default=None, max_length=100, description="part of the reader's location")
    experience: Literal["beginner", "intermediate", "expert"] | None = None
    q: str | None = Field(default=None, max_length=100, description="text over name, tagline and attribute names "
                                                                    "(prefixes and small typos match)")
    sort: Sort = "recommended"
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, description=f"page size, default {DEFAULT_LIMIT}, clamped "
                                                                f"to {MAX_LIMIT}")
    cursor: str | None = Field(default=None, max_length=2048, description="opaque cursor from pagination.nextCursor")

    @field_validator("limit")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return min(value, MAX_LIMIT)

    @field_validator("location", "q")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("price_max")
    @classmethod
    def _price_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("price_min")
        if value is not None and low is not None and low > value:
            raise ValueError("The maximum price (priceMax) must not be less than the minimum price (priceMin).")
        return value


class ExploreCard(ReaderCard):
    """A reader's public card as explore lists it: online status is live (from the presence
    index, hidden where the reader hides it)."""

    is_favorite: bool = Field(default=False, description="the caller favorited this reader (false when anonymous)")


class FacetValue(ApiModel):
    """How many readers of the filtered set carry an attribute."""
    id: str
    name: str
    count: int


class PriceRangeFacet(ApiModel):
    """How many readers of the filtered set list a price in the range."""
    range: str = Field(description='e.g. "25-50"; the last range is open ("200+")')
    min: int
    max: int | None = None
    count: int


class RatingFacet(ApiModel):
    """How many readers of the filtered set are rated at least ``rating``."""
    rating: int
    count: int


class ExploreFacets(ApiModel):
    """Counts over the filtered set (every filter applied), for the filter panel."""
    abilities: list[FacetValue] = Field(default_factory=list)
    tools: list[FacetValue] = Field(default_factory=list)
    styles: list[FacetValue] = Field(default_factory=list)
    price_ranges: list[PriceRangeFacet] = Field(default_factory=list)
    ratings: list[RatingFacet] = Field(default_factory=list)


class ExploreMeta(ApiModel):
    """Cards come from the explore snapshot (rebuilt within about a minute of a change);
    online status is live."""
    cached: bool = Field(description="always true: the cards are served from the explore snapshot")
    generated_at: str = Field(json_schema_extra={"format": "date-time"},
                              description="when the snapshot was built (UTC, ISO 8601)")


class ExplorePage(ApiModel):
    """A page of readers, the facet counts of the whole filtered set, and its size."""
    data: list[ExploreCard]
    pagination: PageInfo
    facets: ExploreFacets
    total_count: int = Field(description="readers matching the filters")
    suggestions: list[str] = Field(default_factory=list,
                                   description="corrections of q when it matched few readers")
    meta: ExploreMeta
