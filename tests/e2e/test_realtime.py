"""On ``make run`` real time works as a frontend sees it: the banner says where pusher-js
connects, ``/realtime/auth`` signs the caller's channels for the local Pusher server, and a
reader going offline reaches a subscribed websocket through the outbox, the queue, the
consumer and the real pusher client."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlencode

import requests

from tests.e2e.conftest import LocalStack
from tests.support.pusher import PusherClient

FORM = "application/x-www-form-urlencoded"
# Generous: the stack may still be fanning out its seeded events on a loaded machine.
ANNOUNCED_WITHIN_S = 20


def _ws_url(stack: LocalStack) -> str:
    match = re.search(r"Realtime\s+(ws://\S+)", stack.runner.stdout())
    assert match, f"no Realtime line in the banner:\n{stack.runner.stdout()}"
    return match[1]


def test_a_reader_status_change_reaches_a_pusher_subscriber(local_stack: LocalStack) -> None:
    reader = local_stack.tokens["reader1"]
    headers = {"Authorization": f"Bearer {reader['token']}"}
    channel = f"private-user-{reader['userId']}"
    assert "channelAuthorization: { endpoint: '" + local_stack.url + "/realtime/auth'" in local_stack.runner.stdout()

    with PusherClient(_ws_url(local_stack)) as client:
        signed = requests.post(f"{local_stack.url}/realtime/auth", timeout=10,
                               headers={**headers, "Content-Type": FORM},
                               data=urlencode({"socket_id": client.socket_id, "channel_name": channel}))
        assert signed.status_code == 200, signed.text
        client.subscribed(channel, signed.json()["auth"])
        client.subscribed("readers")

        other = requests.post(f"{local_stack.url}/realtime/auth", timeout=10, headers={**headers, "Content-Type": FORM},
                              data=urlencode({"socket_id": client.socket_id, "channel_name": "private-user-someone"}))
        assert other.status_code == 403

        for online in (False, True):
            changed = requests.put(f"{local_stack.url}/reader/online", headers=headers, json={"online": online},
                                   timeout=10)
            assert changed.status_code == 200, changed.text
            expected = {"readerId": reader["userId"], "isOnline": online, "lastSeenAt": changed.json()["lastSeenAt"]}

            deadline = time.monotonic() + ANNOUNCED_WITHIN_S
            # Other demo readers' heartbeats and timeouts come through too: skip them.
            while json.loads(client.next_event("reader-status", channel="readers",
                                               timeout_s=max(0.1, deadline - time.monotonic()))["data"]) != expected:
                assert time.monotonic() < deadline, f"{expected} not announced within {ANNOUNCED_WITHIN_S} s"
