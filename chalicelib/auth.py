"""Bearer-token verification, the current user, and route access declarations.

Tokens are Clerk session JWTs: RS256 only, keys from the JWKS, ``iss`` pinned,
``exp``/``nbf`` with at most 5 s leeway, ``azp`` in the allow-list. The role never comes
from the token: it is read from our users table (the first request of a new subject
provisions a client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.integrations.jwks import JwksCache

ROLES = ("client", "reader", "admin")


@dataclass(frozen=True)
class Access:
    """Who may call a route: ``public``, ``public_or_signed_in`` (anyone; a caller who sends
    a bearer token is identified, so the answer may depend on who asks), any signed-in
    user, or a set of roles."""

    kind: str  # "public" | "public_or_signed_in" | "signed_in" | "roles"
    roles: frozenset[str] = field(default_factory=frozenset)
    allow_suspended: bool = False

    @property
    def is_public(self) -> bool:
        """Callable without a token."""
        return self.kind in ("public", "public_or_signed_in")

    @property
    def identifies_caller(self) -> bool:
        """Public, but a bearer token, when sent, must be valid (else 401) and names the caller."""
        return self.kind == "public_or_signed_in"

    def describe(self) -> str:
        if self.kind == "roles":
            return "roles: " + ", ".join(sorted(self.roles))
        return self.kind.replace("_", "-")


PUBLIC = Access("public")
# Anyone; with a valid token the handler sees the caller (ctx.principal), without one None.
# A suspended caller is identified too (their status decides what they see, not a 403).
PUBLIC_OR_SIGNED_IN = Access("public_or_signed_in", allow_suspended=True)
SIGNED_IN = Access("signed_in")
# Signed in, suspended or not: a suspended user may still see who they are (so the frontend can
# say why it is blocked), and their rights over their data hold while suspended too.
SIGNED_IN_EVEN_SUSPENDED = Access("signed_in", allow_suspended=True)


def roles(*names: str) -> Access:
    unknown = set(names) - set(ROLES)
    if unknown or not names:
        raise ValueError(f"unknown roles {unknown}")
    return Access("roles", frozenset(names))


# A reader also has client abilities (DESIGN.md), so client routes admit readers.
CLIENT = roles("client", "reader")
READER = roles("reader")
ADMIN = roles("admin")


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    status: str
    email: str | None = None
    # The user item loaded to authenticate, so a handler needs no second read.
    record: Any = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@lru_cache(maxsize=1)
def _jwks() -> JwksCache:
    settings = get_settings()
    return JwksCache(settings.clerk_jwks_url, settings.jwks_refresh_cooldown_s)


def bearer_token(headers: Any) -> str:
    header = headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required.", code="missing_token")
    return token.strip()


def verify_token(token: str) -> dict[str, Any]:
    """Return the verified claims or raise ``Unauthorized``; never trusts the header's alg."""
    import jwt  # lazy: PyJWT + cryptography (~80 ms) are not needed by public routes and webhooks

    settings = get_settings()
    invalid = Unauthorized("The bearer token is invalid.", code="invalid_token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise invalid from exc
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise invalid
    key = _jwks().get(header["kid"])
    if key is None:
        raise invalid
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=["RS256"],
            issuer=settings.clerk_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": ["exp", "nbf", "iat", "iss", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The bearer token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise invalid from exc
    if claims.get("azp") not in settings.clerk_authorized_parties:
        raise invalid
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise invalid
    return claims


def authorize(principal: Principal, access: Access) -> None:
    if principal.status == "deleted":
        raise Unauthorized("This account has been deleted.", code="account_deleted")
    if principal.status == "suspended" and not access.allow_suspended:
        # Why and until when (None: until an admin reinstates), so the client explains the lockout
        # without calling GET /me; the record is the user item authentication read.
        raise Forbidden("This account is suspended.", code="account_suspended",
                        details={"reason": getattr(principal.record, "suspension_reason", None),
                                 "until": getattr(principal.record, "suspended_until", None)})
    if access.kind == "roles" and principal.role not in access.roles:
        raise Forbidden("Your role may not call this route.", code="forbidden_role",
                        details={"required": sorted(access.roles), "role": principal.role})
