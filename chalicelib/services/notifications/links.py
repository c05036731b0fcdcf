"""The links every email carries: the signed unsubscribe link, the settings page, the action.

An unsubscribe token names one user and one notification type, signed with HMAC-SHA256:
``<base64url(json)>.<base64url(mac)>``. It does not expire (an unsubscribe link must keep
working for as long as the email sits in an inbox) and it needs no sign-in (RFC 8058's
one-click POST carries no credentials). The key is derived from CURSOR_SECRET with a
label of its own, so neither token can stand in for the other; rotating CURSOR_SECRET
voids the links of emails already sent (their recipients can still use the settings page).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from urllib.parse import urlencode

from chalicelib.config import get_settings
from chalicelib.domain.notifications import NOTIFICATION_TYPES
from chalicelib.errors import BadRequest

UNSUBSCRIBE_PATH = "/notifications/unsubscribe"
SETTINGS_PATH = "/settings/notifications"  # the frontend's notification settings page
_LABEL = b"auralumic/email-unsubscribe/v1"


def _key() -> bytes:
    return hmac.new(get_settings().cursor_secret.encode(), _LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(user_id: str, type_: str) -> str:
    payload = json.dumps({"u": user_id, "t": type_}, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(hmac.new(_key(), payload, hashlib.sha256).digest())}"


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(user_id, type) of a token this service signed; BadRequest for anything else."""
    invalid = BadRequest("The unsubscribe link is not valid. Open it from the email again, or change your "
                         "email settings after signing in.", code="invalid_unsubscribe_token")
    encoded, _, mac = token.partition(".")
    try:
        payload, signature = _unb64(encoded), _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not encoded or not hmac.compare_digest(signature, hmac.new(_key(), payload, hashlib.sha256).digest()):
        raise invalid
    try:
        claims = json.loads(payload)
    except ValueError as exc:
        raise invalid from exc
    user_id, type_ = claims.get("u"), claims.get("t")
    if not isinstance(user_id, str) or not user_id or type_ not in NOTIFICATION_TYPES:
        raise invalid
    return user_id, str(type_)


def unsubscribe_url(user_id: str, type_: str) -> str:
    query = urlencode({"token": unsubscribe_token(user_id, type_)})
    return f"{get_settings().api_base_url}{UNSUBSCRIBE_PATH}?{query}"


def settings_url() -> str:
    return f"{get_settings().app_base_url}{SETTINGS_PATH}"


def action_url(action: str | None) -> str:
    """An absolute link into the frontend: a path is joined to APP_BASE_URL, an http(s) URL
    kept, anything else (no action, another scheme) is the frontend's home page."""
    base = get_settings().app_base_url
    if action and action.startswith("/") and not action.startswith("//"):
        return f"{base}{action}"
    if action and action.startswith(("https://", "http://")):
        return action
    return f"{base}/"
