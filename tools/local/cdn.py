"""The local stand-in for the media CDN: ``GET /cdn/<key>`` on the API's local server.

In the cloud, CloudFront serves the media bucket's processed image variants through origin
access control, and the bucket policy lets it read nothing else (infra/resources.json).
Locally, ``MEDIA_BASE_URL`` defaults to ``<API_BASE_URL>/cdn`` (chalicelib/config.py) and
this module answers it from the local S3 the same way: a processed image variant key
(``media_urls.is_variant_key``: ``media/<userId>/<purpose>/<uploadId>/<size>.webp``) is
streamed with its stored Content-Type, its ETag and a long public Cache-Control; any other
key (an upload as it was posted, a video message, anything outside ``media/``) is a 404,
as is a variant that does not exist. ``If-None-Match`` with the current ETag is a 304.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

PREFIX = "/cdn/"
CACHE_CONTROL = "public, max-age=31536000, immutable"  # variants never change: a new upload is a new key
CHUNK_BYTES = 64 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))
    message: str = ""  # for an error status: what the envelope says


def handles(path: str) -> bool:
    return urlsplit(path).path.startswith(PREFIX)


@cache
def _client() -> Any:
    import boto3  # AWS_ENDPOINT_URL (tools/local_env.py) points it at the local S3

    from chalicelib.config import get_settings

    return boto3.session.Session().client("s3", region_name=get_settings().region)


def reset() -> None:
    """Forget the client (tests switching moto contexts)."""
    _client.cache_clear()


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def lookup(path: str, *, method: str = "GET", if_none_match: str | None = None) -> Answer:
    """What ``method`` on ``path`` (``/cdn/<key>``) answers."""
    from botocore.exceptions import ClientError

    from chalicelib.config import get_settings
    from chalicelib.media_urls import is_variant_key

    if method not in ("GET", "HEAD"):
        return Answer(405, {"Allow": "GET, HEAD"}, message=f"The {method} method is not allowed on images; use GET.")
    key = unquote(urlsplit(path).path[len(PREFIX):])
    missing = Answer(404, message="No image at this path.")
    if not is_variant_key(key):
        return missing
    call = _client().head_object if method == "HEAD" else _client().get_object
    arguments: dict[str, Any] = {"Bucket": get_settings().media_bucket_name, "Key": key}
    if if_none_match:
        arguments["IfNoneMatch"] = if_none_match
    try:
        stored = call(**arguments)
    except ClientError as exc:
        error = exc.response.get("Error", {}).get("Code")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error in ("304", "NotModified") or status == 304:
            return Answer(304, {"ETag": str(if_none_match), "Cache-Control": CACHE_CONTROL})
        if error in ("NoSuchKey", "404", "NotFound"):
            return missing
        raise
    headers = {"Content-Type": str(stored.get("ContentType") or "application/octet-stream"),
               "Content-Length": str(stored.get("ContentLength", 0)),
               "ETag": str(stored.get("ETag", "")),
               "Cache-Control": str(stored.get("CacheControl") or CACHE_CONTROL),
               "X-Content-Type-Options": "nosniff"}
    if stored.get("LastModified") is not None:
        headers["Last-Modified"] = stored["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
    return Answer(200, headers, _stream(stored["Body"]) if "Body" in stored else iter(()))
