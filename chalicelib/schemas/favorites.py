"""``/me/favorites`` and ``GET /me/recommendations``: the caller's favorite readers, and the
readers ranked for the caller with the reasons why."""

from __future__ import annotations

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from chalicelib.schemas.common import ApiModel, PageInfo, PageMeta, PageQuery, QueryModel
from chalicelib.schemas.explore import ExploreCard, ExploreMeta

RECOMMENDATIONS_DEFAULT, RECOMMENDATIONS_MAX = 10, 50


class FavoriteOut(ApiModel):
    """The caller's favorite: ``PUT /me/favorites/{readerId}`` answers the same whether the
    reader was a favorite already or not."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True, json_schema_extra={
        "examples": [{"readerId": "user_demo_reader1", "isFavorite": True, "favoritedAt": "2026-11-28T17:30:00.000Z",
                      "added": True}]})

    reader_id: str
    is_favorite: bool = Field(description="always true: the reader is among the caller's favorites")
    favorited_at: str = Field(json_schema_extra={"format": "date-time"},
                              description="when the caller first favorited the reader (UTC, ISO 8601)")
    added: bool = Field(description="true when this request added it; false when it was a favorite already")


class FavoriteCard(ExploreCard):
    """A favorite reader's public card (live online status), as ``GET /me/favorites`` lists it."""

    favorited_at: str = Field(json_schema_extra={"format": "date-time"},
                              description="when the caller favorited the reader (UTC, ISO 8601)")


class FavoritesQuery(PageQuery):
    """``?limit=&cursor=``: the caller's favorites, newest first."""


class FavoritesPage(ApiModel):
    """A page of the caller's favorite readers, newest first. A favorite whose reader is no
    longer shown (suspended, deleted, hidden) is left out, so a page may hold fewer cards than
    ``limit`` while ``hasNext`` is still true."""

    data: list[FavoriteCard]
    pagination: PageInfo
    meta: PageMeta


class RecommendationsQuery(QueryModel):
    """``?limit=``: how many readers to recommend."""

    limit: int = Field(default=RECOMMENDATIONS_DEFAULT, ge=1,
                       description=f"how many readers, default {RECOMMENDATIONS_DEFAULT}, clamped to "
                                   f"{RECOMMENDATIONS_MAX}")

    def clamped(self) -> int:
        return min(self.limit, RECOMMENDATIONS_MAX)


class RecommendationOut(ApiModel):
    """One recommended reader: the card, and why it is recommended, strongest reason first."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True,
                              json_schema_extra={"examples": [{
                                  "reasons": ["Tarot, like readers you rated 5 stars", "Online now",
                                              "Rated 4.9 from 120 reviews"],
                                  "score": 0.8731}]})

    reader: ExploreCard
    reasons: list[str] = Field(min_length=1, description="sentences to show under the card, e.g. \"Tarot, like "
                                                         "readers you rated 5 stars\", \"Online now\"")
    score: float = Field(description="the ranking score (higher first); compare within one response only")


class RecommendationsOut(ApiModel):
    """Readers ranked for the caller from their history (topics asked, readers rated highly,
    favorites, readers viewed and booked), reader quality and who is online now. A caller
    without history gets the best-rated, online and varied readers (``personalized`` false)."""

    data: list[RecommendationOut]
    personalized: bool = Field(description="false for a cold start: the caller has no history yet")
    meta: ExploreMeta
