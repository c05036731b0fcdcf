"""Image URLs: what a browser loads for a stored image value.

A stored image is either a processed variant key of our media bucket,
``media/<userId>/<profile_image|background_image>/<uploadId>/<size>.webp`` (the media job
writes them; services/media.py), or an external https URL (e.g. an account image from
Clerk). ``public_url`` makes either one absolute: a variant key is served from
``MEDIA_BASE_URL`` (CloudFront with origin access control in the cloud, infra/resources.json;
the local server's ``/cdn`` on ``make run``, tools/local/cdn.py), an https URL passes
through. Anything else (an unprocessed upload, a video, a malformed value) has no public
URL: None. Only variant keys are public; the bucket policy allows nothing else.

Pure: no I/O (the base URL is a setting).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from chalicelib.config import get_settings

IMAGE_PURPOSES = ("profile_image", "background_image")
_VARIANT_KEY = re.compile(r"^media/(?P<user_id>[A-Za-z0-9_-]{1,128})/(?P<purpose>profile_image|background_image)/"
                          r"(?P<upload_id>[0-9A-Z]{26})/(?P<size>[1-9][0-9]{0,4})\.webp$")


def variant_key_parts(value: str | None) -> dict[str, str] | None:
    """{user_id, purpose, upload_id, size} of a processed image variant key, else None."""
    match = _VARIANT_KEY.match(value or "")
    return match.groupdict() if match else None


def is_variant_key(value: str | None) -> bool:
    return variant_key_parts(value) is not None


def is_https_url(value: str | None) -> bool:
    if not value or not value.isprintable() or " " in value:
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.netloc)


def public_url(value: str | None) -> str | None:
    """The absolute URL of a stored image value, or None when it has none (see the module)."""
    if not value:
        return None
    if is_variant_key(value):
        return f"{get_settings().media_base_url}/{value}"
    if is_https_url(value):
        return value
    return None


def public_variants(variants: dict[str, str] | None) -> dict[str, str] | None:
    """{size: URL} of a variants map {size: key}; sizes without a public URL are left out."""
    urls = {size: url for size, key in (variants or {}).items() if (url := public_url(key)) is not None}
    return urls or None
