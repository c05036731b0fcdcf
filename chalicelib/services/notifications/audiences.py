"""Audiences of notifications ("every admin", "every reader", "the readers a status
category concerns"), read one page at a time.

An audience is a role of the users table's ``byRole`` index; a page is one Query of at most
``limit`` ids (only ``userId`` projected), active accounts only. The caller keeps the
cursor (DynamoDB's LastEvaluatedKey, JSON-safe) to read the next page in a later
invocation, so no invocation reads an unbounded audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.models.users import User

# audience name -> the role whose active users form it
AUDIENCES: dict[str, str] = {"admins": "admin", "readers": "reader"}
# "specialists:<category id>": the readers whose abilities or tools match a status category
# (its catalog entry's abilityIds/toolIds), from the explore snapshot's index (every approved,
# shown reader; no table read). A page is a slice of that sorted list; the cursor its offset.
SPECIALISTS = "specialists:"


def specialists(category: str) -> str:
    return SPECIALISTS + category


@dataclass(frozen=True)
class Page:
    user_ids: list[str]
    cursor: dict[str, Any] | None  # None: this was the last page


def page(audience: str, *, limit: int, cursor: dict[str, Any] | None = None) -> Page:
    """One page of the audience's user ids, in the index's order (creation time)."""
    if audience.startswith(SPECIALISTS):
        return _specialists(audience.removeprefix(SPECIALISTS), limit=limit, cursor=cursor)
    role = AUDIENCES[audience]
    result = User.by_role.query(role, filter_condition=User.status == "active", limit=limit, page_size=limit,
                                last_evaluated_key=cursor, attributes_to_get=["userId", "role", "createdAt",
                                                                             "status"])
    ids = [user.user_id for user in result]
    return Page(ids, result.last_evaluated_key)


def _specialists(category: str, *, limit: int, cursor: dict[str, Any] | None) -> Page:
    from chalicelib.services import catalog
    from chalicelib.services.explore import store

    found = catalog.status_categories().get(category) or {}
    ids = store.current().index.specialists(found.get("abilityIds") or [], found.get("toolIds") or [])
    offset = int((cursor or {}).get("offset") or 0)
    end = offset + limit
    return Page(ids[offset:end], {"offset": end} if end < len(ids) else None)
