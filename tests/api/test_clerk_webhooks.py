"""POST /webhooks/clerk: only Svix-signed deliveries count; replays and out-of-order
deliveries converge on Clerk's newest state; a deleted user stays deleted.

The tests sign deliveries with their own HMAC (not the code under test), exactly as Svix
does: ``v1,<base64 HMAC-SHA256(key, "{svix-id}.{svix-timestamp}.{raw body}")>`` with the
base64-decoded part of the ``whsec_`` secret as the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import time
from typing import Any

import pytest

SECRET = os.environ["CLERK_WEBHOOK_SECRET"]
OTHER_SECRET = "whsec_" + base64.b64encode(b"some-other-endpoint-signing-key").decode()
_ids = itertools.count(1)


def svix_signature(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def clerk_user(user_id: str, *, updated_at: int, email: str | None = "ada@example.com", first: str | None = "Ada",
               last: str | None = "Lovelace", image: str | None = "https://img.clerk.com/ada.png",
               **extra: Any) -> dict[str, Any]:
    addresses = [{"id": "idn_other", "email_address": "old@example.com", "object": "email_address"}]
    if email:
        addresses.append({"id": "idn_primary", "email_address": email, "object": "email_address",
                          "verification": {"status": "verified", "strategy": "email_code"}})
    return {"id": user_id, "object": "user", "email_addresses": addresses,
            "primary_email_address_id": "idn_primary" if email else None, "first_name": first, "last_name": last,
            "image_url": image, "has_image": image is not None, "username": None, "public_metadata": {},
            "created_at": 1_700_000_000_000, "updated_at": updated_at, **extra}


def clerk_event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "object": "event", "type": event_type, "timestamp": 1_700_000_000_000,
            "instance_id": "ins_test"}


def deliver(api, event: dict[str, Any] | None = None, *, body: bytes | None = None, msg_id: str | None = None,
            timestamp: int | None = None, secret: str = SECRET, signature: str | None = None,
            headers: dict[str, str] | None = None) -> Any:
    """Send one signed delivery; ``signature``/``headers`` override what Svix would send."""
    raw = body if body is not None else json.dumps(event).encode()
    msg_id = msg_id or f"msg_test_{next(_ids)}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    sent = {"svix-id": msg_id, "svix-timestamp": str(timestamp),
            "svix-signature": signature or svix_signature(secret, msg_id, timestamp, raw),
            "Content-Type": "application/json"}
    if headers is not None:
        sent = headers
    return api.post("/webhooks/clerk", body=raw, headers=sent)


def stored_user(user_id: str) -> Any:
    from chalicelib.models.users import User

    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        return None


def table_items(short_name: str) -> list[dict[str, Any]]:
    import boto3

    table = boto3.resource("dynamodb").Table(f"{os.environ['RESOURCE_PREFIX']}-{short_name}")
    return table.scan(ConsistentRead=True)["Items"]


def events_of_type(event_type: str) -> list[dict[str, Any]]:
    return [item for item in table_items("outbox") if item["type"] == event_type]


# --- signatures -----------------------------------------------------------------------------

def test_a_signed_user_created_creates_the_user_with_clerks_fields(api):
    response = deliver(api, clerk_event("user.created", clerk_user("user_ada", updated_at=1_700_000_000_500)))

    assert response.status_code == 200
    assert response.json == {"received": True, "outcome": "applied"}
    me = api.get("/me", as_user="user_ada").json
    assert (me["email"], me["displayName"], me["imageUrl"]) == ("ada@example.com", "Ada Lovelace",
                                                                "https://img.clerk.com/ada.png")
    assert me["role"] == "client" and me["status"] == "active" and me["credits"] == 0
    assert me["balance"] == {"available": 0, "held": 0, "earnings": 0, "payable": 0, "owed": 0}
    assert me["createdAt"] == "2023-11-14T22:13:20.000Z"  # Clerk's created_at


def _signed_body_then(mutate):
    body = json.dumps(clerk_event("user.created", clerk_user("user_forged", updated_at=1))).encode()
    msg_id, timestamp = "msg_forged", int(time.time())
    headers = {"svix-id": msg_id, "svix-timestamp": str(timestamp),
               "svix-signature": svix_signature(SECRET, msg_id, timestamp, body), "Content-Type": "application/json"}
    return mutate(body, headers)


def _one_byte_changed(body, headers):
    index = body.index(b"user_forged") + len("user_")
    return body[:index] + b"F" + body[index + 1:], headers


def _without(name):
    return lambda body, headers: (body, {k: v for k, v in headers.items() if k != name})


def _resigned_with_other_secret(body, headers):
    return body, {**headers, "svix-signature": svix_signature(OTHER_SECRET, headers["svix-id"],
                                                              headers["svix-timestamp"], body)}


def _other_msg_id(body, headers):  # the id is part of what is signed
    return body, {**headers, "svix-id": "msg_other"}


def _other_timestamp(body, headers):  # so is the timestamp
    return body, {**headers, "svix-timestamp": str(int(headers["svix-timestamp"]) - 1)}


@pytest.mark.parametrize("mutate", [
    _one_byte_changed, _resigned_with_other_secret, _other_msg_id, _other_timestamp,
    _without("svix-id"), _without("svix-timestamp"), _without("svix-signature"),
    lambda body, headers: (body, {"Content-Type": "application/json"}),
    lambda body, headers: (body, {**headers, "svix-signature": "v1"}),
    lambda body, headers: (body, {**headers, "svix-signature": "garbage"}),
    lambda body, headers: (body, {**headers, "svix-signature": "v1,not-base64!!"}),
    lambda body, headers: (body, {**headers, "svix-signature": headers["svix-signature"].replace("v1,", "v2,")}),
    lambda body, headers: (body, {**headers, "svix-timestamp": "soon"}),
    lambda body, headers: (body, {**headers, "svix-id": "msg with spaces"}),
], ids=["one-byte-changed", "wrong-secret", "other-svix-id", "other-timestamp", "no-svix-id", "no-svix-timestamp",
        "no-svix-signature", "no-headers", "version-only", "garbage", "bad-base64", "unknown-version",
        "non-numeric-timestamp", "malformed-id"])
def test_a_delivery_without_a_valid_signature_is_a_400_and_writes_nothing(api, mutate):
    body, headers = _signed_body_then(mutate)

    response = api.post("/webhooks/clerk", body=body, headers=headers)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_signature"
    assert table_items("users") == [] and table_items("webhook-events") == []


@pytest.mark.parametrize("age_s,accepted", [(6 * 60, False), (-6 * 60, False), (4 * 60, True), (-4 * 60, True)],
                         ids=["6-min-old", "6-min-in-the-future", "4-min-old", "4-min-in-the-future"])
def test_the_timestamp_must_be_within_five_minutes_either_way(api, age_s, accepted):
    response = deliver(api, clerk_event("user.created", clerk_user("user_clock", updated_at=10)),
                       timestamp=int(time.time()) - age_s)

    assert response.status_code == (200 if accepted else 400)
    assert (stored_user("user_clock") is not None) is accepted


@pytest.mark.parametrize("order", ["valid-first", "valid-last"])
def test_one_valid_signature_among_several_is_enough(api, order):
    """Svix sends one signature per active secret while a secret is being rotated."""
    body = json.dumps(clerk_event("user.created", clerk_user("user_rotating", updated_at=10))).encode()
    msg_id, timestamp = "msg_rotating", int(time.time())
    valid = svix_signature(SECRET, msg_id, timestamp, body)
    stale = svix_signature(OTHER_SECRET, msg_id, timestamp, body)
    both = f"{valid} {stale}" if order == "valid-first" else f"{stale} v1a,c29tZXRoaW5n {valid}"

    response = deliver(api, body=body, msg_id=msg_id, timestamp=timestamp, signature=both)

    assert response.status_code == 200
    assert stored_user("user_rotating").email == "ada@example.com"


def test_the_signing_matches_the_standard_webhooks_test_vector():
    """The published Standard Webhooks / Svix example, so our scheme is the real one."""
    from chalicelib.integrations import clerk_webhooks

    signature = clerk_webhooks.sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                    1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"type": "user.created"}',
                                  json.dumps(clerk_event("user.updated", {"id": "user_x"})).encode(),
                                  json.dumps(clerk_event("user.updated", clerk_user("user_x", updated_at="soon")))
                                  .encode(),
                                  json.dumps(clerk_event("user.deleted", {"deleted": True})).encode()],
                         ids=["not-json", "array", "no-data", "no-updated-at", "text-updated-at", "deleted-no-id"])
def test_a_signed_payload_that_is_not_a_clerk_event_is_a_400_and_writes_nothing(api, body):
    response = deliver(api, body=body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_payload"
    assert table_items("users") == [] and table_items("webhook-events") == []


# --- replays and ordering --------------------------------------------------------------------

def test_a_replayed_svix_id_is_acknowledged_and_does_nothing(api):
    event = clerk_event("user.created", clerk_user("user_replay", updated_at=1_000))
    first = deliver(api, event, msg_id="msg_once")
    before = stored_user("user_replay").attribute_values

    # Svix's retry (same id, freshly signed) and a verbatim re-send of the same request.
    again = deliver(api, event, msg_id="msg_once", timestamp=int(time.time()) + 30)
    verbatim = deliver(api, event, msg_id="msg_once")

    assert first.json["outcome"] == "applied"
    assert again.status_code == verbatim.status_code == 200
    assert again.json["outcome"] == verbatim.json["outcome"] == "replay"
    assert stored_user("user_replay").attribute_values == before
    assert [item["eventKey"] for item in table_items("webhook-events")] == ["clerk#msg_once"]


def test_a_replayed_delete_emits_its_event_once(api, make_user):
    make_user("user_gone")
    event = clerk_event("user.deleted", {"id": "user_gone", "deleted": True, "object": "user"})

    outcomes = [deliver(api, event, msg_id=msg).json["outcome"] for msg in ("msg_del", "msg_del", "msg_del_again")]

    # The third is a distinct delivery (Clerk re-sent the event): stale, still one event.
    assert outcomes == ["applied", "replay", "stale"]
    assert [e["data"]["user_id"] for e in events_of_type("user.deleted")] == ["user_gone"]


def test_updates_delivered_out_of_order_converge_on_the_newest(api):
    newest = clerk_event("user.updated", clerk_user("user_ooo", updated_at=3_000, email="new@example.com",
                                                    first="Newest"))
    older = clerk_event("user.updated", clerk_user("user_ooo", updated_at=2_000, email="older@example.com",
                                                   first="Older"))
    created = clerk_event("user.created", clerk_user("user_ooo", updated_at=1_000, email="first@example.com",
                                                     first="First"))

    outcomes = [deliver(api, e).json["outcome"] for e in (newest, older, created)]

    assert outcomes == ["applied", "stale", "stale"]
    user = stored_user("user_ooo")
    assert (user.email, user.display_name, user.clerk_updated_at) == ("new@example.com", "Newest Lovelace", 3_000)


def test_updates_delivered_in_order_each_apply(api):
    for stamp, email in ((1_000, "a@example.com"), (2_000, "b@example.com"), (3_000, "c@example.com")):
        assert deliver(api, clerk_event("user.updated", clerk_user("user_io", updated_at=stamp, email=email))
                       ).json["outcome"] == "applied"
    assert stored_user("user_io").email == "c@example.com"


def test_an_update_after_the_delete_does_not_resurrect_the_user(api):
    deliver(api, clerk_event("user.created", clerk_user("user_late", updated_at=1_000)))
    deleted = deliver(api, clerk_event("user.deleted", {"id": "user_late", "deleted": True, "object": "user"}))
    # An update sent before the delete but delivered after it, and even one stamped later.
    late = [deliver(api, clerk_event("user.updated", clerk_user("user_late", updated_at=stamp))).json["outcome"]
            for stamp in (900, 5_000)]

    assert deleted.json["outcome"] == "applied"
    assert late == ["stale", "stale"]
    user = stored_user("user_late")
    assert user.status == "deleted" and user.deleted_at
    assert (user.email, user.display_name, user.image_url) == (None, None, None)


def test_a_delete_that_arrives_before_the_create_leaves_a_tombstone_the_create_cannot_revive(api):
    deliver(api, clerk_event("user.deleted", {"id": "user_never", "deleted": True, "object": "user"}))
    late_create = deliver(api, clerk_event("user.created", clerk_user("user_never", updated_at=1_000)))

    assert late_create.json["outcome"] == "stale"
    user = stored_user("user_never")
    assert user.status == "deleted" and user.email is None


# --- what Clerk may and may not change --------------------------------------------------------

def test_clerk_data_never_changes_the_role_balances_or_status(api, make_user):
    make_user("user_boss", role="admin", credits_available=40)
    event = clerk_event("user.updated", clerk_user("user_boss", updated_at=2_000, email="boss@example.com",
                                                   public_metadata={"role": "client"}, role="client",
                                                   private_metadata={"role": "client"}))

    assert deliver(api, event).json["outcome"] == "applied"
    me = api.get("/me", as_user="user_boss").json
    assert me["role"] == "admin" and me["credits"] == 40 and me["status"] == "active"
    assert me["email"] == "boss@example.com"


def test_a_user_first_seen_through_a_token_is_updated_in_place(api):
    api.get("/me", token=api.issuer.token("user_early", email="token@example.com"))
    api.patch("/me", as_user="user_early", json_body={"displayName": "Chosen Name"})

    deliver(api, clerk_event("user.updated", clerk_user("user_early", updated_at=2_000, first=None, last=None,
                                                        image=None, email="clerk@example.com")))

    me = api.get("/me", as_user="user_early").json
    assert me["email"] == "clerk@example.com"
    assert me["displayName"] == "Chosen Name"  # Clerk without a name does not erase ours
    assert me.get("imageUrl") is None


def test_a_user_without_a_primary_email_loses_the_stale_one(api):
    deliver(api, clerk_event("user.created", clerk_user("user_phone", updated_at=1_000)))
    deliver(api, clerk_event("user.updated", clerk_user("user_phone", updated_at=2_000, email=None)))

    assert stored_user("user_phone").email is None


def test_an_unknown_event_type_is_acknowledged_recorded_and_ignored(api):
    event = clerk_event("session.created", {"id": "sess_1", "user_id": "user_sess", "object": "session"})

    first = deliver(api, event, msg_id="msg_session")
    second = deliver(api, event, msg_id="msg_session")

    assert (first.status_code, first.json["outcome"]) == (200, "ignored")
    assert second.json["outcome"] == "replay"
    assert table_items("users") == []
    assert [(i["eventKey"], i["type"]) for i in table_items("webhook-events")] == [("clerk#msg_session",
                                                                                   "session.created")]


# --- a deleted user ----------------------------------------------------------------------------

def test_a_deleted_user_is_a_tombstone_with_its_ledger_kept(api, make_user):
    make_user("user_leaving", role="reader", credits_available=12, display_name="Leaving Soon",
              image_url="https://img.example/x.png")

    deliver(api, clerk_event("user.deleted", {"id": "user_leaving", "deleted": True, "object": "user"}))

    user = stored_user("user_leaving")
    assert (user.status, user.role, user.credits_available) == ("deleted", "reader", 12)
    assert (user.email, user.display_name, user.image_url) == (None, None, None)
    [event] = events_of_type("user.deleted")
    assert event["data"]["user_id"] == "user_leaving" and event["data"]["source"] == "clerk"


def test_a_deleted_user_gets_401_on_every_signed_in_route(api, make_user):
    from chalicelib.api import REGISTRY

    make_user("user_deleted_here")
    deliver(api, clerk_event("user.deleted", {"id": "user_deleted_here", "deleted": True, "object": "user"}))
    token = api.issuer.token("user_deleted_here")  # a session token minted before the deletion

    answers = {}
    for spec in REGISTRY:
        if spec.access.is_public:
            continue
        path = spec.path
        for name in spec.path_params:  # access is decided before any object is looked up
            path = path.replace("{" + name + "}", "anything")
        response = api.request(spec.method, path, token=token, json_body=spec.example_body())
        answers[f"{spec.method} {spec.path}"] = (response.status_code,
                                                 (response.json or {}).get("error", {}).get("code"))

    assert answers and all(answer == (401, "account_deleted") for answer in answers.values()), answers
    assert stored_user("user_deleted_here").status == "deleted"  # and it was not provisioned again


@pytest.mark.parametrize("value", ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="])
def test_a_missing_or_malformed_webhook_secret_fails_at_start(monkeypatch, value):
    from chalicelib import config

    monkeypatch.setenv("CLERK_WEBHOOK_SECRET", value)
    with pytest.raises(config.ConfigError, match="CLERK_WEBHOOK_SECRET"):
        config._env_secrets(pusher_host="127.0.0.1")
