"""Clerk's webhooks are delivered by Svix and signed with the Standard Webhooks scheme.

``svix-signature`` holds one or more space-separated ``v1,<base64 HMAC-SHA256>`` of
``{svix-id}.{svix-timestamp}.{raw body}``, keyed with the base64-decoded part of the
``whsec_`` secret (several appear while a secret is rotated; one match is enough), and
``svix-timestamp`` must be within 5 minutes of now, either way.

The check is done here with ``hmac.compare_digest`` rather than with the
``standardwebhooks`` package: that package reads the wall clock (no injectable ``now``),
decodes the body to text and encodes it again before signing, and lets a malformed
signature header escape as ``ValueError``/``binascii.Error`` instead of a verification
failure. The scheme itself is these few lines, and a known-answer test pins them to the
published Standard Webhooks test vector.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class InvalidSignature(Exception):
    """The delivery is not provably from Clerk: missing headers, stale timestamp or no matching signature."""


def signing_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(body: bytes, headers: Mapping[str, str], secret: str | Sequence[str], *, now: datetime) -> str:
    """Return the delivery's ``svix-id`` when the signature holds, else raise ``InvalidSignature``.

    ``secret`` may be several (a rotation's window: the current and the previous one); a
    signature made with any of them holds."""
    lowered = {str(key).lower(): str(value) for key, value in headers.items()}
    message_id = lowered.get("svix-id", "").strip()
    timestamp = lowered.get("svix-timestamp", "").strip()
    signatures = lowered.get("svix-signature", "").strip()
    if not (message_id and timestamp and signatures):
        raise InvalidSignature("missing svix-id, svix-timestamp or svix-signature")
    if not _MESSAGE_ID.match(message_id):
        raise InvalidSignature("malformed svix-id")
    if not _TIMESTAMP.match(timestamp):
        raise InvalidSignature("malformed svix-timestamp")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise InvalidSignature("svix-timestamp outside the 5-minute tolerance")
    # Signed exactly as sent: the header's own digits, the body's own bytes.
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    expected = [base64.b64decode(sign(key, message_id, timestamp, body).split(",", 1)[1]) for key in secrets]
    for candidate in signatures.split():
        version, _, encoded = candidate.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            provided = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(hmac.compare_digest(each, provided) for each in expected):
            return message_id
    raise InvalidSignature("no matching signature")
