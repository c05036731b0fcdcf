"""Real time: authorizing Pusher channel subscriptions, and signing connections in.

Who may call: any signed-in user, for their own private channel and the readers' presence
channel only (services/realtime.py decides); every other channel is a 403. Signing in binds
the caller's connection to their user id, so suspending or deleting the account closes it.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.schemas.realtime import ChannelAuthIn, ChannelAuthOut, UserAuthIn, UserAuthOut
from chalicelib.services import realtime

realtime_api = Blueprint(__name__)


@route(realtime_api, "/realtime/auth", "POST", access=SIGNED_IN, body=ChannelAuthIn, response=ChannelAuthOut,
       accepts_form=True, errors=(400,), tags=["realtime"],
       summary="Authorize a Pusher channel subscription (pusher-js channelAuthorization endpoint)")
def authorize_channel(ctx: RequestContext) -> ChannelAuthOut:
    """Signs ``private-user-<your user id>`` and ``presence-readers-online`` (with your public
    identity as ``channel_data``; 403 ``online_status_hidden`` when your privacy hides your
    online status); any other channel is 403 ``channel_forbidden``. The body is a form (what
    pusher-js sends) or JSON; a ``socket_id`` not of the form ``digits.digits`` is 400."""
    body: ChannelAuthIn = ctx.body
    signed = realtime.authorize(ctx.user.user_id, body.socket_id, body.channel_name, user=ctx.user.record)
    return ChannelAuthOut(auth=signed.auth, channel_data=signed.channel_data)


@route(realtime_api, "/realtime/user-auth", "POST", access=SIGNED_IN, body=UserAuthIn, response=UserAuthOut,
       accepts_form=True, errors=(400,), tags=["realtime"],
       summary="Sign a Pusher connection in as you (pusher-js userAuthentication endpoint, for signin())")
def authenticate_user(ctx: RequestContext) -> UserAuthOut:
    """Signs ``user_data`` ``{"id": "<your user id>"}`` for the connection ``socket_id``:
    pusher-js sends it with ``pusher:signin`` when the frontend calls ``pusher.signin()``. A
    signed-in connection is closed when your account is suspended or deleted (Pusher's
    terminate connections, within seconds), so call ``signin()`` on every connection. The body
    is a form (what pusher-js sends) or JSON; a ``socket_id`` not of the form
    ``digits.digits`` is 400."""
    body: UserAuthIn = ctx.body
    signed = realtime.authenticate(ctx.user.user_id, body.socket_id)
    return UserAuthOut(auth=signed.auth, user_data=signed.user_data)
