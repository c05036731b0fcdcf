"""``GET /statuses``: the active statuses a reader may answer, those of the categories that
match the reader's specialties first, newest first within each group.

Storage: the sparse ``activeByCategory`` index holds only active statuses, one partition
per category, newest first. A page merges the partitions of the first group (matching
categories) newest first, then those of the second; each partition is one Query of at most
``limit + 1`` rows per page, so a page costs at most one Query per category plus one
GetItem (the reader's profile, projected) and one BatchGetItem (the authors). Statuses past
their time (``STATUS_TTL_DAYS``) are left out by the key condition even before the expiry job
closes them, and so are the reader's own.

The cursor (signed, scoped to the route and the reader) carries the group being read and,
per category of it, the key of the last row served (or ``null``: done).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.statuses import Status
from chalicelib.pagination import MAX_LIMIT, PageResult, decode_cursor, encode_cursor
from chalicelib.services import catalog
from chalicelib.services.statuses.common import cutoff, now_or

SCOPE = "GET /statuses"


def specialties(reader_id: str) -> tuple[set[str], set[str]]:
    """The reader's ability and tool ids (one projected GetItem)."""
    try:
        profile = ReaderProfile.get(reader_id, attributes_to_get=["readerId", "attributes"])
    except ReaderProfile.DoesNotExist:
        return set(), set()
    attributes = profile.attributes.as_dict() if profile.attributes else {}
    return set(attributes.get("abilities") or []), set(attributes.get("tools") or [])


def groups(categories: dict[str, dict[str, Any]], abilities: set[str], tools: set[str]) -> tuple[list[str], list[str]]:
    """(matching categories, the others), each in the catalog's order."""
    ordered = sorted(categories.values(), key=lambda c: (int(c.get("position") or 0), c["id"]))
    matching = [c["id"] for c in ordered
                if abilities & set(c.get("abilityIds") or []) or tools & set(c.get("toolIds") or [])]
    return matching, [c["id"] for c in ordered if c["id"] not in matching]


def _key(row: Status) -> dict[str, Any]:
    return {"statusId": {"S": row.status_id}, "feedCategory": {"S": row.feed_category},
            "createdAt": {"S": row.created_at}}


def page(reader_id: str, *, limit: int, cursor: str | None, now: datetime | None = None
         ) -> tuple[PageResult[Status], set[str]]:
    """A page of feed rows (projected ``Status`` items) and the matching category ids."""
    moment = now_or(now)
    limit = max(1, min(limit, MAX_LIMIT))
    scope = f"{SCOPE}:{reader_id}"
    state: dict[str, Any] = {"g": 0, "k": {}}
    number = 1
    if cursor:
        state, number = decode_cursor(cursor, scope)
    if not isinstance(state.get("g"), int) or not isinstance(state.get("k"), dict) or state["g"] not in (0, 1):
        raise BadRequest("The cursor is not valid for this list.", code="invalid_cursor")
    matching, others = groups(catalog.status_categories(), *specialties(reader_id))
    rows: list[Status] = []
    group: int = state["g"]
    keys: dict[str, Any] = {str(k): v for k, v in state["k"].items()}
    oldest = cutoff(moment)
    while group < 2:
        rows += _fill(matching if group == 0 else others, keys, limit - len(rows), reader_id, oldest)
        if len(rows) >= limit:
            break
        group, keys = group + 1, {}
    categories = matching if group == 0 else others
    more = group < 2 and (any(keys.get(c, "") is not None for c in categories) or (group == 0 and bool(others)))
    next_cursor = encode_cursor({"g": group, "k": keys}, scope, number + 1) if more else None
    return PageResult(items=rows, next_cursor=next_cursor, limit=limit, page=number), set(matching)


def _fill(categories: list[str], keys: dict[str, Any], need: int, reader_id: str, oldest: str) -> list[Status]:
    """Up to ``need`` rows of these categories, newest first; ``keys`` is moved past them."""
    fetched: dict[str, tuple[list[Status], bool]] = {}
    for category in categories:
        if category in keys and keys[category] is None:
            continue  # this category is done
        result = Status.active_by_category.query(
            category, Status.created_at > oldest, scan_index_forward=False, limit=need + 1, page_size=need + 1,
            last_evaluated_key=keys.get(category))
        found = list(result)
        fetched[category] = (found, len(found) <= need and result.last_evaluated_key is None)
    merged = sorted(((row.created_at, row.status_id, category, row) for category, (found, _) in fetched.items()
                     for row in found), reverse=True)
    taken: list[Status] = []
    consumed: dict[str, int] = {}
    for _, _, category, row in merged:
        if len(taken) >= need:
            break
        consumed[category] = consumed.get(category, 0) + 1
        if row.user_id != reader_id:  # a reader is a client too, but never answers their own status
            taken.append(row)
    for category, (found, complete) in fetched.items():
        used = consumed.get(category, 0)
        if used == len(found) and complete:
            keys[category] = None
        elif used:
            keys[category] = _key(found[used - 1])
    return taken
