"""POST /media/uploads: a presigned S3 POST whose signed policy allows exactly one object under
the caller's own prefix, of the declared type, within the purpose's size, for 10 minutes.

moto accepts a presigned POST without evaluating its policy, so ``s3_verdict`` below does
what S3 does with a browser's form: check the SigV4 signature of the policy, that every
form field is allowed by a condition, every condition holds (exact values, content-length
range) and the policy has not expired. The tests then try the attacks of the issue on it:
another user's key, a 6 MB image, a wrong type, an expired policy, a tampered policy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

MB = 1024 * 1024
READER, CLIENT = "user_media_reader", "user_media_client"
IGNORED_FIELDS = {"policy", "x-amz-signature", "file"}  # S3 never matches these against conditions


@pytest.fixture()
def users(api, make_user):
    make_user(READER, role="reader")
    make_user(CLIENT, role="client")
    return api


def request_upload(api, user=CLIENT, **body):
    return api.post("/media/uploads", as_user=user, json_body={
        "purpose": "profile_image", "contentType": "image/png", "contentLength": 2048, **body})


def policy_of(upload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def s3_verdict(form: dict[str, str], size: int, now: datetime) -> str:
    """'accepted', or why S3 would refuse this form POST with a file of ``size`` bytes at ``now``."""
    import boto3

    secret = boto3.session.Session().get_credentials().secret_key
    _, date, region, service, _ = form["x-amz-credential"].split("/")
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    if not hmac.compare_digest(hmac.new(key, form["policy"].encode(), hashlib.sha256).hexdigest(),
                               form["x-amz-signature"]):
        return "signature does not match the policy"
    policy = json.loads(base64.b64decode(form["policy"]))
    if now >= datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC):
        return "policy expired"
    covered = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            [(name, value)] = condition.items()
            covered.add(name.lower())
            if name != "bucket" and form.get(name) != value:
                return f"condition failed: {name}"
        elif condition[0] == "content-length-range":
            if not condition[1] <= size <= condition[2]:
                return "file size outside content-length-range"
        elif condition[0] == "eq":
            covered.add(condition[1][1:].lower())
            if form.get(condition[1][1:]) != condition[2]:
                return f"condition failed: {condition[1]}"
        elif condition[0] == "starts-with":
            covered.add(condition[1][1:].lower())
            if not form.get(condition[1][1:], "").startswith(condition[2]):
                return f"condition failed: {condition[1]}"
    extra = {name for name in form if name.lower() not in covered | IGNORED_FIELDS}
    return f"fields not allowed by the policy: {sorted(extra)}" if extra else "accepted"


# --------------------------------------------------------------------------- the policy


def test_an_image_upload_is_a_policy_for_one_key_under_the_callers_prefix(users):
    response = request_upload(users, CLIENT, contentType="image/png", contentLength=48213)

    assert response.status_code == 201
    upload = response.json
    assert upload["key"] == f"media/{CLIENT}/profile_image/{upload['uploadId']}.png"
    assert upload["fields"]["key"] == upload["key"] and upload["fields"]["Content-Type"] == "image/png"
    assert upload["maxBytes"] == 5 * MB
    assert upload["url"].startswith("https://auralumic-test-media.s3")
    conditions = policy_of(upload)["conditions"]
    assert {"key": upload["key"]} in conditions
    assert {"bucket": "auralumic-test-media"} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, 5 * MB] in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]  # no key prefix wildcards
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4: S3 refuses SigV2 on new buckets


def test_the_policy_expires_ten_minutes_after_it_is_issued(users):
    before = datetime.now(UTC).replace(microsecond=0)
    upload = request_upload(users).json
    after = datetime.now(UTC)

    expires = datetime.strptime(policy_of(upload)["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(minutes=10) <= expires <= after + timedelta(minutes=10)
    assert upload["expiresAt"] == expires.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_s3_accepts_the_form_as_issued(users):
    upload = request_upload(users).json
    assert s3_verdict(upload["fields"], size=2048, now=datetime.now(UTC)) == "accepted"


@pytest.mark.parametrize("attack,size,expected", [
    ({"key": f"media/{READER}/profile_image/01HZZZZZZZZZZZZZZZZZZZZZZZ.png"}, 2048, "condition failed: key"),
    ({"key": f"media/{CLIENT}/profile_image/other.png"}, 2048, "condition failed: key"),
    ({}, 6 * MB, "file size outside content-length-range"),
    ({"Content-Type": "text/html"}, 2048, "condition failed: Content-Type"),
    ({"success_action_redirect": "https://evil.example"}, 2048, "fields not allowed by the policy"),
])
def test_s3_refuses_a_form_that_strays_from_the_policy(users, attack, size, expected):
    upload = request_upload(users).json
    assert s3_verdict({**upload["fields"], **attack}, size=size, now=datetime.now(UTC)).startswith(expected)


def test_s3_refuses_the_form_once_the_policy_expired(users):
    upload = request_upload(users).json
    expires = datetime.strptime(upload["expiresAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    assert s3_verdict(upload["fields"], size=2048, now=expires - timedelta(seconds=1)) == "accepted"
    assert s3_verdict(upload["fields"], size=2048, now=expires) == "policy expired"


def test_a_policy_rewritten_by_the_client_no_longer_matches_its_signature(users):
    upload = request_upload(users).json
    policy = policy_of(upload)
    policy["conditions"] = [c for c in policy["conditions"] if not isinstance(c, list)] + [
        ["content-length-range", 1, 100 * MB]]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()

    verdict = s3_verdict({**upload["fields"], "policy": forged}, size=50 * MB, now=datetime.now(UTC))
    assert verdict == "signature does not match the policy"


def test_every_upload_gets_its_own_key(users):
    first, second = request_upload(users).json, request_upload(users).json
    assert first["uploadId"] != second["uploadId"] and first["key"] != second["key"]


# --------------------------------------------------------------------------- types and sizes


@pytest.mark.parametrize("user,purpose,content_type,size,ext,max_bytes", [
    (CLIENT, "profile_image", "image/jpeg", 5 * MB, "jpg", 5 * MB),
    (CLIENT, "profile_image", "image/webp", 1, "webp", 5 * MB),
    (READER, "background_image", "image/png", 300_000, "png", 5 * MB),
    (READER, "video_message", "video/mp4", 500 * MB, "mp4", 500 * MB),
    (READER, "video_message", "video/webm", 10 * MB, "webm", 500 * MB),
    (READER, "video_message", "video/quicktime", 10 * MB, "mov", 500 * MB),
])
def test_each_allowed_type_gets_its_extension_and_size_limit(users, user, purpose, content_type, size, ext,
                                                             max_bytes):
    response = request_upload(users, user, purpose=purpose, contentType=content_type, contentLength=size)

    assert response.status_code == 201
    upload = response.json
    assert upload["key"].startswith(f"media/{user}/{purpose}/") and upload["key"].endswith(f".{ext}")
    assert upload["maxBytes"] == max_bytes
    assert ["content-length-range", 1, max_bytes] in policy_of(upload)["conditions"]
    assert {"Content-Type": content_type} in policy_of(upload)["conditions"]


@pytest.mark.parametrize("body,field", [
    ({"contentType": "image/gif"}, "contentType"),
    ({"contentType": "text/html"}, "contentType"),
    ({"contentType": "video/mp4"}, "contentType"),  # not an image
    ({"contentLength": 6 * MB}, "contentLength"),  # a 6 MB image
    ({"contentLength": 5 * MB + 1}, "contentLength"),
    ({"contentLength": 0}, "contentLength"),
    ({"contentLength": "2048"}, "contentLength"),
    ({"purpose": "avatar"}, "purpose"),
    ({"readingId": "reading_1"}, "readingId"),  # images belong to no reading
    ({"key": f"media/{READER}/profile_image/x.png"}, "key"),  # the caller never chooses the key
    ({"userId": READER}, "userId"),
])
def test_bad_upload_requests_are_400s(users, body, field):
    response = request_upload(users, CLIENT, **body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert field in [f["path"] for f in response.json["error"]["details"]["fields"]]


@pytest.mark.parametrize("body,field", [
    ({"contentType": "image/png"}, "contentType"),
    ({"contentType": "video/mp4", "contentLength": 500 * MB + 1}, "contentLength"),
])
def test_bad_video_requests_are_400s(users, body, field):
    response = request_upload(users, READER, purpose="video_message", **body)
    assert response.status_code == 400
    assert field in [f["path"] for f in response.json["error"]["details"]["fields"]]


def test_a_video_message_records_its_reading_in_the_objects_metadata(users):
    response = request_upload(users, READER, purpose="video_message", contentType="video/mp4",
                              contentLength=10 * MB, readingId="reading_42")

    upload = response.json
    assert upload["fields"]["x-amz-meta-reading-id"] == "reading_42"
    assert {"x-amz-meta-reading-id": "reading_42"} in policy_of(upload)["conditions"]
    assert s3_verdict({**upload["fields"], "x-amz-meta-reading-id": "reading_43"}, size=1,
                      now=datetime.now(UTC)) == "condition failed: x-amz-meta-reading-id"


def test_only_readers_upload_video_messages(users):
    response = request_upload(users, CLIENT, purpose="video_message", contentType="video/mp4", contentLength=MB)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden_purpose"


def test_anonymous_callers_get_no_upload(users):
    response = users.post("/media/uploads", json_body={"purpose": "profile_image", "contentType": "image/png",
                                                       "contentLength": 10})
    assert response.status_code == 401


def test_stored_image_keys_become_time_limited_urls_and_other_urls_pass_through(users):
    from urllib.parse import parse_qs, urlparse

    from chalicelib.services.media import url_for

    url = url_for(f"media/{CLIENT}/profile_image/01HZZZZZZZZZZZZZZZZZZZZZZZ/256.webp")
    assert url is not None
    parsed = urlparse(url)
    assert parsed.path.endswith("/256.webp") and parse_qs(parsed.query)["X-Amz-Expires"] == ["3600"]
    assert url_for("https://img.clerk.example/a.png") == "https://img.clerk.example/a.png"
    assert url_for(None) is None
