"""JWKS fetching for Clerk session tokens (or the local issuer: same code, a file:// URL).

Keys are cached per container. An unknown ``kid`` triggers at most one refetch per
cooldown, so a flood of tokens with made-up kids cannot hammer the JWKS endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jwt import PyJWK


class JwksCache:
    def __init__(self, url: str, cooldown_s: int, clock: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str], dict[str, Any]] | None = None):
        self.url = url
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._fetch = fetch or _fetch_json
        self._keys: dict[str, PyJWK] = {}
        self._last_fetch: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def get(self, kid: str) -> PyJWK | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None and self._may_refresh():
                self._refresh()
                key = self._keys.get(kid)
        return key

    def _may_refresh(self) -> bool:
        return self._last_fetch is None or self._clock() - self._last_fetch >= self.cooldown_s

    def _refresh(self) -> None:
        self._last_fetch = self._clock()
        self.fetch_count += 1
        from jwt import PyJWK

        document = self._fetch(self.url)
        keys: dict[str, PyJWK] = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") != "RSA" or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
                continue
            keys[jwk["kid"]] = PyJWK(jwk, algorithm="RS256")
        self._keys = keys


def _fetch_json(url: str) -> dict[str, Any]:
    import urllib.request  # lazy: ~40 ms of http/email modules that only a JWKS refresh needs

    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - URL comes from config
        return json.loads(response.read())
