"""Media: presigned uploads, and the checks and variants the media job makes of each upload.

**Upload.** ``new_upload`` signs an S3 POST policy for one object, ``media/<userId>/
<purpose>/<uploadId>.<ext>``: S3 itself refuses any other key (so no one writes under
another user's prefix), any other Content-Type than the declared one (from the purpose's
allow-list), a body outside ``content-length-range`` (images <= 5 MB, videos <= 500 MB),
and any POST after the policy's expiry (10 minutes). Nothing is stored at this point.

**Processing** (``process_upload``, called by jobs/media.py for every ObjectCreated under
``media/``). A declared type is a claim: the object's first bytes must carry that type's
signature (JPEG ``FF D8 FF``, PNG ``89 50 4E 47``, WebP ``RIFF....WEBP``, MP4/MOV ``ftyp``
at offset 4, WebM ``1A 45 DF A3``). An object that is not what it claims (an HTML page
named .png, a damaged image, an image of absurd dimensions) is deleted and the user told
why (``media.rejected``). A profile or background image gets WebP variants 96, 256 and 768
px on the longest side (aspect kept, never upscaled, EXIF orientation applied, metadata
dropped) at ``media/<userId>/<purpose>/<uploadId>/<size>.webp``; they are attached to the
reader profile (profileImage = 256, backgroundImage = 768, plus the map of variants) when
the user has one, and a profile image also becomes ``User.imageUrl``. A video message is
only checked: ``media.processed`` carries its key and the reading capability attaches it.

**Idempotent.** One ``ProcessedWebhook`` item (source "media") per upload id and content
(ETag) is written, conditionally, in the transaction that attaches the result and emits
the event: a redelivered S3 event finds it and does nothing again (a redelivered rejection
only re-deletes, in case the first attempt stopped before deleting). Out-of-order events
of two uploads never put the older image back: an attach is conditional on the stored
upload id (ULIDs sort by time) being older or equal. The variants' own ObjectCreated events
are ignored (their keys are not upload keys).
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.integrations import s3
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import outbox
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

CARD_CHANGED = "reader.card_changed"  # services.readers.CARD_CHANGED (readers imports this module)

MB = 1024 * 1024
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"}
PURPOSES: dict[str, tuple[dict[str, str], int]] = {  # purpose -> (allowed types, max bytes)
    "profile_image": (IMAGE_TYPES, 5 * MB),
    "background_image": (IMAGE_TYPES, 5 * MB),
    "video_message": (VIDEO_TYPES, 500 * MB),
}
EXTENSION_OF_TYPE = {content_type: ext for types in (IMAGE_TYPES, VIDEO_TYPES) for content_type, ext in types.items()}
TYPE_OF_EXTENSION = {ext: content_type for content_type, ext in EXTENSION_OF_TYPE.items()}
UPLOAD_EXPIRY_S = 600
VARIANT_SIZES = (768, 256, 96)  # longest side, px; made largest first, each from the previous
ATTACHED_VARIANT = {"profile_image": 256, "background_image": 768}
MAX_PIXELS = 40_000_000  # ~ 7700 x 5200: larger is refused before decoding (decompression bombs)
SIGNATURE_BYTES = 16
MARKER_TTL = timedelta(days=15)
DOWNLOAD_URL_TTL_S = 3600
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_UPLOAD_KEY = re.compile(r"^media/(?P<user_id>[A-Za-z0-9_-]{1,128})/(?P<purpose>profile_image|background_image|"
                         r"video_message)/(?P<upload_id>[0-9A-Z]{26})\.(?P<ext>jpg|png|webp|mp4|webm|mov)$")


def _bucket() -> str:
    return get_settings().media_bucket_name


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class Upload:
    upload_id: str
    key: str
    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


def upload_key(user_id: str, purpose: str, upload_id: str, content_type: str) -> str:
    return f"media/{user_id}/{purpose}/{upload_id}.{EXTENSION_OF_TYPE[content_type]}"


def _invalid(path: str, message: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid.", details={"fields": [{"path": path, "message": message,
                                                                              "type": "value_error"}]})


def new_upload(user_id: str, *, role: str, purpose: str, content_type: str, content_length: int,
               reading_id: str | None = None) -> Upload:
    """A presigned POST for one object under the caller's own prefix (see the module docstring)."""
    if purpose not in PURPOSES:
        raise _invalid("purpose", f"Must be one of {', '.join(PURPOSES)}.")
    allowed, max_bytes = PURPOSES[purpose]
    if content_type not in allowed:
        raise _invalid("contentType", f"A {purpose} must be one of {', '.join(allowed)}.")
    if not 1 <= content_length <= max_bytes:
        raise _invalid("contentLength", f"A {purpose} must be 1 to {max_bytes} bytes ({max_bytes // MB} MB).")
    if reading_id is not None and purpose != "video_message":
        raise _invalid("readingId", "Only a video_message belongs to a reading.")
    if purpose == "video_message" and role != "reader":
        raise Forbidden("Only readers upload video messages.", code="forbidden_purpose")
    if not _SAFE_ID.match(user_id):  # ids come from verified tokens; a key must never gain a path segment
        raise Forbidden("This account cannot upload media.", code="forbidden_purpose")
    upload_id = new_id()
    key = upload_key(user_id, purpose, upload_id, content_type)
    fields = {"Content-Type": content_type}
    conditions: list[Any] = [{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]
    if reading_id is not None:
        fields["x-amz-meta-reading-id"] = reading_id
        conditions.append({"x-amz-meta-reading-id": reading_id})
    post = s3.presigned_post(_bucket(), key, fields=fields, conditions=conditions, expires_in=UPLOAD_EXPIRY_S)
    # The expiry S3 enforces is the one signed into the policy: answer exactly that one.
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    expires_at = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return Upload(upload_id=upload_id, key=key, url=post["url"], fields=dict(post["fields"]),
                  expires_at=iso(expires_at), max_bytes=max_bytes)


def url_for(image: str | None) -> str | None:
    """What a client can fetch for a private object (a video message): a time-limited URL
    for one of our keys, any other value as it is. Images are public through the CDN:
    ``media_urls.public_url``."""
    if image is None or not image.startswith("media/"):
        return image
    return s3.presigned_get(_bucket(), image, expires_in=DOWNLOAD_URL_TTL_S)


def stored(key: str) -> bool:
    """Whether ``key`` is in the media bucket (one HeadObject): a rejected upload is deleted,
    and the variants exist only once the media job processed the upload."""
    return s3.exists(_bucket(), key)


# --------------------------------------------------------------------------- processing


@dataclass(frozen=True)
class UploadKey:
    key: str
    user_id: str
    purpose: str
    upload_id: str
    content_type: str  # the one the extension (and the signed policy) declared

    def variant_key(self, size: int) -> str:
        return f"media/{self.user_id}/{self.purpose}/{self.upload_id}/{size}.webp"


def parse_key(key: str) -> UploadKey | None:
    """The upload an object key is, or None (variants and anything else are not uploads)."""
    match = _UPLOAD_KEY.match(key)
    if not match:
        return None
    return UploadKey(key=key, user_id=match["user_id"], purpose=match["purpose"], upload_id=match["upload_id"],
                     content_type=TYPE_OF_EXTENSION[match["ext"]])


def uploaded_objects(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every ObjectCreated record of an S3 notification (S3's TestEvent: none)."""
    found = []
    for record in message.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3_part = record.get("s3") or {}
        bucket = (s3_part.get("bucket") or {}).get("name")
        key = (s3_part.get("object") or {}).get("key")
        if bucket and key:
            found.append((str(bucket), unquote_plus(str(key))))  # S3 URL-encodes keys in events
    return found


def sniff(head: bytes) -> str | None:
    """The content type a file's first bytes announce, among the ones we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


def _matches(declared: str, detected: str | None) -> bool:
    # MP4 and QuickTime share the ISO base media layout; browsers label either way.
    iso_media = {"video/mp4", "video/quicktime"}
    return detected == declared or (declared in iso_media and detected in iso_media)


class Rejected(Exception):
    """The upload is not what it claims; the message is what the user is told."""


def _marker_key(upload: UploadKey, etag: str) -> str:
    return f"media#{upload.upload_id}#{etag}"


def _already_done(marker: str) -> ProcessedWebhook | None:
    try:
        return ProcessedWebhook.get(marker, consistent_read=True)
    except ProcessedWebhook.DoesNotExist:
        return None


def _marker(marker: str, outcome: str, at: str) -> ProcessedWebhook:
    # SQS keeps a message at most 14 days (dead-letter queue included): no redelivery outlives this.
    expires = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) + MARKER_TTL
    return ProcessedWebhook(event_key=marker, source="media", event_type=outcome, received_at=at,
                            expires_at=int(expires.timestamp()))


def process_upload(bucket: str, key: str, *, now: datetime | None = None) -> str:
    """Check, transform and attach one uploaded object; returns what happened
    (ignored | missing | duplicate | rejected | processed)."""
    upload = parse_key(key)
    if bucket != _bucket() or upload is None:
        return "ignored"
    _, max_bytes = PURPOSES[upload.purpose]
    is_image = upload.purpose in ATTACHED_VARIANT
    stored = (s3.read(bucket, key, limit=max_bytes) if is_image
              else s3.read_head(bucket, key, first_bytes=SIGNATURE_BYTES))
    if stored is None:
        return "missing"  # deleted since (by us, on an earlier rejection, or overwritten and gone)
    marker = _marker_key(upload, stored.etag)
    done = _already_done(marker)
    if done is not None:
        if done.event_type == "media.rejected":
            s3.delete(bucket, key)  # the first attempt may have stopped before deleting
        return "duplicate"
    at = iso(now or utcnow())
    try:
        _check(upload, stored, max_bytes)
        variants = _make_variants(stored.data) if is_image else {}
    except Rejected as rejection:
        return _reject(bucket, upload, stored, marker, str(rejection), at)
    for size, data in variants.items():
        s3.put(bucket, upload.variant_key(size), data, content_type="image/webp",
               cache_control="public, max-age=31536000, immutable")
    return _commit_processed(upload, stored, marker, variants, at)


def _check(upload: UploadKey, stored: s3.StoredObject, max_bytes: int) -> None:
    detected = sniff(stored.data[:SIGNATURE_BYTES])
    if not _matches(upload.content_type, detected):
        what = detected or "not a file type we accept"
        raise Rejected(f"The file was uploaded as {upload.content_type} but its content is {what}.")
    if stored.content_type and stored.content_type != upload.content_type:
        raise Rejected(f"The file was stored as {stored.content_type}, not {upload.content_type}.")
    if stored.size > max_bytes or len(stored.data) > max_bytes:
        raise Rejected(f"The file is larger than {max_bytes // MB} MB.")


def _make_variants(data: bytes) -> dict[int, bytes]:
    """WebP of the longest side 768, 256, 96 px (aspect kept, no upscaling)."""
    # Lazy: Pillow costs the API's cold start nothing; only the media job loads it.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as original:
            if original.width * original.height > MAX_PIXELS:
                raise Rejected(f"The image is {original.width} x {original.height} pixels; "
                               f"at most {MAX_PIXELS // 1_000_000} megapixels are accepted.")
            original.draft("RGB", (VARIANT_SIZES[0], VARIANT_SIZES[0]))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(original)
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
            variants: dict[int, bytes] = {}
            for size in VARIANT_SIZES:
                image.thumbnail((size, size), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                image.save(out, "WEBP", quality=82, method=4)
                variants[size] = out.getvalue()
            return variants
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise Rejected("The image is damaged or could not be read.") from exc


def _reject(bucket: str, upload: UploadKey, stored: s3.StoredObject, marker: str, reason: str, at: str) -> str:
    detected = sniff(stored.data[:SIGNATURE_BYTES])

    def record(tx: Transaction) -> None:
        tx.save(_marker(marker, "media.rejected", at), condition=ProcessedWebhook.event_key.does_not_exist(),
                label="marker")
        outbox.emit(tx, "media.rejected", userId=upload.user_id, purpose=upload.purpose, uploadId=upload.upload_id,
                    key=upload.key, reason=reason, declaredType=upload.content_type, detectedType=detected)

    try:
        atomically(record)
    except ConditionsFailed as failed:
        if "marker" not in failed:
            raise
        # A concurrent delivery recorded the rejection first: the object goes all the same.
    s3.delete(bucket, upload.key)
    logger.info("media upload rejected", extra={"key": upload.key, "reason": reason})
    return "rejected"


def _newer_or_same(stored_variants: Any, upload_id: str) -> bool:
    current = stored_variants.as_dict() if hasattr(stored_variants, "as_dict") else (stored_variants or {})
    return str(current.get("uploadId", "")) <= upload_id


def _commit_processed(upload: UploadKey, stored: s3.StoredObject, marker: str, variants: dict[int, bytes],
                      at: str) -> str:
    variant_keys = {str(size): upload.variant_key(size) for size in sorted(variants)}

    def record(tx: Transaction) -> None:
        tx.save(_marker(marker, "media.processed", at), condition=ProcessedWebhook.event_key.does_not_exist(),
                label="marker")
        attached = _attach(tx, upload, variant_keys, at) if variants else []
        data: dict[str, Any] = {"userId": upload.user_id, "purpose": upload.purpose, "uploadId": upload.upload_id,
                                "key": upload.key, "contentType": upload.content_type, "size": stored.size}
        if variant_keys:
            data["variants"] = variant_keys
            data["attachedTo"] = attached
        if stored.metadata.get("reading-id"):
            data["readingId"] = stored.metadata["reading-id"]
        outbox.emit(tx, "media.processed", **data)

    try:
        # A newer upload or a profile change that raced this one: re-read and attach again.
        atomically(record, retry_on=lambda failed: "marker" not in failed)
    except ConditionsFailed as failed:
        if "marker" in failed:
            return "duplicate"  # a concurrent delivery of the same event won
        raise  # still racing after the retries: SQS redelivers, the next try re-reads
    return "processed"


def _attach(tx: Transaction, upload: UploadKey, variant_keys: dict[str, str], at: str) -> list[str]:
    """Add the profile/user updates to ``tx``; returns what they attach to."""
    main_key = variant_keys[str(ATTACHED_VARIANT[upload.purpose])]
    attached = []
    try:
        profile: ReaderProfile | None = ReaderProfile.get(upload.user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        profile = None
    if profile is not None:
        if upload.purpose == "profile_image":
            image_attr, variants_attr = ReaderProfile.profile_image, ReaderProfile.profile_image_variants
            current = profile.profile_image_variants
        else:
            image_attr, variants_attr = ReaderProfile.background_image, ReaderProfile.background_image_variants
            current = profile.background_image_variants
        if _newer_or_same(current, upload.upload_id):
            tx.update(profile, actions=[image_attr.set(main_key),
                                        variants_attr.set({"uploadId": upload.upload_id, **variant_keys}),
                                        ReaderProfile.updated_at.set(at)],
                      condition=ReaderProfile.reader_id.exists() & (
                          variants_attr.does_not_exist() | (variants_attr["uploadId"] <= upload.upload_id)),
                      add_version_condition=False, label="profile")  # still bumps the version: concurrent edits see it
            # The card shows the picture: explore rebuilds its snapshot on this (same transaction).
            outbox.emit(tx, CARD_CHANGED, readerId=upload.user_id, reason="images")
            attached.append("readerProfile")
    if upload.purpose == "profile_image":
        try:
            user: User | None = User.get(upload.user_id, consistent_read=True)
        except User.DoesNotExist:
            user = None
        own_prefix = f"media/{upload.user_id}/profile_image/"
        if user is not None and user.status != "deleted" and (
                not (user.image_url or "").startswith(own_prefix) or str(user.image_url) <= main_key):
            tx.update(user, actions=[User.image_url.set(main_key), User.updated_at.set(at)],
                      condition=User.user_id.exists() & (User.status != "deleted") & (
                          User.image_url.does_not_exist() | ~User.image_url.startswith(own_prefix)
                          | (User.image_url <= main_key)), label="user")
            attached.append("user")
    return attached
