"""The caller's favorite readers and the readers recommended to them.

Who may call: ``CLIENT`` (clients, and readers, who are clients too: DESIGN.md). Every route
answers for the caller alone: there is no way to name another user, so another user's
favorites can never be read or changed. Admins are not clients and get 403.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import CLIENT
from chalicelib.schemas.favorites import (
    FavoriteOut,
    FavoritesPage,
    FavoritesQuery,
    RecommendationsOut,
    RecommendationsQuery,
)
from chalicelib.services import favorites
from chalicelib.services.recommend import service as recommendations

favorites_api = Blueprint(__name__)


@route(favorites_api, "/me/favorites/{readerId}", "PUT", access=CLIENT, response=FavoriteOut, errors=(404, 422),
       tags=["favorites"], summary="Add a reader to the caller's favorites (idempotent)")
def put_favorite(ctx: RequestContext, readerId: str) -> FavoriteOut:
    """A reader whose card is not shown is 404; your own card, or a 501st favorite, is 422
    (``own_card``, ``too_many_favorites``: at most 500). Repeating it changes nothing
    (``added`` false, the first ``favoritedAt``)."""
    favorite, added = favorites.add(ctx.user.user_id, readerId, viewer_role=ctx.user.role)
    return FavoriteOut(reader_id=favorite.reader_id, is_favorite=True, favorited_at=favorite.created_at, added=added)


@route(favorites_api, "/me/favorites/{readerId}", "DELETE", access=CLIENT, status=204, tags=["favorites"],
       summary="Remove a reader from the caller's favorites (idempotent)")
def delete_favorite(ctx: RequestContext, readerId: str) -> Reply:
    """204 whether or not the reader was a favorite."""
    favorites.remove(ctx.user.user_id, readerId)
    return Reply(body=None, status=204)


@route(favorites_api, "/me/favorites", "GET", access=CLIENT, query=FavoritesQuery, response=FavoritesPage,
       errors=(400,), tags=["favorites"], summary="The caller's favorite readers, newest first")
def list_favorites(ctx: RequestContext) -> dict[str, Any]:
    """Each item is the reader's card from the explore snapshot with live online status and
    ``isFavorite`` true; readers no longer shown are left out of the page."""
    query: FavoritesQuery = ctx.query
    page, cards = favorites.cards(ctx.user.user_id, viewer_role=ctx.user.role, limit=query.limit,
                                  cursor=query.cursor)
    return FavoritesPage.model_validate(page.body(cards)).dump()


@route(favorites_api, "/me/recommendations", "GET", access=CLIENT, query=RecommendationsQuery,
       response=RecommendationsOut, errors=(400,), tags=["favorites"],
       summary="Readers recommended for the caller, with the reasons why")
def get_recommendations(ctx: RequestContext) -> dict[str, Any]:
    """Ranked from the caller's history (topics asked, readers rated 4-5 stars, favorites,
    readers booked and viewed), each reader's quality (rating, completion rate) and who is
    online now; a few favorites at most, never a reader the caller rated 1-2 stars, never
    the caller. ``?limit=`` 1-50 (default 10)."""
    query: RecommendationsQuery = ctx.query
    found = recommendations.recommend(ctx.user.user_id, role=ctx.user.role, limit=query.clamped())
    return RecommendationsOut.model_validate({
        "data": [{"reader": item.card, "reasons": list(item.reasons), "score": item.score} for item in found.items],
        "personalized": found.personalized,
        "meta": {"cached": True, "generatedAt": found.generated_at},
    }).dump()
