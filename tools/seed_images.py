"""The demo readers' pictures: a generated profile and background image each, uploaded
through the real pipeline.

For each image: a presigned POST (``media.new_upload``), the browser's form POST of a PNG
to S3, then the media job's own processing (``media.process_upload``: checks, WebP
variants, attached to the profile and, for a profile image, the account). The seed runs
before ``make run`` starts its workers, so it processes the upload itself; the S3 event it
also caused is then a duplicate for the worker (the processing is idempotent per upload).
A reader who already has the variants is skipped, so a second seed run uploads nothing.

Each picture is distinct: a diagonal gradient in colours derived from the reader's handle,
with the reader's initials on the profile image.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

PROFILE_SIZE = (512, 512)
BACKGROUND_SIZE = (1200, 400)
_UPLOAD_TIMEOUT_S = 30


def _colours(handle: str, purpose: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(f"{handle}:{purpose}".encode()).digest()
    return (48 + digest[0] % 128, 48 + digest[1] % 128, 48 + digest[2] % 128), \
        (128 + digest[3] % 128, 128 + digest[4] % 128, 128 + digest[5] % 128)


def initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper()


def picture(handle: str, name: str, purpose: str) -> bytes:
    """A PNG: a gradient distinct per reader and purpose; the profile image carries the initials."""
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    size = PROFILE_SIZE if purpose == "profile_image" else BACKGROUND_SIZE
    dark, light = _colours(handle, purpose)
    ramp = Image.linear_gradient("L").rotate(45, expand=True).resize(size)
    image = ImageOps.colorize(ramp, black=dark, white=light).convert("RGB")
    if purpose == "profile_image":
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=size[1] // 3)
        draw.text((size[0] / 2, size[1] / 2), initials(name), fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(user_id: str, purpose: str, data: bytes) -> str:
    """What a reader's browser does, then what the media job does; returns the upload key."""
    import requests

    from chalicelib.config import get_settings
    from chalicelib.services import media

    form = media.new_upload(user_id, role="reader", purpose=purpose, content_type="image/png",
                            content_length=len(data))
    posted = requests.post(form.url, data=form.fields, files={"file": (f"{purpose}.png", data, "image/png")},
                           timeout=_UPLOAD_TIMEOUT_S)
    if posted.status_code not in (200, 201, 204):
        raise RuntimeError(f"S3 refused the demo {purpose} of {user_id}: HTTP {posted.status_code}")
    outcome = media.process_upload(get_settings().media_bucket_name, form.key)
    if outcome not in ("processed", "duplicate"):
        raise RuntimeError(f"the demo {purpose} of {user_id} was {outcome}")
    return form.key


def seed_pictures(readers: list[dict[str, Any]], user_id: Any) -> int:
    """Give each reader (``{"handle", "name"}``) both pictures; returns how many were uploaded."""
    from chalicelib.models.readers import ReaderProfile

    uploaded = 0
    for reader in readers:
        reader_id = user_id(reader["handle"])
        profile = ReaderProfile.get(reader_id, consistent_read=True)
        for purpose, variants in (("profile_image", profile.profile_image_variants),
                                  ("background_image", profile.background_image_variants)):
            if variants:
                continue
            upload(reader_id, purpose, picture(reader["handle"], reader["name"], purpose))
            uploaded += 1
    return uploaded
