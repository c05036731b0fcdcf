"""Pusher channel authorization and user authentication: the fields keep Pusher's own names
(``socket_id``, ``channel_name``, ``channel_data``, ``user_data``), which pusher-js sends and
expects as they are."""

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


class UserAuthIn(InputModel):
    """What pusher-js posts to its ``userAuthentication.endpoint`` on ``signin()`` (a form by default)."""

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", str_strip_whitespace=True, defer_build=True,
        json_schema_extra={"examples": [{"socket_id": "123456.7890123"}]},
    )

    socket_id: str = Field(alias="socket_id", max_length=64, pattern=r"^\d+\.\d+$",
                           description="the connection's socket id, as Pusher assigned it (digits.digits)")


class UserAuthOut(ApiModel):
    """Pusher's user authentication answer, passed to pusher-js as it is: pusher-js sends it
    with ``pusher:signin``, and the connection is then signed in as you."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    auth: str = Field(description="<app key>:<HMAC-SHA256 of socket_id::user::user_data>")
    user_data: str = Field(alias="user_data", description='the signed JSON user data: {"id": "<your user id>"}',
                           examples=['{"id":"user_demo_client1"}'])
