"""Clerk's Backend API, for the one call we make: deleting a user (a purged account's sign-in).

``DELETE https://api.clerk.com/v1/users/{user_id}`` with the instance's secret key as a bearer
token answers the deleted object (200), or 404 when Clerk has no such user: deleted before (from
Clerk's dashboard, or by an earlier try whose answer was lost), which is what we wanted, so
``delete_user`` is idempotent. Anything else (401 for a wrong key, 429, 5xx, no answer) raises
``ClerkUnavailable`` and the caller tries again later.

``CLERK_SECRET_KEY=local`` (the default: the local stage and the tests) selects ``LocalClerk``,
a recorded stand-in: nothing leaves the process, and ``deleted`` lists what was asked. A cloud
stage without the key (``clerkSecretKey`` in its secret) never pretends: every deletion raises
``ClerkUnavailable`` (and stays pending) until the key is there.

Only the standard library, and urllib (with http.client and ssl behind it) is imported by the
call itself: an API cold start never pays for it.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Protocol

from chalicelib.config import get_settings

API_BASE = "https://api.clerk.com/v1"
TIMEOUT_S = 5  # the purge job runs several purges per invocation
LOCAL = "local"
_USER_ID = re.compile(r"\A[A-Za-z0-9_-]{1,128}\Z")  # Clerk's ids (user_2b8k...); ours locally


class ClerkUnavailable(RuntimeError):
    """Clerk refused the call or did not answer; nothing is known to have changed."""


class ClerkApi(Protocol):
    def delete_user(self, user_id: str) -> bool:
        """Delete the user at Clerk: True when deleted now, False when Clerk had no such user."""
        ...


def _checked(user_id: str) -> str:
    if not _USER_ID.match(user_id):
        raise ValueError(f"{user_id!r} is not a Clerk user id")
    return user_id


class HttpClerk:
    """Clerk's Backend API over HTTPS (``base_url``: another address for tests)."""

    def __init__(self, secret_key: str, *, base_url: str = API_BASE, timeout_s: float = TIMEOUT_S) -> None:
        self._secret_key = secret_key
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s

    def delete_user(self, user_id: str) -> bool:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - https (a test's http server in tests)
            f"{self._base_url}/users/{_checked(user_id)}",
            method="DELETE",
            headers={
                "Authorization": f"Bearer {self._secret_key}",
                "Accept": "application/json",
                "User-Agent": "auralumic-backend",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310 - as above
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            detail = exc.read(300).decode(errors="replace")
            raise ClerkUnavailable(f"Clerk answered {exc.code} to deleting user {user_id}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ClerkUnavailable(f"Clerk did not answer the deletion of user {user_id}: {exc}") from exc
        return True


class LocalClerk:
    """The stand-in of the local stage and the tests: it records each deletion, and a second
    deletion of the same user answers as Clerk's 404 does (False)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deleted: list[str] = []

    def delete_user(self, user_id: str) -> bool:
        with self._lock:
            if _checked(user_id) in self.deleted:
                return False
            self.deleted.append(user_id)
            return True


class MissingKey:
    """A cloud stage whose secret has no Clerk key: nothing can be deleted, and nothing is
    reported deleted."""

    def delete_user(self, user_id: str) -> bool:
        raise ClerkUnavailable(
            f"Clerk user {user_id} cannot be deleted: this stage has no Clerk secret key "
            "(clerkSecretKey in its secret)."
        )


def clerk() -> ClerkApi:
    """The Clerk API of this stage, with the key as the settings hold it now (a rotated key is
    used as soon as the settings have it)."""
    settings = get_settings()
    key = settings.clerk_secret_key
    if key != LOCAL:
        return HttpClerk(key)
    return MissingKey() if settings.secret_id else local()


@lru_cache(maxsize=1)
def local() -> LocalClerk:
    """The stand-in, one per process (what it recorded stays)."""
    return LocalClerk()
