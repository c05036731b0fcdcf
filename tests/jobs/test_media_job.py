"""The media job, end to end in-process: POST /media/uploads, the browser's form POST to S3
(moto), S3's ObjectCreated event on the media-uploads queue (the bucket notification of
infra/resources.json, applied by tools/resources.py), and the ``media_uploads`` consumer.

An upload that is what it claims gets its WebP variants and is attached; one that is not
is deleted and the user told why; a redelivered event does nothing twice."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

BUCKET = "auralumic-test-media"
QUEUE = "auralumic-test-media-uploads"
READER, CLIENT = "user_job_reader", "user_job_client"


@pytest.fixture()
def people(api, make_user):
    from chalicelib.integrations import s3
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile

    s3.reset()
    make_user(READER, role="reader", image_url="https://img.clerk.example/reader.png")
    make_user(CLIENT, role="client")
    now = iso(utcnow())
    ReaderProfile(reader_id=READER, status="approved", created_at=now, updated_at=now, submitted_at=now).save()
    drain()  # S3's TestEvent, sent when the notification was configured
    return api


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, color="purple" if mode == "RGB" else 1).save(out, fmt)
    return out.getvalue()


def upload(api, user: str, purpose: str, content_type: str, data: bytes, **extra: Any) -> str:
    """What the frontend does: ask for a presigned POST, then post the file to S3."""
    response = api.post("/media/uploads", as_user=user, json_body={
        "purpose": purpose, "contentType": content_type, "contentLength": len(data), **extra})
    assert response.status_code == 201, response.json
    form = response.json
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("upload", data, content_type)},
                           timeout=5)
    assert posted.status_code == 204
    return str(form["key"])


def _queue_url() -> str:
    return boto3.client("sqs", region_name="us-east-1").get_queue_url(QueueName=QUEUE)["QueueUrl"]


def _sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
        "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}", "awsRegion": "us-east-1"}
        for m in messages]}


def drain(bodies: list[str] | None = None) -> list[dict[str, Any]]:
    """Deliver the queue's messages (or ``bodies``, as a redelivery) to the consumer, as Lambda
    does, until the queue is empty; returns each invocation's response."""
    from app import app

    sqs = boto3.client("sqs", region_name="us-east-1")
    responses = []
    with Client(app) as client:
        if bodies is not None:
            messages = [{"MessageId": f"redelivery-{n}", "ReceiptHandle": "r", "Body": body, "MD5OfBody": ""}
                        for n, body in enumerate(bodies)]
            return [client.lambda_.invoke("media_uploads", _sqs_event(messages)).payload]
        while True:
            messages = sqs.receive_message(QueueUrl=_queue_url(), MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return responses
            responses.append(client.lambda_.invoke("media_uploads", _sqs_event(messages)).payload)
            for message in messages:
                sqs.delete_message(QueueUrl=_queue_url(), ReceiptHandle=message["ReceiptHandle"])


def s3_event_for(key: str) -> str:
    """The body S3 sends for an uploaded object (as a redelivery would carry it again)."""
    from urllib.parse import quote_plus

    return json.dumps({"Records": [{"eventName": "ObjectCreated:Post", "eventSource": "aws:s3",
                                    "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}}]})


def objects(prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def events(event_type: str) -> list[dict[str, Any]]:
    from chalicelib.models.outbox import OutboxEvent

    return [e.data.as_dict() for e in OutboxEvent.scan() if e.event_type == event_type]


def dimensions(data: bytes) -> tuple[str | None, tuple[int, int]]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


def profile():
    from chalicelib.models.readers import ReaderProfile

    return ReaderProfile.get(READER, consistent_read=True)


def user(user_id: str):
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True)


# --------------------------------------------------------------------------- images


def test_a_readers_png_gets_three_webp_variants_attached_to_profile_and_account(people):
    key = upload(people, READER, "profile_image", "image/png", image_bytes("PNG", (1200, 600)))
    upload_id = key.rsplit("/", 1)[1].split(".")[0]

    drain()

    base = f"media/{READER}/profile_image/{upload_id}"
    variants = objects(base + "/")
    assert {k: dimensions(v) for k, v in variants.items()} == {
        f"{base}/768.webp": ("WEBP", (768, 384)),
        f"{base}/256.webp": ("WEBP", (256, 128)),
        f"{base}/96.webp": ("WEBP", (96, 48)),
    }
    reader = profile()
    assert reader.profile_image == f"{base}/256.webp"
    assert reader.profile_image_variants.as_dict() == {
        "uploadId": upload_id, "96": f"{base}/96.webp", "256": f"{base}/256.webp", "768": f"{base}/768.webp"}
    assert reader.version == 2  # the attach bumps the version, so a concurrent profile edit conflicts
    assert user(READER).image_url == f"{base}/256.webp"
    [event] = events("media.processed")
    assert event["key"] == key and event["userId"] == READER and event["purpose"] == "profile_image"
    assert event["variants"] == {"96": f"{base}/96.webp", "256": f"{base}/256.webp", "768": f"{base}/768.webp"}
    assert event["attachedTo"] == ["readerProfile", "user"]
    assert events("reader.card_changed") == [{"readerId": READER, "reason": "images"}]  # explore picks it up
    assert key in objects(key)  # the original stays (private), only variants are shown


def test_a_small_jpeg_background_is_never_upscaled(people):
    key = upload(people, READER, "background_image", "image/jpeg", image_bytes("JPEG", (200, 100)))

    drain()

    base = key.rsplit(".", 1)[0]
    sizes = {k.rsplit("/", 1)[1]: dimensions(v)[1] for k, v in objects(base + "/").items()}
    assert sizes == {"768.webp": (200, 100), "256.webp": (200, 100), "96.webp": (96, 48)}
    assert profile().background_image == f"{base}/768.webp"
    assert events("reader.card_changed") == [{"readerId": READER, "reason": "images"}]
    assert user(READER).image_url == "https://img.clerk.example/reader.png"  # a background is not the avatar


def test_a_clients_profile_image_becomes_the_account_image(people):
    from chalicelib.models.readers import ReaderProfile

    key = upload(people, CLIENT, "profile_image", "image/webp", image_bytes("WEBP", (300, 300)))

    drain()

    assert user(CLIENT).image_url == key.rsplit(".", 1)[0] + "/256.webp"
    assert ReaderProfile.count(CLIENT) == 0  # no profile appears for a client
    assert events("media.processed")[0]["attachedTo"] == ["user"]
    assert events("reader.card_changed") == []  # no card changed


def test_an_older_upload_processed_last_does_not_replace_a_newer_one(people):
    older = upload(people, READER, "profile_image", "image/png", image_bytes("PNG", (400, 400)))
    newer = upload(people, READER, "profile_image", "image/png", image_bytes("PNG", (500, 500)))
    drain()  # the queue holds both; process the newer one first, then the older one
    for key in (older, newer):
        objects_before = objects(key.rsplit(".", 1)[0] + "/")
        assert len(objects_before) == 3

    from chalicelib.models.webhooks import ProcessedWebhook

    for marker in ProcessedWebhook.scan():
        marker.delete()  # forget both, then replay newest first: order must not matter
    drain([s3_event_for(newer)])
    drain([s3_event_for(older)])

    assert profile().profile_image == newer.rsplit(".", 1)[0] + "/256.webp"
    assert user(READER).image_url == newer.rsplit(".", 1)[0] + "/256.webp"


# --------------------------------------------------------------------------- rejections


def test_an_html_file_named_png_is_deleted_and_the_user_told_why(people):
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    key = upload(people, READER, "profile_image", "image/png", html)
    before = profile()

    drain()

    assert objects(f"media/{READER}/") == {}  # the upload is gone and no variant was made
    [event] = events("media.rejected")
    assert event["userId"] == READER and event["key"] == key and event["declaredType"] == "image/png"
    assert "not a file type we accept" in event["reason"]
    assert events("media.processed") == []
    after = profile()
    assert (after.profile_image, after.version) == (before.profile_image, before.version)
    assert user(READER).image_url == "https://img.clerk.example/reader.png"


@pytest.mark.parametrize("declared,data,reason", [
    ("image/jpeg", image_bytes("PNG", (10, 10)), "uploaded as image/jpeg but its content is image/png"),
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "damaged"),
    ("image/png", image_bytes("PNG", (8000, 6000), mode="1"), "megapixels"),
])
def test_images_that_are_not_what_they_claim_are_rejected(people, declared, data, reason):
    key = upload(people, CLIENT, "profile_image", declared, data)

    drain()

    assert objects(key) == {}
    [event] = events("media.rejected")
    assert reason in event["reason"]
    assert user(CLIENT).image_url is None


# --------------------------------------------------------------------------- video messages


@pytest.mark.parametrize("content_type,head", [
    ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"),
    ("video/quicktime", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"),
    ("video/webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"),
])
def test_a_video_message_is_checked_and_announced_for_its_reading(people, content_type, head):
    key = upload(people, READER, "video_message", content_type, head + b"\x00" * 4096, readingId="reading_7")

    drain()

    [event] = events("media.processed")
    assert (event["key"], event["readingId"], event["contentType"]) == (key, "reading_7", content_type)
    assert "variants" not in event
    assert key in objects(key)


def test_a_video_that_is_not_a_video_is_deleted(people):
    key = upload(people, READER, "video_message", "video/mp4", image_bytes("PNG", (10, 10)))

    drain()

    assert objects(key) == {}
    assert len(events("media.rejected")) == 1


# --------------------------------------------------------------------------- at-least-once delivery


def test_a_redelivered_event_does_nothing_twice(people):
    key = upload(people, READER, "profile_image", "image/png", image_bytes("PNG", (300, 200)))
    drain()
    first = profile()

    responses = drain([s3_event_for(key), s3_event_for(key)])

    assert responses == [{"batchItemFailures": []}]
    assert len(events("media.processed")) == 1
    assert profile().version == first.version


def test_a_redelivered_rejection_only_deletes_again(people):
    key = upload(people, READER, "profile_image", "image/png", b"<html></html>")
    drain()

    drain([s3_event_for(key)])

    assert len(events("media.rejected")) == 1
    assert objects(key) == {}


def test_only_the_failed_record_returns_to_the_queue(people, monkeypatch):
    from chalicelib.services import media

    good = upload(people, CLIENT, "profile_image", "image/png", image_bytes("PNG", (50, 50)))
    bad = upload(people, READER, "profile_image", "image/png", image_bytes("PNG", (50, 50)))
    real = media.process_upload

    def fail_for_bad(bucket: str, key: str, **kwargs: Any) -> str:
        if key == bad:
            raise RuntimeError("S3 timed out")
        return real(bucket, key, **kwargs)

    monkeypatch.setattr(media, "process_upload", fail_for_bad)
    [response] = drain([s3_event_for(good), s3_event_for(bad)])

    assert response == {"batchItemFailures": [{"itemIdentifier": "redelivery-1"}]}
    assert [e["key"] for e in events("media.processed")] == [good]


def test_s3s_test_event_and_foreign_keys_are_ignored(people):
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    variant = s3_event_for(f"media/{READER}/profile_image/01HZZZZZZZZZZZZZZZZZZZZZZZ/96.webp")
    traversal = s3_event_for(f"media/{READER}/../{CLIENT}/profile_image/01HZZZZZZZZZZZZZZZZZZZZZZZ.png")

    assert drain([test_event, variant, traversal]) == [{"batchItemFailures": []}]
    assert events("media.processed") == events("media.rejected") == []


# --------------------------------------------------------------------------- magic bytes


@pytest.mark.parametrize("head,detected", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
    (b"\x00\x00\x00\x20ftypisom\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00", "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x01\x00", "video/webm"),
    (b"<!DOCTYPE html>", None),
    (b"GIF89a", None),
    (b"", None),
])
def test_magic_bytes_name_the_type(head, detected):
    from chalicelib.services.media import sniff

    assert sniff(head) == detected
