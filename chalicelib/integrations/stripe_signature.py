"""Stripe's webhook signature (``Stripe-Signature: t=<unix>,v1=<hex>,v1=<hex>,v0=...``).

``v1`` is the hex HMAC-SHA256 of ``<t>.<raw body>`` keyed with the endpoint secret (the
whole ``whsec_...`` string, as Stripe uses it). Several ``v1`` appear while a secret is
rotated; one match is enough; ``v0`` (test-mode legacy) is never accepted. ``t`` must be
within 300 s of now in either direction (Stripe's library only bounds the past).

Done here rather than with ``stripe.Webhook.construct_event`` so the webhook path does not
import the stripe package (~250 ms of cold start) and so tests can inject the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime

TOLERANCE_S = 300
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class InvalidSignature(Exception):
    """Not provably from Stripe: missing/malformed header, stale timestamp, no matching v1."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """A ``Stripe-Signature`` header value, as Stripe sends it."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(body: bytes, header_value: str | None, secret: str | Sequence[str], *, now: datetime) -> int:
    """Return the signed timestamp when the header holds, else raise ``InvalidSignature``.

    ``secret`` may be several (a rotation's window: the current and the previous one)."""
    if not header_value:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    timestamps: list[str] = []
    candidates: list[str] = []
    for part in header_value.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value.lower())
    if len(timestamps) != 1 or not _TIMESTAMP.match(timestamps[0]):
        raise InvalidSignature("The timestamp in the Stripe-Signature header is malformed.")
    if not candidates:
        raise InvalidSignature("The Stripe-Signature header has no v1 signature.")
    timestamp = int(timestamps[0])
    if abs(now.timestamp() - timestamp) > TOLERANCE_S:
        raise InvalidSignature("The Stripe-Signature timestamp is outside the 300-second tolerance.")
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    expected = [signature(key, timestamps[0], body) for key in secrets]
    for candidate in candidates:
        if _HEX64.match(candidate) and any(hmac.compare_digest(each, candidate) for each in expected):
            return timestamp
    raise InvalidSignature("No v1 signature in the Stripe-Signature header matches.")
