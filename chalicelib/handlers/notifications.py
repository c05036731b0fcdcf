"""The caller's in-app notifications: list, mark one read, mark all read.

Who may call: ``SIGNED_IN`` (clients, readers and admins all receive notifications). Every
route answers for the caller alone: the key of every read and write is the caller's own
partition, so another user's notification id is a 404 and nothing changes.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.schemas.notifications import NotificationReadOut, NotificationsPage, NotificationsQuery, ReadAllOut
from chalicelib.services.notifications import store

notifications_api = Blueprint(__name__)


@route(notifications_api, "/notifications", "GET", access=SIGNED_IN, query=NotificationsQuery,
       response=NotificationsPage, errors=(400,), tags=["notifications"],
       summary="The caller's notifications, newest first, with the unread count")
def list_notifications(ctx: RequestContext) -> dict[str, Any]:
    """``?unread=true`` lists only unread ones. ``unreadCount`` counts every unread
    notification of the caller, whatever the filter. A cursor from another list or another
    user is a 400 (``invalid_cursor``). Notifications expire 90 days after their event."""
    query: NotificationsQuery = ctx.query
    found = store.list_page(ctx.user.user_id, unread=query.unread, limit=query.limit, cursor=query.cursor)
    body = found.page.body([item.as_dict() for item in found.items])
    return NotificationsPage.model_validate({**body, "unread_count": found.unread_count}).dump()


@route(notifications_api, "/notifications/read-all", "POST", access=SIGNED_IN, response=ReadAllOut,
       tags=["notifications"], summary="Mark all of the caller's notifications read")
def read_all_notifications(ctx: RequestContext) -> ReadAllOut:
    """Every notification the caller has is read afterwards and ``unreadCount`` is 0;
    notifications that arrive later are unread and counted from 0. Repeating it is harmless."""
    at = store.read_all(ctx.user.user_id)
    return ReadAllOut(unread_count=0, read_at=at)


@route(notifications_api, "/notifications/{notificationId}/read", "POST", access=SIGNED_IN,
       response=NotificationReadOut, errors=(404,), tags=["notifications"],
       summary="Mark one of the caller's notifications read")
def read_notification(ctx: RequestContext, notificationId: str) -> NotificationReadOut:
    """An id that is not one of the caller's notifications is 404 (``not_found``) and
    changes nothing. Marking a read notification again changes nothing and answers the same."""
    item, unread = store.mark_read(ctx.user.user_id, notificationId)
    return NotificationReadOut.model_validate({"data": item.as_dict(), "unread_count": unread})
