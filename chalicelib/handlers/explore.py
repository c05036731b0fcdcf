"""Explore: ``GET /readers``, the reader search behind the explore page and the attributes tab."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC_OR_SIGNED_IN
from chalicelib.schemas.explore import ExplorePage, ExploreQuery
from chalicelib.services.explore import engine, service

explore_api = Blueprint(__name__)


def filters_of(query: ExploreQuery) -> engine.Filters:
    return engine.Filters(
        query=query.q, abilities=tuple(query.abilities), tools=tuple(query.tools), styles=tuple(query.styles),
        reading_types=tuple(query.reading_types), badges=tuple(query.badges), languages=tuple(query.languages),
        price_min=query.price_min, price_max=query.price_max, min_rating=query.min_rating,
        availability=query.availability, location=query.location, experience=query.experience,
        online_now=query.online_now, favorites_only=query.favorites, sort=query.sort)


@route(explore_api, "/readers", "GET", access=PUBLIC_OR_SIGNED_IN, query=ExploreQuery, response=ExplorePage,
       errors=(400, 401), cache_seconds=30, tags=["readers"], rate_limit="public_reads",
       summary="Search approved readers: filters, sorts, facets, live online status")
def list_readers(ctx: RequestContext) -> dict[str, Any]:
    """Served from the explore snapshot (rebuilt within about a minute of a change; see
    meta.generatedAt) with live online status. Anonymous callers get a shared-cacheable answer
    (``public, max-age=30``) without readers_only profiles; with a bearer token the answer is
    the caller's own (private): readers_only profiles and isFavorite. ``favorites=true``
    without a token is a 401. Unknown catalog ids (abilities, tools, styles, readingTypes,
    badges) and priceMin > priceMax are 400s naming the field."""
    query: ExploreQuery = ctx.query
    principal = ctx.principal
    viewer = service.Viewer(user_id=principal.user_id, role=principal.role) if principal is not None \
        else service.Viewer()
    return service.search(filters_of(query), viewer, limit=query.limit, cursor=query.cursor).body()
