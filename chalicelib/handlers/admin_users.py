"""Admin user management: search users; change a role, suspend, reinstate."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.handlers.me import suspension_of
from chalicelib.media_urls import public_url
from chalicelib.models.users import User
from chalicelib.schemas.admin_users import AdminUserOut, AdminUserPage, AdminUserPatch, AdminUsersQuery
from chalicelib.services import accounts, users

admin_users_api = Blueprint(__name__)


def _out(user: User) -> AdminUserOut:
    status = users.account_status(user)
    suspension = suspension_of(user, status)
    return AdminUserOut(
        id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        image_url=public_url(user.image_url),
        role=user.role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        suspension=suspension,
        suspended_by=user.suspended_by if suspension is not None else None,
        credits=int(user.credits_available or 0),
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
    )


@route(
    admin_users_api,
    "/admin/users",
    "GET",
    access=ADMIN,
    query=AdminUsersQuery,
    response=AdminUserPage,
    errors=(400,),
    tags=["admin", "users"],
    summary="Search users by email or name prefix, role and status",
)
def list_users(ctx: RequestContext) -> dict:
    """``q`` searches the beginning of the email (``by=email``, the default when ``q`` holds an @)
    or of the display name (``by=name``), alphabetically; ``q`` shorter than 3 characters is a
    400. Without ``q`` users come newest first. ``role`` and ``status`` filter, alone or
    together with ``q``. Every page is one Query of an index (three, one per role, when no
    search or filter is given)."""
    query: AdminUsersQuery = ctx.query
    page = accounts.search(
        q=query.q, by=query.by, role=query.role, status=query.status, limit=query.limit, cursor=query.cursor
    )
    return page.body([_out(user).dump() for user in page.items])


@route(
    admin_users_api,
    "/admin/users/{userId}",
    "PATCH",
    access=ADMIN,
    body=AdminUserPatch,
    response=AdminUserOut,
    errors=(400, 403, 404, 409, 422),
    tags=["admin", "users"],
    summary="Change a user's role, suspend or reinstate them",
)
def patch_user(ctx: RequestContext, userId: str) -> AdminUserOut:
    """``role``: client or admin (a reader comes only from an approved application, and a
    reader's role is fixed: 422). ``suspend`` (reason, optional future ``until``): from the
    user's next request every route but ``GET /me`` answers 403 ``account_suspended``; a
    reader goes offline, cannot be booked and leaves explore. ``reinstate`` lifts it (a
    suspension with ``until`` also ends by itself then). An admin cannot change their own
    account (403 ``own_account``), so the last admin can never be demoted or suspended; a
    change that races another one on the same account, or on the acting admin's, is 409 and
    changes nothing. Every change is in the audit log."""
    patch: AdminUserPatch = ctx.body
    suspend = (
        accounts.Suspension(reason=patch.suspend.reason, until=patch.suspend.until)
        if patch.suspend is not None
        else None
    )
    user = accounts.change(
        userId,
        actor_id=ctx.user.user_id,
        role=patch.role,
        suspend=suspend,
        reinstate=patch.reinstate is not None,
        note=patch.reinstate.note if patch.reinstate is not None else None,
        request_id=ctx.request_id,
    )
    return _out(user)
