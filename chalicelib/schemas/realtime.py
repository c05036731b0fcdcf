"""Pusher channel authorization: the fields keep Pusher's own names (``socket_id``,
``channel_name``, ``channel_data``), which pusher-js sends and expects as they are."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import ApiModel, InputModel


class ChannelAuthIn(InputModel):
    """What pusher-js posts to its ``channelAuthorization.endpoint`` (as a form by default)."""

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", str_strip_whitespace=True, defer_build=True,
        json_schema_extra={"examples": [{"socket_id": "123456.7890123", "channel_name": "presence-readers-online"}]},
    )

    socket_id: str = Field(alias="socket_id", max_length=64, pattern=r"^\d+\.\d+$",
                           description="the connection's socket id, as Pusher assigned it (digits.digits)")
    channel_name: str = Field(alias="channel_name", min_length=1, max_length=200,
                              description="private-user-<your user id>, or presence-readers-online")


class ChannelAuthOut(ApiModel):
    """Pusher's authorization answer, passed to pusher-js as it is."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    auth: str = Field(description="<app key>:<HMAC-SHA256 of socket_id:channel_name[:channel_data]>")
    channel_data: str | None = Field(default=None, alias="channel_data", description=(
        "presence channels only: the JSON member data signed with the subscription, "
        '{"user_id", "user_info": {"name", "role", "imageUrl"}}'))
