"""Pictures that load: every image field of a response is an absolute URL (processed variants
on the media CDN, external https URLs as set), only a processed variant of the caller's own
upload that exists can be set as a profile image, and the local CDN (tools/local/cdn.py,
behind the local server) serves processed variants, and nothing else, from the local S3."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.api.test_reader_applications import ADMIN, COMPLETE, become_reader, seed_catalog

READER = "user_pictures_reader"
BUCKET = "auralumic-test-media"
CDN = "http://api.test.auralumic.example/cdn"  # MEDIA_BASE_URL's default: API_BASE_URL + /cdn
UPLOAD_ID = "01JDQ8V6M4Z2X7N3K5R9T1W0AF"


@pytest.fixture()
def reader(api, make_user):
    from chalicelib.integrations import s3
    from tools.local import cdn

    s3.reset()
    cdn.reset()
    seed_catalog()
    make_user(ADMIN, role="admin")
    become_reader(api, make_user, READER)
    return api


def png(size: tuple[int, int] = (600, 400)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color="teal").save(out, "PNG")
    return out.getvalue()


def uploaded(user: str, purpose: str, data: bytes, upload_id: str, content_type: str = "image/png") -> str:
    """An object as the browser's form POST leaves it (the key the presigned policy fixes)."""
    from chalicelib.services import media

    key = media.upload_key(user, purpose, upload_id, content_type)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=data,
                                                           ContentType=content_type)
    return key


def processed(user: str, purpose: str, upload_id: str) -> str:
    """Upload a PNG and run the media job's processing on it; returns the upload key."""
    from chalicelib.services import media

    key = uploaded(user, purpose, png(), upload_id)
    assert media.process_upload(BUCKET, key) == "processed"
    return key


# --- public_url ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    (f"media/u1/profile_image/{UPLOAD_ID}/256.webp", f"{CDN}/media/u1/profile_image/{UPLOAD_ID}/256.webp"),
    (f"media/u1/background_image/{UPLOAD_ID}/768.webp", f"{CDN}/media/u1/background_image/{UPLOAD_ID}/768.webp"),
    ("https://img.clerk.com/abc.png", "https://img.clerk.com/abc.png"),
    (f"media/u1/profile_image/{UPLOAD_ID}.png", None),  # an upload as posted, never processed
    (f"media/u1/video_message/{UPLOAD_ID}.mp4", None),  # videos are private
    (f"media/u1/video_message/{UPLOAD_ID}/256.webp", None),
    (f"media/u1/../u2/profile_image/{UPLOAD_ID}/256.webp", None),
    ("http://images.example.com/a.png", None),
    ("javascript:alert(1)", None),
    ("", None),
    (None, None),
])
def test_public_url_makes_a_stored_image_absolute_or_none(value, expected):
    from chalicelib.media_urls import public_url

    assert public_url(value) == expected


def test_public_url_uses_the_configured_media_base_url(monkeypatch):
    from chalicelib import config
    from chalicelib.media_urls import public_url

    # Settings read from this environment, without replacing the process-wide cached ones
    # (other tests' tokens and clients were made against those).
    monkeypatch.setenv("MEDIA_BASE_URL", "https://d111111abcdef8.cloudfront.net/")
    fresh = config.get_settings.__wrapped__()
    monkeypatch.setattr("chalicelib.media_urls.get_settings", lambda: fresh)
    assert public_url(f"media/u1/profile_image/{UPLOAD_ID}/96.webp") == (
        f"https://d111111abcdef8.cloudfront.net/media/u1/profile_image/{UPLOAD_ID}/96.webp")


# --- responses ------------------------------------------------------------------------------------------


def test_a_processed_upload_shows_as_cdn_urls_on_card_profile_and_me(reader):
    processed(READER, "profile_image", UPLOAD_ID)
    base = f"{CDN}/media/{READER}/profile_image/{UPLOAD_ID}"

    card = reader.get(f"/readers/{READER}").json
    own = reader.get("/reader/profile", as_user=READER).json
    me = reader.get("/me", as_user=READER).json

    for document in (card, own):
        assert document["profileImage"] == f"{base}/256.webp"
        assert document["profileImageVariants"] == {size: f"{base}/{size}.webp" for size in ("96", "256", "768")}
    assert me["imageUrl"] == f"{base}/256.webp"


def test_a_stored_value_without_a_public_url_is_left_out(reader):
    from chalicelib.models.readers import ReaderProfile

    raw = f"media/{READER}/profile_image/{UPLOAD_ID}.png"
    ReaderProfile(reader_id=READER, version=0).update(actions=[ReaderProfile.profile_image.set(raw)],
                                                      add_version_condition=False)
    card = reader.get(f"/readers/{READER}").json
    assert "profileImage" not in card  # never a bare key a browser cannot load


def test_the_openapi_document_says_image_fields_are_uris(api):
    schemas = api.get("/openapi.json").json["components"]["schemas"]
    for name in ("ReaderCard", "ReaderProfileOut"):
        image = schemas[name]["properties"]["profileImage"]
        assert {"type": "string", "format": "uri"} in image["anyOf"], (name, image)
        variants = schemas[name]["properties"]["profileImageVariants"]
        assert {"type": "string", "format": "uri"} in [v.get("additionalProperties") for v in variants["anyOf"]]


