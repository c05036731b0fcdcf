"""``GET /admin/users``: users by email or name prefix, role and status, one Query per page.

Which index answers (never a Scan):

* ``q`` (at least ``SEARCH_PREFIX_LENGTH`` characters; empty or blank is no search): byEmail or byName, the partition of
  its first characters, ``begins_with`` the whole text, alphabetical; a role or status is a
  filter on that small partition.
* role and status: byRole filtered on the status when it is active (most of a role is
  active), else byStatus filtered on the role (suspended and deleted users are few).
* role alone: byRole; status alone: byStatus; newest first.
* neither: every user, newest first: the three byRole partitions merged, one Query each per
  page, the cursor holding where each one stands.

A filtered Query reads on (PynamoDB pages through the partition) until the page is full,
and the cursor resumes after the last user returned. The status shown and matched is the
effective one (``domain.accounts.effective_status``): a suspension past its end is active
even before the expiry job writes it back, so such a user is left out of a page of
suspended users (a page may then hold fewer users than the limit).
"""

from __future__ import annotations

from typing import Any

from chalicelib.auth import ROLES
from chalicelib.domain.accounts import ACTIVE, SEARCH_PREFIX_LENGTH, effective_status, search_key, search_prefix
from chalicelib.errors import ValidationFailed
from chalicelib.models.base import utcnow
from chalicelib.models.users import User
from chalicelib.pagination import MAX_LIMIT, PageResult, decode_cursor, encode_cursor, query_page

SCOPE = "GET /admin/users"
EMAIL, NAME = "email", "name"
# A filtered Query reads this many items per call (it stops early, mid-page, once the page is full).
FILTERED_PAGE_SIZE = MAX_LIMIT


def search(
    *, q: str | None, by: str | None, role: str | None, status: str | None, limit: int, cursor: str | None
) -> PageResult[User]:
    """One page of users; ``by`` (email | name) says which field ``q`` begins (None: the email
    when ``q`` holds an @, else the name). An empty or blank ``q`` is no search (what a cleared
    search box sends)."""
    if q is not None and not q.strip():
        q = None
    scope = f"{SCOPE}?q={q or ''}&by={by or ''}&role={role or ''}&status={status or ''}"
    if q is not None:
        page = _by_prefix(_search_text(q), by or (EMAIL if "@" in q else NAME), role, status, limit, cursor, scope)
    elif role is not None and status is not None:
        page = _by_role_and_status(role, status, limit, cursor, scope)
    elif role is not None:
        page = query_page(
            lambda size, start: User.by_role.query(
                role, scan_index_forward=False, limit=size, last_evaluated_key=start
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    elif status is not None:
        page = query_page(
            lambda size, start: User.by_status.query(
                status, scan_index_forward=False, limit=size, last_evaluated_key=start
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    else:
        page = _everyone(limit, cursor, scope)
    if status is not None:
        now = utcnow()
        page.items = [user for user in page.items if effective_status(user.status, user.suspended_until, now) == status]
    return page


def _search_text(q: str) -> str:
    key = search_key(q)
    if key is None or len(key) < SEARCH_PREFIX_LENGTH:
        raise ValidationFailed(
            "The request is not valid.",
            details={
                "fields": [
                    {
                        "path": "q",
                        "type": "value_error",
                        "message": f"Type at least {SEARCH_PREFIX_LENGTH} characters of the email or name to "
                        "search for.",
                    }
                ]
            },
        )
    return key


def _filter(role: str | None, status: str | None) -> Any:
    condition = None
    for part in ((User.role == role) if role else None, (User.status == status) if status else None):
        if part is not None:
            condition = part if condition is None else condition & part
    return condition


def _by_prefix(
    key: str, by: str, role: str | None, status: str | None, limit: int, cursor: str | None, scope: str
) -> PageResult[User]:
    index, column = (User.by_email, User.search_email) if by == EMAIL else (User.by_name, User.search_name)
    condition = _filter(role, status)

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return index.query(
            search_prefix(key),
            column.startswith(key),
            filter_condition=condition,
            limit=size,
            page_size=FILTERED_PAGE_SIZE if condition is not None else size,
            last_evaluated_key=start,
        )

    return query_page(run, limit=limit, cursor=cursor, scope=scope)


def _by_role_and_status(role: str, status: str, limit: int, cursor: str | None, scope: str) -> PageResult[User]:
    def run(size: int, start: dict[str, Any] | None) -> Any:
        if status == ACTIVE:
            return User.by_role.query(
                role,
                filter_condition=User.status == status,
                scan_index_forward=False,
                limit=size,
                page_size=FILTERED_PAGE_SIZE,
                last_evaluated_key=start,
            )
        return User.by_status.query(
            status,
            filter_condition=User.role == role,
            scan_index_forward=False,
            limit=size,
            page_size=FILTERED_PAGE_SIZE,
            last_evaluated_key=start,
        )

    return query_page(run, limit=limit, cursor=cursor, scope=scope)


def _role_key(user: User) -> dict[str, Any]:
    """The byRole key of ``user``: where its partition's next page starts."""
    return {"userId": {"S": user.user_id}, "role": {"S": user.role}, "createdAt": {"S": user.created_at}}


def _everyone(limit: int, cursor: str | None, scope: str) -> PageResult[User]:
    """Every user, newest first: each role's partition read from where the cursor left it
    (``{}``: from its start; a role missing from the cursor is done), merged by createdAt."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        stored, page = decode_cursor(cursor, scope)
        starts: dict[str, dict[str, Any] | None] = {
            role: stored[role] or None for role in ROLES if isinstance(stored.get(role), dict)
        }
    else:
        starts, page = dict.fromkeys(ROLES), 1
    read: dict[str, tuple[list[User], dict[str, Any] | None]] = {}
    for role, start in starts.items():
        results = User.by_role.query(role, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        items = list(results)
        read[role] = (items, results.last_evaluated_key if len(items) >= limit else None)
    merged = [(user, role) for role, (items, _) in read.items() for user in items]
    merged.sort(key=lambda pair: pair[0].created_at, reverse=True)  # stable: each partition keeps its order
    taken = merged[:limit]
    following: dict[str, Any] = {}
    for role, (items, last_key) in read.items():
        count = sum(1 for _, of in taken if of == role)
        if count < len(items):
            following[role] = _role_key(items[count - 1]) if count else (starts[role] or {})
        elif last_key is not None:
            following[role] = last_key
    next_cursor = encode_cursor(following, scope, page + 1) if following else None
    return PageResult(items=[user for user, _ in taken], next_cursor=next_cursor, limit=limit, page=page)
