"""``/notifications``: the caller's in-app notifications (the product's ``Notification``)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from chalicelib.domain.notifications import NotificationType
from chalicelib.schemas.common import ApiModel, PageInfo, PageMeta, PageQuery

_AT = "2026-11-28T17:30:00.000Z"
EXAMPLE: dict[str, Any] = {
    "id": "MjAyNi0xMS0yOFQxNzozMDowMC4wMDBaIzAxSkRROFY2TTRaMlg3TjNLNVI5VDFXMEFCI3JlYWRpbmdfYWNjZXB0ZWQ",
    "userId": "user_demo_client1", "type": "reading_accepted", "title": "Your reading was accepted",
    "message": "Luna Marquez accepted your 30-minute phone reading on December 3 at 10:00 AM.",
    "isRead": False, "createdDate": _AT, "relatedId": "01JDQ8V6M4Z2X7N3K5R9T1W0AB",
    "actionUrl": "/readings/01JDQ8V6M4Z2X7N3K5R9T1W0AB", "readAt": None}

class NotificationOut(ApiModel):
    """One in-app notification of the caller."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True,
                              json_schema_extra={"examples": [EXAMPLE]})

    id: str = Field(description="opaque, URL-safe id: use it in POST /notifications/{notificationId}/read")
    user_id: str = Field(description="the recipient: always the caller")
    type: NotificationType = Field(description="the kind of event the notification is about")
    title: str
    message: str
    is_read: bool = Field(description="true once marked read, one by one or with read-all")
    created_date: str = Field(json_schema_extra={"format": "date-time"},
                              description="when the event happened (UTC, ISO 8601); the list is newest first")
    related_id: str | None = Field(default=None, description="the id of the related object (a reading, an "
                                                             "application...), when there is one")
    action_url: str | None = Field(default=None, description="the frontend path to open, when there is one")
    read_at: str | None = Field(default=None, json_schema_extra={"format": "date-time"},
                                description="when it was marked read (read-all's time for those read-all marked); "
                                            "null while unread")


class NotificationsQuery(PageQuery):
    """``?unread=true&limit=&cursor=``: the caller's notifications, newest first."""

    unread: bool = Field(default=False, description="true: only the unread ones")


class NotificationsPage(ApiModel):
    """A page of the caller's notifications, newest first, and how many are unread in all.
    With ``unread=true`` a page may hold fewer than ``limit`` while ``hasNext`` is true."""

    data: list[NotificationOut]
    pagination: PageInfo
    meta: PageMeta
    unread_count: int = Field(ge=0, description="how many of the caller's notifications are unread (kept as a "
                                                "counter, not counted by reading them)")


class NotificationReadOut(ApiModel):
    """The notification, now read, and the caller's unread count after."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True,
                              json_schema_extra={"examples": [{"data": {**EXAMPLE, "isRead": True,
                                                                        "readAt": "2026-11-28T18:00:00.000Z"},
                                                               "unreadCount": 2}]})

    data: NotificationOut
    unread_count: int = Field(ge=0, description="how many of the caller's notifications are still unread")


class ReadAllOut(ApiModel):
    """Every notification of the caller is read."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True,
                              json_schema_extra={"examples": [{"unreadCount": 0,
                                                               "readAt": "2026-11-28T18:00:00.000Z"}]})

    unread_count: int = Field(ge=0, description="always 0 right after the request")
    read_at: str = Field(json_schema_extra={"format": "date-time"}, description="when they were marked read")