# --- what can be set --------------------------------------------------------------------------------------


def _patch_image(api: Any, field: str, value: str) -> Any:
    return api.patch("/reader/profile", as_user=READER, json_body={field: value})


def _error(response: Any) -> dict[str, str]:
    [error] = response.json["error"]["details"]["fields"]
    return dict(error)


def test_a_processed_variant_of_ones_own_upload_can_be_set(reader):
    processed(READER, "background_image", UPLOAD_ID)
    key = f"media/{READER}/background_image/{UPLOAD_ID}/768.webp"

    response = _patch_image(reader, "backgroundImage", key)

    assert response.status_code == 200, response.json
    assert response.json["backgroundImage"] == f"{CDN}/{key}"


def test_the_raw_upload_cannot_be_set(reader):
    key = processed(READER, "profile_image", UPLOAD_ID)

    response = _patch_image(reader, "profileImage", key)

    assert response.status_code == 400
    error = _error(response)
    assert error["path"] == "profileImage" and error["type"] == "unprocessed_media_key"
    assert error["message"].startswith("Only a processed image can be set")


def test_an_upload_the_media_job_rejected_cannot_be_set(reader):
    from chalicelib.services import media

    key = uploaded(READER, "profile_image", b"<html>not an image</html>", UPLOAD_ID)
    assert media.process_upload(BUCKET, key) == "rejected"

    response = _patch_image(reader, "profileImage", f"media/{READER}/profile_image/{UPLOAD_ID}/256.webp")

    assert response.status_code == 400
    error = _error(response)
    assert error["type"] == "media_not_found"
    assert error["message"] == "This image does not exist: its upload was rejected or is not processed yet."
    assert reader.get(f"/readers/{READER}").json["profileImage"] == COMPLETE["profileImage"]  # unchanged


def test_a_variant_of_the_other_purpose_or_another_user_cannot_be_set(reader):
    processed(READER, "background_image", UPLOAD_ID)

    wrong_purpose = _patch_image(reader, "profileImage", f"media/{READER}/background_image/{UPLOAD_ID}/256.webp")
    foreign = _patch_image(reader, "profileImage", f"media/user_other/profile_image/{UPLOAD_ID}/256.webp")

    assert wrong_purpose.status_code == 400 and _error(wrong_purpose)["type"] == "wrong_media_purpose"
    assert foreign.status_code == 400 and _error(foreign)["type"] == "foreign_media_key"


# --- the local CDN ------------------------------------------------------------------------------------------


@pytest.fixture()
def cdn_server(reader) -> Iterator[str]:
    """The local server (tools/local/server.py) on a free port, in this process (moto in-process)."""
    from chalice import Chalice

    from tools.local.server import create_server

    app = Chalice(app_name="cdn-test")  # the CDN answers before any route; a bare app keeps the real one intact

    @app.route("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    server = create_server(app, None, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_variant_url_from_a_card_loads_as_webp_with_cache_headers(reader, cdn_server):
    from PIL import Image

    processed(READER, "profile_image", UPLOAD_ID)
    url = reader.get(f"/readers/{READER}").json["profileImageVariants"]["96"]

    status, headers, body = fetch(url.replace(CDN, f"{cdn_server}/cdn"))

    assert status == 200
    assert headers["Content-Type"] == "image/webp"
    assert "public" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]
    assert headers["ETag"].startswith('"') and int(headers["Content-Length"]) == len(body)
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "WEBP" and max(image.size) == 96
    again, _, _ = fetch(url.replace(CDN, f"{cdn_server}/cdn"), {"If-None-Match": headers["ETag"]})
    assert again == 304


@pytest.mark.parametrize("kind", ["raw upload", "video", "missing variant", "outside media"])
def test_anything_but_a_stored_processed_variant_is_404(reader, cdn_server, kind):
    raw = processed(READER, "profile_image", UPLOAD_ID)
    video = uploaded(READER, "video_message", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "01JDQ8V6M4Z2X7N3K5R9T1W0AG",
                     content_type="video/mp4")
    key = {"raw upload": raw, "video": video,
           "missing variant": f"media/{READER}/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AH/256.webp",
           "outside media": "explore/snapshot.json.gz"}[kind]

    status, headers, body = fetch(f"{cdn_server}/cdn/{key}")

    assert status == 404
    assert headers["Content-Type"] == "application/json" and b'"not_found"' in body


# --- the demo seed ------------------------------------------------------------------------------------------


def test_every_demo_reader_has_pictures_that_load(api, issuer, cdn_server):
    from tools.seed import READERS, seed_demo, user_id

    seed_demo(issuer)

    for spec in READERS:
        card = api.get(f"/readers/{user_id(spec['handle'])}").json
        assert card["profileImage"].startswith(f"{CDN}/media/{user_id(spec['handle'])}/profile_image/"), spec
        assert card["backgroundImage"].startswith(f"{CDN}/media/{user_id(spec['handle'])}/background_image/"), spec
        for url in (card["profileImage"], card["backgroundImage"]):
            status, headers, _ = fetch(url.replace(CDN, f"{cdn_server}/cdn"))
            assert (status, headers["Content-Type"]) == (200, "image/webp"), url
    profiles = {api.get(f"/readers/{user_id(spec['handle'])}").json["profileImage"] for spec in READERS}
    assert len(profiles) == len(READERS)  # one picture each
