"""Role audiences of notifications ("every admin", "every reader"), read one page at a time.

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


@dataclass(frozen=True)
class Page:
    user_ids: list[str]
    cursor: dict[str, Any] | None  # None: this was the last page


def page(audience: str, *, limit: int, cursor: dict[str, Any] | None = None) -> Page:
    """One page of the audience's user ids, in the index's order (creation time)."""
    role = AUDIENCES[audience]
    result = User.by_role.query(role, filter_condition=User.status == "active", limit=limit, page_size=limit,
                                last_evaluated_key=cursor, attributes_to_get=["userId", "role", "createdAt",
                                                                             "status"])
    ids = [user.user_id for user in result]
    return Page(ids, result.last_evaluated_key)
