"""A user's favorite readers: add, remove, list, and the membership set cards are marked with.

Adding is one transaction: the favorite (a conditional put: a second add changes nothing),
the user's favorite count on the interactions summary item (the cap: at most
``MAX_FAVORITES``, checked by the same write's condition, so concurrent adds cannot pass
it together) and the (user, reader) interaction. Removing mirrors it. Only readers with a
card anyone may see can be added; a favorite whose reader is no longer shown stays stored
(the reader may come back) and is left out of the list.

Any signed-in client may favorite (readers too: a reader is also a client, DESIGN.md), but
not their own card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.errors import BusinessRuleViolation
from chalicelib.models.base import iso, utcnow
from chalicelib.models.favorites import SUMMARY_SK, Favorite, Interaction
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import reader_cards
from chalicelib.services.explore import overlay, store
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

MAX_FAVORITES = 500
_BUSY = "Your favorites are changing often right now; try again in a moment."


class TooManyFavorites(BusinessRuleViolation):
    code = "too_many_favorites"


class OwnCard(BusinessRuleViolation):
    code = "own_card"


def add(user_id: str, reader_id: str, *, viewer_role: str | None,
        now: datetime | None = None) -> tuple[Favorite, bool]:
    """Favorite ``reader_id``; returns the favorite and whether it is new. Raises NotFound
    (no card this viewer may see), ``OwnCard`` or ``TooManyFavorites`` (422)."""
    if reader_id == user_id:
        raise OwnCard("You cannot add your own reader profile to your favorites.")
    reader_cards.public_card(reader_id, viewer_role=viewer_role)  # 404 unless the caller may see the card
    at = iso(now or utcnow())
    favorite = Favorite(user_id=user_id, reader_id=reader_id, created_at=at)

    def work(tx: Transaction) -> None:
        tx.save(favorite, condition=Favorite.reader_id.does_not_exist(), label="favorite")
        tx.update(Interaction(client_id=user_id, sk=SUMMARY_SK),
                  actions=[Interaction.favorite_count.add(1), Interaction.updated_at.set(at)],
                  condition=(Interaction.favorite_count.does_not_exist()
                             | (Interaction.favorite_count < MAX_FAVORITES)), label="cap")
        tx.update(Interaction(client_id=user_id, sk=reader_id),
                  actions=[Interaction.favorites.add(1), Interaction.is_favorite.set(True),
                           Interaction.updated_at.set(at)])

    try:
        atomically(work, busy=_BUSY)
    except ConditionsFailed as failed:
        if "favorite" in failed:  # already a favorite: nothing changed
            return _get(user_id, reader_id) or favorite, False
        if "cap" in failed:
            raise TooManyFavorites(f"You can keep at most {MAX_FAVORITES} favorite readers; remove one to add "
                                   "another.", details={"max": MAX_FAVORITES}) from failed
        raise
    return favorite, True


def remove(user_id: str, reader_id: str, *, now: datetime | None = None) -> bool:
    """Unfavorite ``reader_id``; False when it was not a favorite (nothing changed)."""
    at = iso(now or utcnow())

    def work(tx: Transaction) -> None:
        tx.delete(Favorite(user_id=user_id, reader_id=reader_id), condition=Favorite.reader_id.exists(),
                  label="favorite")
        tx.update(Interaction(client_id=user_id, sk=SUMMARY_SK),
                  actions=[Interaction.favorite_count.add(-1), Interaction.updated_at.set(at)])
        tx.update(Interaction(client_id=user_id, sk=reader_id),
                  actions=[Interaction.is_favorite.set(False), Interaction.updated_at.set(at)])

    try:
        atomically(work, busy=_BUSY)
    except ConditionsFailed as failed:
        if "favorite" in failed:
            return False
        raise
    return True


def _get(user_id: str, reader_id: str) -> Favorite | None:
    try:
        return Favorite.get(user_id, reader_id, consistent_read=True)
    except Favorite.DoesNotExist:
        return None


def page(user_id: str, *, limit: int, cursor: str | None) -> PageResult[Favorite]:
    """One page of the user's favorites, newest first (one consistent Query of the
    ``newestFirst`` local index). The cursor is bound to this user's list."""

    def run(page_size: int, start: dict[str, Any] | None) -> Any:
        return Favorite.newest_first.query(user_id, scan_index_forward=False, limit=page_size,
                                           last_evaluated_key=start, consistent_read=True)

    return query_page(run, limit=limit, cursor=cursor, scope=f"favorites:{user_id}")


def cards(user_id: str, *, viewer_role: str | None, limit: int,
          cursor: str | None) -> tuple[PageResult[Favorite], list[dict[str, Any]]]:
    """A page of favorites and their readers' cards from the explore snapshot (live online
    status, ``isFavorite`` true, ``favoritedAt``); a reader no longer shown (or no longer
    shown to this viewer: readers_only) is left out."""
    found = page(user_id, limit=limit, cursor=cursor)
    loaded = store.current()
    online = overlay.visible(overlay.online_ids(), loaded.hidden_presence)
    shown = []
    for favorite in found.items:
        card = loaded.card(favorite.reader_id)
        if card is not None and reader_cards.visible_to(card, viewer_role):
            shown.append({**card, "isOnline": favorite.reader_id in online, "isFavorite": True,
                          "favoritedAt": favorite.created_at})
    return found, shown


def ids_of(user_id: str | None) -> frozenset[str]:
    """Every reader the user favorited: one Query (all pages; at most ``MAX_FAVORITES``
    items, projected to the reader id). Empty for an anonymous caller."""
    if not user_id:
        return frozenset()
    return frozenset(favorite.reader_id for favorite in
                     Favorite.query(user_id, attributes_to_get=["readerId"]))
