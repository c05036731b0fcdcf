"""The email links' query (unsubscribe) and the local mail viewer's list."""

from __future__ import annotations

from pydantic import Field

from chalicelib.schemas.common import ApiModel, QueryModel


class UnsubscribeQuery(QueryModel):
    """The query of an email's unsubscribe link."""

    token: str = Field(min_length=1, max_length=2048,
                       description="the signed token of the email's unsubscribe link (one user, one notification type)")


class LocalMailQuery(QueryModel):
    """How many emails the mail viewer lists."""

    limit: int = Field(default=50, ge=1, le=200, description="how many of the newest emails to list")


class LocalMailItem(ApiModel):
    """One email the local stack sent, as the local mail viewer lists it."""

    id: str = Field(description="the copy's id (newest sort first)")
    to: str
    subject: str
    type: str = Field(description="the notification type")
    sent_at: str = Field(description="ISO-8601 UTC")
    user_id: str
    event_id: str
    html_url: str = Field(description="this API's page of the email's HTML part")
    text_url: str = Field(description="this API's page of the email's text part")
    headers: dict[str, str] = Field(description="the MIME headers sent (From, To, Subject, List-Unsubscribe...)")


class LocalMailList(ApiModel):
    """The emails the local stack sent, newest first."""

    messages: list[LocalMailItem]
