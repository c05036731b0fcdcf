"""S3, thinly: presigned POSTs for browser uploads, and the object reads/writes the media job needs.

The client signs with SigV4 (``s3v4``): S3 refuses SigV2 on buckets created since 2020,
and a presigned POST carries its policy's signature. It is built once per container, on
the first path that needs it (``reset`` forgets it, for tests switching moto contexts).
``AWS_ENDPOINT_URL`` (the local runner) points it at moto's server like every client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chalicelib.config import get_settings


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int  # the whole object's size, even when only its first bytes were read
    content_type: str
    etag: str
    data: bytes  # the bytes read (the first ones, or all)
    metadata: dict[str, str] = field(default_factory=dict)


@cache
def _client() -> Any:
    import boto3  # lazy, as in integrations/aws.py
    from botocore.config import Config

    return boto3.session.Session().client("s3", region_name=get_settings().region,
                                          config=Config(signature_version="s3v4"))


def reset() -> None:
    _client.cache_clear()


def presigned_post(bucket: str, key: str, *, fields: dict[str, str], conditions: list[Any],
                   expires_in: int) -> dict[str, Any]:
    """``{"url", "fields"}`` for an HTML form POST of exactly ``key`` (S3 adds bucket and key
    conditions itself; ``conditions`` add the rest)."""
    return dict(_client().generate_presigned_post(Bucket=bucket, Key=key, Fields=fields, Conditions=conditions,
                                                  ExpiresIn=expires_in))


def presigned_get(bucket: str, key: str, *, expires_in: int = 3600, filename: str | None = None) -> str:
    """A time-limited download URL for a private object; with ``filename``, the browser saves
    it under that name (the response's Content-Disposition)."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return str(_client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))


def _missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def _stored(key: str, response: dict[str, Any], data: bytes) -> StoredObject:
    size = int(response.get("ContentLength", len(data)))
    total = re.search(r"/(\d+)$", response.get("ContentRange") or "")
    return StoredObject(key=key, size=int(total.group(1)) if total else size,
                        content_type=str(response.get("ContentType") or ""),
                        etag=str(response.get("ETag", "")).strip('"'), data=data,
                        metadata={k.lower(): v for k, v in (response.get("Metadata") or {}).items()})


def _read_body(key: str, response: dict[str, Any], size: int) -> StoredObject:
    """The object of a GetObject ``response``, reading at most ``size`` bytes of its body."""
    body = response["Body"]
    try:
        data = body.read(size)
    finally:
        body.close()
    return _stored(key, response, data)


def read(bucket: str, key: str, *, limit: int) -> StoredObject | None:
    """The object, reading at most ``limit + 1`` bytes (so an oversized one is seen without
    reading all of it); None when there is no such object."""
    from botocore.exceptions import ClientError

    try:
        response = _client().get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return _read_body(key, response, limit + 1)


def read_head(bucket: str, key: str, *, first_bytes: int) -> StoredObject | None:
    """The object's first ``first_bytes`` bytes (a ranged GET) and its metadata; None when
    there is no such object. An empty object reads as no bytes."""
    from botocore.exceptions import ClientError

    try:
        response = _client().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{first_bytes - 1}")
    except ClientError as exc:
        if _missing(exc):
            return None
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "InvalidRange":
            head = _client().head_object(Bucket=bucket, Key=key)
            return _stored(key, head, b"")
        raise
    return _read_body(key, response, first_bytes)


def exists(bucket: str, key: str) -> bool:
    """One HeadObject: whether the object is there."""
    from botocore.exceptions import ClientError

    try:
        _client().head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _missing(exc):
            return False
        raise
    return True


def put(bucket: str, key: str, data: bytes, *, content_type: str, cache_control: str | None = None,
        encrypted: bool = False) -> str:
    """Returns the stored object's ETag (unquoted). ``encrypted`` asks S3 for server-side
    encryption (SSE-S3) explicitly, whatever the bucket's default."""
    extra: dict[str, str] = {"CacheControl": cache_control} if cache_control else {}
    if encrypted:
        extra["ServerSideEncryption"] = "AES256"
    response = _client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra)
    return str(response.get("ETag", "")).strip('"')


class NotModifiedType:
    """The answer of a conditional read whose object still has the ETag given."""

    def __repr__(self) -> str:
        return "NOT_MODIFIED"


NOT_MODIFIED = NotModifiedType()


def read_if_changed(bucket: str, key: str, *, etag: str | None, limit: int) -> StoredObject | NotModifiedType | None:
    """One GetObject, conditional on the ETag (``IfNoneMatch``) when one is given:
    ``NOT_MODIFIED`` when the object still has it, None when there is no object, else the
    object (at most ``limit + 1`` bytes read, as ``read``)."""
    from botocore.exceptions import ClientError

    condition = {"IfNoneMatch": f'"{etag}"'} if etag else {}
    try:
        response = _client().get_object(Bucket=bucket, Key=key, **condition)
    except ClientError as exc:
        error = getattr(exc, "response", {})
        if error.get("Error", {}).get("Code") in ("304", "NotModified") or \
                error.get("ResponseMetadata", {}).get("HTTPStatusCode") == 304:
            return NOT_MODIFIED
        if _missing(exc):
            return None
        raise
    return _read_body(key, response, limit + 1)


def delete(bucket: str, key: str) -> None:
    """Idempotent: deleting a missing object succeeds."""
    _client().delete_object(Bucket=bucket, Key=key)


DELETE_BATCH = 1000  # DeleteObjects' limit


def delete_prefix(bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (ListObjectsV2 pages, DeleteObjects batches);
    returns how many. Idempotent."""
    if not prefix or not prefix.endswith("/"):
        raise ValueError(f"refusing to delete under {prefix!r}: a prefix must name a folder")
    deleted = 0
    for page in _client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents") or []]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            response = _client().delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                raise RuntimeError(f"S3 could not delete {len(errors)} objects under {prefix}: {errors[0]}")
            deleted += len(batch)
    return deleted
