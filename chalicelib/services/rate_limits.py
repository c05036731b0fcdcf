"""Rate limits: one conditional UpdateItem per limited request, no read.

``admit(route_class, user_id=..., source_ip=...)`` adds 1 to the caller's counter for the
current window (chalicelib/domain/limits.py) on the condition that it is below the limit;
DynamoDB applies conditional writes to one item one at a time, so however many requests
race, exactly ``requests`` of them pass in a window. A failed condition is a 429
``rate_limited`` with ``Retry-After`` (seconds to the next window) and nothing else done:
the route layer (chalicelib/api.py) calls this after authorization and before the handler.

The caller is the signed-in user, else the client's IP address, stored only as a keyed hash
(the counters expire, but an address is personal data we have no other use for).

If DynamoDB cannot answer (throttled, unreachable), the request is admitted and the error
logged: the limiter protects the system, so its own failure must not take every limited
route down with it; API Gateway's stage throttling (infra/resources.json) is the outer wall.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable

from pynamodb.exceptions import UpdateError

from chalicelib.config import get_settings
from chalicelib.domain import limits
from chalicelib.errors import RateLimited
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.rate_limits import RateLimitCounter
from chalicelib.services.payments import checkout
from chalicelib.services.readings import booking

_IP_LABEL = b"auralumic/rate-limits/ip/hmac-sha256"


# Route classes whose requests are idempotent per ``Idempotency-Key``: (user id, key) -> whether
# that request already succeeded. Its retry replays the stored result, so it is never refused.
_REPLAYS: dict[str, Callable[[str, str], bool]] = {
    "checkout": checkout.has_request,
    "reading_requests": booking.has_request,
}


def admit(route_class: str, *, user_id: str | None, source_ip: str | None, idempotency_key: str | None = None) -> None:
    """Count this request against ``route_class`` for its caller; raises ``RateLimited``
    when the caller has used the window's allowance, unless the request is a signed-in
    caller's retry (the same ``Idempotency-Key``) of one that succeeded: that costs one read,
    only on the refused path, and the handler replays the first answer."""
    limit = get_settings().rate_limit(route_class)
    if limit is None:  # the stage turned this class off: no counter
        return
    subject = f"user:{user_id}" if user_id else f"ip:{ip_digest(source_ip or 'unknown')}"
    now_s = utcnow().timestamp()
    counter = RateLimitCounter(counter_key=limits.counter_key(route_class, subject, now_s, limit))
    try:
        counter.update(
            actions=[
                RateLimitCounter.admitted.add(1),
                RateLimitCounter.expires_at.set(limits.expires_at(now_s, limit)),
            ],
            condition=RateLimitCounter.admitted.does_not_exist() | (RateLimitCounter.admitted < limit.requests),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            logger.warning(
                "rate limiter unavailable; request admitted",
                extra={"route_class": route_class, "error": exc.cause_response_code or str(exc)},
            )
            return
        replayed = _REPLAYS.get(route_class)
        if user_id and idempotency_key and replayed is not None and replayed(user_id, idempotency_key):
            return
        retry_after = limits.retry_after_s(now_s, limit)
        raise RateLimited(
            limits.rejection_message(route_class, retry_after),
            retry_after_s=retry_after,
            details={
                "routeClass": route_class,
                "limit": limit.requests,
                "windowSeconds": limit.window_s,
                "retryAfterSeconds": retry_after,
            },
        ) from None


def ip_digest(address: str) -> str:
    return hmac.new(_ip_key(get_settings().cursor_secret), address.encode(), hashlib.sha256).hexdigest()[:32]


@functools.cache
def _ip_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _IP_LABEL, hashlib.sha256).digest()
