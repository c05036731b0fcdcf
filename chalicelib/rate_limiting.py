"""The route wrapper's link to the rate limiter: a route declared with ``rate_limit=`` counts
each request against its class (chalicelib/domain/limits.py) before anything else runs.

Counting needs storage, so the limiter is injected by app.py
(services.rate_limits.admit: (route class, user_id=..., source_ip=...) -> None, raising
RateLimited) and chalicelib/api.py stays free of storage concerns.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib import auth

RateLimiter = Callable[..., None]
_rate_limiter: RateLimiter | None = None


def set_rate_limiter(limiter: RateLimiter | None) -> None:
    global _rate_limiter
    _rate_limiter = limiter


def count_request(route_class: str, principal: auth.Principal | None, source_ip: str | None,
                  idempotency_key: str | None = None) -> None:
    """Count against the signed-in caller, else (public routes) the client's address as API
    Gateway saw it (``identity.sourceIp``: never a header the client could set). A refused
    retry with the ``Idempotency-Key`` of a request that succeeded is let through (replayed)."""
    if _rate_limiter is None:
        raise RuntimeError("no rate limiter configured")
    _rate_limiter(route_class, user_id=principal.user_id if principal is not None else None, source_ip=source_ip,
                  idempotency_key=idempotency_key)
