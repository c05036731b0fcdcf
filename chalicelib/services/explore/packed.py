"""The built search index, stored next to the snapshot so a cold container loads it instead
of building it.

Building ``engine.Index`` from the cards takes seconds at 10,000 readers and about a minute at
100,000 (past API Gateway's 29 s); unpickling the built one takes about a second. The job
stores it as ``explore/index-v<ENGINE_FORMAT>.bin``:

    MAGIC (4 bytes) | ENGINE_FORMAT (4 bytes, big-endian) | HMAC-SHA256 tag (32 bytes) | zlib(pickle)

The tag covers the magic, the format and the compressed body, keyed with a key derived from
``settings.cursor_secret`` and a fixed label. Why pickle is acceptable here: the object lives
under a private prefix of the media bucket (no public read, no upload path writes there) that
only the explore job writes, and a container verifies the tag with ``hmac.compare_digest``
BEFORE inflating or unpickling anything, so bytes nobody holding the secret produced are never
unpickled. A rejected object (bad tag, another format, corrupt) is logged and the container
falls back to building the index from the cards object (``snapshot``), which stays the source
of truth. The format is in the key as well: a container of another ``ENGINE_FORMAT`` (a deploy
that changed the index layout) finds no object of its own format and builds from the cards.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.integrations import s3
from chalicelib.logs import logger
from chalicelib.services.explore import engine

KEY = f"explore/index-v{engine.ENGINE_FORMAT}.bin"
CONTENT_TYPE = "application/octet-stream"
MAGIC = b"AXIX"
_LABEL = b"auralumic/explore-index/hmac-sha256"
_TAG = hashlib.sha256().digest_size
_HEADER = len(MAGIC) + 4 + _TAG
MAX_BYTES = 1024 * 1024 * 1024
_LEVEL = 1  # the cards inside are deflated already: a higher level gains little and costs the job seconds


@dataclass(frozen=True)
class Packed:
    """What a container needs besides the index (``store.Snapshot`` without the ETag)."""

    index: engine.Index
    built_at: str
    ids: tuple[str, ...]
    hidden_presence: frozenset[str]


@dataclass(frozen=True)
class Rejected:
    """A stored object this container will not unpickle (the reason is logged)."""

    etag: str
    reason: str


def _key(secret: str | None = None) -> bytes:
    secret = get_settings().cursor_secret if secret is None else secret
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()


def _tag(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).digest()


def serialize(packed: Packed, *, secret: str | None = None) -> bytes:
    payload = {"builtAt": packed.built_at, "ids": packed.ids, "hiddenPresence": packed.hidden_presence,
               "index": packed.index}
    head = MAGIC + engine.ENGINE_FORMAT.to_bytes(4, "big")
    body = zlib.compress(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL), _LEVEL)
    return head + _tag(_key(secret), head + body) + body


class PackedFormatError(ValueError):
    """The stored bytes are not an index this container may load."""


def parse(data: bytes, *, secret: str | None = None) -> Packed:
    """The index in ``data``, after checking its tag; PackedFormatError otherwise (nothing of
    an unauthenticated object is inflated or unpickled)."""
    if len(data) < _HEADER or data[:len(MAGIC)] != MAGIC:
        raise PackedFormatError("The stored explore index does not start with the expected header.")
    head, tag, body = data[:len(MAGIC) + 4], data[len(MAGIC) + 4:_HEADER], data[_HEADER:]
    if not hmac.compare_digest(tag, _tag(_key(secret), head + body)):
        raise PackedFormatError("The stored explore index failed its HMAC check.")
    found = int.from_bytes(head[len(MAGIC):], "big")
    if found != engine.ENGINE_FORMAT:
        raise PackedFormatError(f"The stored explore index has format {found}, not {engine.ENGINE_FORMAT}.")
    # Authenticated above: written by the explore job under a private prefix (module docstring).
    payload: Any = pickle.loads(zlib.decompress(body))  # noqa: S301 - HMAC-verified, job-written private object
    if not isinstance(payload, dict) or not isinstance(payload.get("index"), engine.Index):
        raise PackedFormatError("The stored explore index does not hold an index.")
    return Packed(index=payload["index"], built_at=str(payload["builtAt"]), ids=tuple(payload["ids"]),
                  hidden_presence=frozenset(payload["hiddenPresence"]))


def write(packed: Packed) -> str:
    """Store the index (one PutObject); returns its ETag."""
    return s3.put(get_settings().media_bucket_name, KEY, serialize(packed), content_type=CONTENT_TYPE)


def read(etag: str | None = None) -> tuple[Packed, str] | Rejected | s3.NotModifiedType | None:
    """The stored index and its ETag (one GetObject); ``s3.NOT_MODIFIED`` when its ETag is still
    ``etag``; None when there is none of this format; ``Rejected`` (logged) when it fails its
    checks."""
    stored = s3.read_if_changed(get_settings().media_bucket_name, KEY, etag=etag, limit=MAX_BYTES)
    if stored is None or stored is s3.NOT_MODIFIED:
        return stored
    assert isinstance(stored, s3.StoredObject)
    try:
        if stored.size > MAX_BYTES:
            raise PackedFormatError(f"The stored explore index exceeds {MAX_BYTES} bytes.")
        return parse(stored.data), stored.etag
    except (PackedFormatError, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            TypeError, KeyError, ValueError) as exc:
        logger.warning("explore index object rejected; building from the cards object",
                       extra={"key": KEY, "etag": stored.etag, "reason": str(exc)})
        return Rejected(etag=stored.etag, reason=str(exc))
