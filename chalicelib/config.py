"""Every setting, read from the environment in one place.

A missing required setting fails at start (``ConfigError``), never silently defaults.
Tunables with a documented default say so here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"missing required setting {name}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"setting {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    resource_prefix: str
    clerk_issuer: str
    clerk_jwks_url: str
    clerk_authorized_parties: tuple[str, ...]
    cursor_secret: str
    cors_allow_origin: str
    # Tunables (documented defaults).
    jwks_refresh_cooldown_s: int = 60  # at most one JWKS refetch per minute on unknown kid
    jwt_leeway_s: int = 5  # clock skew allowed on exp/nbf; never more than 5 s
    max_body_bytes: int = 64 * 1024  # larger request bodies are a 413

    # Resource names derive from the prefix; infra/resources.json builds the same names.
    def table_name(self, short: str) -> str:
        return f"{self.resource_prefix}-{short}"

    @property
    def notifications_queue_name(self) -> str:
        return f"{self.resource_prefix}-notifications"

    @property
    def media_bucket_name(self) -> str:
        return f"{self.resource_prefix}-media"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    leeway = _int("JWT_LEEWAY_SECONDS", 5)
    if not 0 <= leeway <= 5:
        raise ConfigError("JWT_LEEWAY_SECONDS must be between 0 and 5")
    parties = tuple(p.strip() for p in _required("CLERK_AUTHORIZED_PARTIES").split(",") if p.strip())
    return Settings(
        stage=_required("STAGE"),
        region=os.environ.get("AWS_REGION") or _required("AWS_DEFAULT_REGION"),
        resource_prefix=_required("RESOURCE_PREFIX"),
        clerk_issuer=_required("CLERK_ISSUER"),
        clerk_jwks_url=_required("CLERK_JWKS_URL"),
        clerk_authorized_parties=parties,
        cursor_secret=_required("CURSOR_SECRET"),
        cors_allow_origin=_required("CORS_ALLOW_ORIGIN"),
        jwks_refresh_cooldown_s=_int("JWKS_REFRESH_COOLDOWN_SECONDS", 60),
        jwt_leeway_s=leeway,
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
    )
