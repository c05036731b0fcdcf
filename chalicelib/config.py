"""Every setting, read from the environment in one place.

A missing required setting fails at start (``ConfigError``), never silently defaults.
Tunables with a documented default say so here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.domain import limits


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


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigError(f"setting {name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"setting {name} must be true or false, got {raw!r}")
    return raw == "true"


def _email_sender(name: str) -> str:
    """A verified SES identity, as an address or ``Name <address>``."""
    from email.utils import parseaddr

    value = _required(name)
    _, address = parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ConfigError(f"setting {name} must be an email address or 'Name <address>', got {value!r}")
    return value


def _webhook_secret(name: str) -> str:
    """A Svix/Standard Webhooks secret: ``whsec_`` followed by base64 key bytes."""
    value = _required(name)
    if value.startswith("{{resolve:"):
        # `chalice package` imports the app with the stage's values; CloudFormation resolves
        # this dynamic reference at deploy time, so the real secret is checked at cold start.
        return value
    encoded = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"setting {name} must be 'whsec_' followed by base64") from exc
    if not value.startswith("whsec_") or len(key) < 16:
        raise ConfigError(f"setting {name} must be 'whsec_' followed by base64 of at least 16 bytes")
    return value


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
    clerk_webhook_secret: str  # "whsec_<base64>": the Svix signing secret of Clerk's webhook endpoint
    # Stripe: the secret API key ("local" in the local stage: payments go through the local
    # stand-in, integrations/payments_local.py) and the webhook endpoint's signing secret.
    stripe_secret_key: str = "local"
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # override of https://api.stripe.com (tests: a recording server)
    app_base_url: str = ""  # the frontend, where Checkout returns to
    api_base_url: str = ""  # this API's public URL (the local checkout page links to it)
    # Where browsers load processed images (media_urls.public_url): the CloudFront domain in the
    # cloud (infra/resources.json sets MEDIA_BASE_URL), else the local server's /cdn.
    media_base_url: str = ""
    # Tunables (documented defaults).
    jwks_refresh_cooldown_s: int = 60  # at most one JWKS refetch per minute on unknown kid
    jwt_leeway_s: int = 5  # clock skew allowed on exp/nbf; never more than 5 s
    max_body_bytes: int = 64 * 1024  # larger request bodies are a 413
    # A reader whose last heartbeat (PUT /reader/online) is older than this is set offline by
    # the reader_presence job (runs every minute). Clients should heartbeat about every 60 s.
    reader_presence_timeout_s: int = 300
    platform_fee_percent: int = 20  # the platform's share of a completed reading's price
    live_sessions: str = "chime"  # chime (Amazon Chime SDK Meetings) | local (the stand-in)
    status_ttl_days: int = 7  # an active client status closes (expired) this long after it was posted
    notification_ttl_days: int = 90  # in-app notifications expire (DynamoDB TTL) this long after the event
    # A deleted account (DELETE /me, or Clerk's user.deleted) is purged this long after its
    # deletion (services/privacy/purge.py); until then it is only soft-deleted.
    account_retention_days: int = 30
    # Pusher Channels (integrations/pusher.py): the app's id, key and secret (a secret: Secrets
    # Manager in the cloud), and where its HTTP API is: a cluster ("mt1", "eu"...) or a host and
    # port (the local stage: tools/local/pusher_server.py, without TLS).
    pusher_app_id: str = ""
    pusher_key: str = ""
    pusher_secret: str = ""
    pusher_cluster: str = ""
    pusher_host: str = ""
    pusher_port: int = 0  # 0: 443 with TLS, 80 without
    pusher_use_tls: bool = True

    # Email (services/notifications/email.py): the SES-verified identity every email is sent
    # from ("Name <address>").
    email_sender: str = ""
    # Rate limits per route class (chalicelib/domain/limits.py): the defaults there, overridden
    # by RATE_LIMITS ("checkout=10/600,public_reads=off,*=..."); None: the class is not limited.
    # Pairs, not a dict: Settings stays hashable.
    rate_limits: tuple[tuple[str, limits.RateLimit | None], ...] = ()

    # Resource names derive from the prefix; infra/resources.json builds the same names.
    def table_name(self, short: str) -> str:
        return f"{self.resource_prefix}-{short}"

    @property
    def notifications_queue_name(self) -> str:
        return f"{self.resource_prefix}-notifications"

    @property
    def payments_queue_name(self) -> str:
        """Stripe events (``stripe.event_received``): money waits behind no notification
        backlog, and a fan-out failure storm never delays a grant or a refund."""
        return f"{self.resource_prefix}-payments"

    @property
    def email_queue_name(self) -> str:
        return f"{self.resource_prefix}-email"

    @property
    def mail_viewer(self) -> bool:
        """The local mail viewer (GET /local/mail, a copy of every email sent under
        ``local-mail/`` in the media bucket). The local stand-ins go together: it is on where
        payments are the local stand-in (the local stack, the tests, the OpenAPI export), so
        it is documented exactly where it is served; a cloud stage, with a real Stripe key,
        never serves it (it shows every email to anyone)."""
        return self.payments_are_local

    @property
    def media_bucket_name(self) -> str:
        return f"{self.resource_prefix}-media"

    def rate_limit(self, route_class: str) -> limits.RateLimit | None:
        """The limit of ``route_class`` in this stage (None: not limited)."""
        for name, limit in self.rate_limits:
            if name == route_class:
                return limit
        return None

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def payments_are_local(self) -> bool:
        """No Stripe account: Checkout is the local stand-in that signs and posts real
        Stripe-format events to our own webhook."""
        return self.stripe_secret_key == "local"


def _rate_limits(name: str) -> tuple[tuple[str, limits.RateLimit | None], ...]:
    try:
        return tuple(limits.parse_overrides(os.environ.get(name, "")).items())
    except ValueError as exc:
        raise ConfigError(f"setting {name}: {exc}") from exc


def _api_base_url() -> str:
    return os.environ.get("API_BASE_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    leeway = _int("JWT_LEEWAY_SECONDS", 5)
    if not 0 <= leeway <= 5:
        raise ConfigError("JWT_LEEWAY_SECONDS must be between 0 and 5")
    presence_timeout = _int("READER_PRESENCE_TIMEOUT_SECONDS", 300)
    if presence_timeout < 60:
        raise ConfigError("READER_PRESENCE_TIMEOUT_SECONDS must be at least 60 (the presence job runs every minute)")
    notification_ttl_days = _int("NOTIFICATION_TTL_DAYS", 90)
    if notification_ttl_days < 1:
        raise ConfigError("NOTIFICATION_TTL_DAYS must be at least 1")
    status_ttl_days = _int("STATUS_TTL_DAYS", 7)
    if not 1 <= status_ttl_days <= 90:
        raise ConfigError("STATUS_TTL_DAYS must be between 1 and 90")
    account_retention_days = _int("ACCOUNT_RETENTION_DAYS", 30)
    if not 1 <= account_retention_days <= 365:
        raise ConfigError("ACCOUNT_RETENTION_DAYS must be between 1 and 365")
    fee_percent = _int("PLATFORM_FEE_PERCENT", 20)
    if not 0 <= fee_percent <= 100:
        raise ConfigError("PLATFORM_FEE_PERCENT must be between 0 and 100")
    parties = tuple(p.strip() for p in _required("CLERK_AUTHORIZED_PARTIES").split(",") if p.strip())
    pusher_cluster = os.environ.get("PUSHER_CLUSTER", "").strip()
    pusher_host = os.environ.get("PUSHER_HOST", "").strip()
    if not pusher_cluster and not pusher_host:
        raise ConfigError("missing required setting PUSHER_CLUSTER (or PUSHER_HOST for a self-hosted server)")
    return Settings(
        stage=_required("STAGE"),
        region=os.environ.get("AWS_REGION") or _required("AWS_DEFAULT_REGION"),
        resource_prefix=_required("RESOURCE_PREFIX"),
        clerk_issuer=_required("CLERK_ISSUER"),
        clerk_jwks_url=_required("CLERK_JWKS_URL"),
        clerk_authorized_parties=parties,
        cursor_secret=_required("CURSOR_SECRET"),
        cors_allow_origin=_required("CORS_ALLOW_ORIGIN"),
        clerk_webhook_secret=_webhook_secret("CLERK_WEBHOOK_SECRET"),
        jwks_refresh_cooldown_s=_int("JWKS_REFRESH_COOLDOWN_SECONDS", 60),
        jwt_leeway_s=leeway,
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        reader_presence_timeout_s=presence_timeout,
        stripe_secret_key=_required("STRIPE_SECRET_KEY"),
        stripe_webhook_secret=_required("STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=os.environ.get("STRIPE_API_BASE", "").strip().rstrip("/"),
        app_base_url=(os.environ.get("APP_BASE_URL", "").strip() or _required("CORS_ALLOW_ORIGIN")).rstrip("/"),
        api_base_url=_api_base_url(),
        media_base_url=os.environ.get("MEDIA_BASE_URL", "").strip().rstrip("/") or f"{_api_base_url()}/cdn",
        platform_fee_percent=fee_percent,
        notification_ttl_days=notification_ttl_days,
        status_ttl_days=status_ttl_days,
        account_retention_days=account_retention_days,
        live_sessions=_choice("LIVE_SESSIONS", ("chime", "local"),
                              "local" if os.environ.get("STAGE", "").strip() == "local" else "chime"),
        email_sender=_email_sender("EMAIL_SENDER"),
        pusher_app_id=_required("PUSHER_APP_ID"),
        pusher_key=_required("PUSHER_KEY"),
        pusher_secret=_required("PUSHER_SECRET"),
        pusher_cluster=pusher_cluster,
        pusher_host=pusher_host,
        pusher_port=_int("PUSHER_PORT", 0),
        pusher_use_tls=_bool("PUSHER_USE_TLS", True),
        rate_limits=_rate_limits("RATE_LIMITS"),
    )
