"""Every setting, read from the environment in one place.

A missing required setting fails at start (``ConfigError``), never silently defaults.
Tunables with a documented default say so here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

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


def _check_svix(value: str, label: str) -> None:
    """A Svix/Standard Webhooks secret: ``whsec_`` followed by base64 of at least 16 bytes."""
    encoded = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"setting {label} must be 'whsec_' followed by base64") from exc
    if not value.startswith("whsec_") or len(key) < 16:
        raise ConfigError(f"setting {label} must be 'whsec_' followed by base64 of at least 16 bytes")


# Settings attribute -> (environment variable in local and test stages, key in the cloud
# stage's JSON secret, required). A cloud stage sets only APP_SECRET_ID (the secret's name,
# "auralumic/<stage>/app"); tools/deploy.py checks the secret holds every required key.
SECRETS: dict[str, tuple[str, str, bool]] = {
    "cursor_secret": ("CURSOR_SECRET", "cursorSecret", True),
    "clerk_webhook_secret": ("CLERK_WEBHOOK_SECRET", "clerkWebhookSecret", True),
    "clerk_webhook_secret_previous": ("CLERK_WEBHOOK_SECRET_PREVIOUS", "clerkWebhookSecretPrevious", False),
    "clerk_secret_key": ("CLERK_SECRET_KEY", "clerkSecretKey", False),
    "stripe_secret_key": ("STRIPE_SECRET_KEY", "stripeSecretKey", True),
    "stripe_webhook_secret": ("STRIPE_WEBHOOK_SECRET", "stripeWebhookSecret", True),
    "stripe_webhook_secret_previous": ("STRIPE_WEBHOOK_SECRET_PREVIOUS", "stripeWebhookSecretPrevious", False),
    # The Connect webhook endpoint's own signing secret (account.updated, connected accounts' payouts).
    "stripe_connect_webhook_secret": ("STRIPE_CONNECT_WEBHOOK_SECRET", "stripeConnectWebhookSecret", False),
    "pusher_app_id": ("PUSHER_APP_ID", "pusherAppId", True),
    "pusher_key": ("PUSHER_KEY", "pusherKey", True),
    "pusher_secret": ("PUSHER_SECRET", "pusherSecret", True),
    "pusher_cluster": ("PUSHER_CLUSTER", "pusherCluster", False),  # required unless PUSHER_HOST is set
}
_SVIX_SECRETS = ("clerk_webhook_secret", "clerk_webhook_secret_previous")
# Optional locally (a recorded stand-in answers), required from a cloud stage's secret: the
# purge must really delete the Clerk user.
CLOUD_REQUIRED = ("clerk_secret_key",)


def _present(*values: str) -> tuple[str, ...]:
    return tuple(value for value in values if value)


def check_secrets(values: dict[str, str], where: str, pusher_host: str) -> dict[str, str]:
    """Every required secret present, the Svix ones well formed; ``where`` names the source."""
    for name, (env, key, required) in SECRETS.items():
        label = env if where == "environment" else f"{key} in {where}"
        if (required or (name in CLOUD_REQUIRED and where != "environment")) and not values.get(name):
            raise ConfigError(f"missing required setting {label}")
        if name in _SVIX_SECRETS and values.get(name):
            _check_svix(values[name], label)
    if not values.get("pusher_cluster") and not pusher_host:
        raise ConfigError("missing required setting PUSHER_CLUSTER (or PUSHER_HOST for a self-hosted server)"
                          if where == "environment" else f"missing required setting pusherCluster in {where}")
    return values


def _env_secrets(pusher_host: str) -> tuple[tuple[str, str], ...]:
    values = {name: os.environ.get(env, "").strip() for name, (env, _key, _required) in SECRETS.items()}
    return tuple(check_secrets(values, "environment", pusher_host).items())


def _cloud_secrets(secret_id: str, ttl_s: int) -> dict[str, str]:
    """The stage's secret, through powertools parameters: fetched once per container and kept
    ``ttl_s`` seconds (then fetched again, so a rotated value arrives without a deploy)."""
    from aws_lambda_powertools.utilities import parameters  # boto3: only where secrets are remote

    raw: Any = parameters.get_secret(secret_id, transform="json", max_age=ttl_s)
    if not isinstance(raw, dict):
        raise ConfigError(f"secret {secret_id} must be a JSON object")
    values = {name: str(raw.get(key) or "").strip() for name, (_env, key, _required) in SECRETS.items()}
    return check_secrets(values, f"secret {secret_id}", os.environ.get("PUSHER_HOST", "").strip())


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    resource_prefix: str
    clerk_issuer: str
    clerk_jwks_url: str
    clerk_authorized_parties: tuple[str, ...]
    cors_allow_origin: str
    # Secrets (SECRETS below): in a cloud stage, the JSON secret APP_SECRET_ID names in Secrets
    # Manager, fetched on first use and cached for secrets_ttl_s (a rotated value is picked up
    # within that time); elsewhere (local, tests) the environment's fixed dev values, read here.
    secret_id: str = ""
    secrets_ttl_s: int = 300
    env_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)
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
    # X-Ray tracing through powertools' Tracer (chalicelib/telemetry.py): only where the stage
    # also sets "xray": true in .chalice/config.json (Tracing: Active on its functions).
    tracing: bool = False
    # Reader payouts (issue 18; services/payouts/): what one credit pays a reader, in the smallest
    # unit of payout_currency (20 = $0.20); the least a payout may be, in credits; when the payout
    # job pays every due reader: a weekday (mon..sun, "weekly" = mon), "daily", or "off" (on
    # request only). The job is scheduled daily and pays on the configured day.
    payout_minor_per_credit: int = 20
    payout_currency: str = "usd"
    payout_minimum_credits: int = 50
    payout_schedule: str = "mon"

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

    # --- secrets (never in the Lambda environment of a cloud stage) -----------------------------
    def secret(self, name: str) -> str:
        """The value of one of SECRETS ("" for an optional one that is not set)."""
        if not self.secret_id:
            return dict(self.env_secrets).get(name, "")
        return _cloud_secrets(self.secret_id, self.secrets_ttl_s).get(name, "")

    def with_secrets(self, **values: str) -> Settings:
        """A copy with some secrets replaced (tests that aim an integration elsewhere)."""
        unknown = set(values) - set(SECRETS)
        if unknown:
            raise ValueError(f"not secrets: {sorted(unknown)}")
        current = {name: self.secret(name) for name in SECRETS}
        return replace(self, secret_id="", env_secrets=tuple({**current, **values}.items()))

    @property
    def cursor_secret(self) -> str:
        return self.secret("cursor_secret")

    @property
    def clerk_webhook_secret(self) -> str:
        """"whsec_<base64>": the Svix signing secret of Clerk's webhook endpoint."""
        return self.secret("clerk_webhook_secret")

    @property
    def clerk_webhook_secrets(self) -> tuple[str, ...]:
        """The secrets a Clerk delivery may be signed with: the current one, and during a
        rotation the previous one (CLERK_WEBHOOK_SECRET_PREVIOUS / clerkWebhookSecretPrevious)."""
        return _present(self.secret("clerk_webhook_secret"), self.secret("clerk_webhook_secret_previous"))

    @property
    def clerk_secret_key(self) -> str:
        """Clerk's Backend API key (deletes a purged account's Clerk user); "local": the
        recorded stand-in (integrations/clerk_api.py)."""
        return self.secret("clerk_secret_key") or "local"

    @property
    def stripe_secret_key(self) -> str:
        """Stripe's secret API key; "local": the local stand-in (payments/local.py)."""
        return self.secret("stripe_secret_key") or "local"

    @property
    def stripe_webhook_secret(self) -> str:
        """The signing secret of our Stripe webhook endpoint (what the local stand-in signs with)."""
        return self.secret("stripe_webhook_secret")

    @property
    def stripe_webhook_secrets(self) -> tuple[str, ...]:
        """The current signing secret and, during a rotation, the previous one."""
        return _present(self.secret("stripe_webhook_secret"), self.secret("stripe_webhook_secret_previous"))

    @property
    def stripe_connect_webhook_secret(self) -> str:
        """The signing secret of the Connect webhook endpoint (events of the readers' connected
        accounts: ``account.updated``, their payouts), accepted beside ``stripe_webhook_secrets``;
        "" where no Connect endpoint is set up (the local stand-in signs them with the platform
        endpoint's secret)."""
        return self.secret("stripe_connect_webhook_secret")

    @property
    def pusher_app_id(self) -> str:
        return self.secret("pusher_app_id")

    @property
    def pusher_key(self) -> str:
        return self.secret("pusher_key")

    @property
    def pusher_secret(self) -> str:
        return self.secret("pusher_secret")

    @property
    def pusher_cluster(self) -> str:
        return self.secret("pusher_cluster")

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def payments_are_local(self) -> bool:
        """No Stripe account: Checkout is the local stand-in that signs and posts real
        Stripe-format events to our own webhook."""
        if self.secret_id:  # a cloud stage never serves the stand-ins
            return False
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
    secret_id = os.environ.get("APP_SECRET_ID", "").strip()
    pusher_host = os.environ.get("PUSHER_HOST", "").strip()
    secrets_ttl = _int("SECRETS_TTL_SECONDS", 300)
    if not 0 <= secrets_ttl <= 3600:
        raise ConfigError("SECRETS_TTL_SECONDS must be between 0 and 3600")
    return Settings(
        stage=_required("STAGE"),
        region=os.environ.get("AWS_REGION") or _required("AWS_DEFAULT_REGION"),
        resource_prefix=_required("RESOURCE_PREFIX"),
        clerk_issuer=_required("CLERK_ISSUER"),
        clerk_jwks_url=_required("CLERK_JWKS_URL"),
        clerk_authorized_parties=parties,
        cors_allow_origin=_required("CORS_ALLOW_ORIGIN"),
        secret_id=secret_id,
        secrets_ttl_s=secrets_ttl,
        env_secrets=() if secret_id else _env_secrets(pusher_host),
        jwks_refresh_cooldown_s=_int("JWKS_REFRESH_COOLDOWN_SECONDS", 60),
        jwt_leeway_s=leeway,
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        reader_presence_timeout_s=presence_timeout,
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
        pusher_host=pusher_host,
        pusher_port=_int("PUSHER_PORT", 0),
        pusher_use_tls=_bool("PUSHER_USE_TLS", True),
        rate_limits=_rate_limits("RATE_LIMITS"),
        tracing=_bool("TRACING", False),
        **_payout_settings(),
    )


def _payout_settings() -> dict[str, Any]:
    minor = _int("PAYOUT_MINOR_PER_CREDIT", 20)
    if not 1 <= minor <= 100_000:
        raise ConfigError("PAYOUT_MINOR_PER_CREDIT must be between 1 and 100000")
    currency = os.environ.get("PAYOUT_CURRENCY", "").strip().lower() or "usd"
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"setting PAYOUT_CURRENCY must be a three-letter ISO currency code, got {currency!r}")
    minimum = _int("PAYOUT_MINIMUM_CREDITS", 50)
    if minimum < 1:
        raise ConfigError("PAYOUT_MINIMUM_CREDITS must be at least 1")
    schedule = _choice("PAYOUT_SCHEDULE", ("weekly", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                           "daily", "off"), "mon")
    return {"payout_minor_per_credit": minor, "payout_currency": currency, "payout_minimum_credits": minimum,
            "payout_schedule": "mon" if schedule == "weekly" else schedule}
