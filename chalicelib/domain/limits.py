"""Rate limits: the route classes, their production limits, and the arithmetic of a window.

A route declares its class (``@route(..., rate_limit="checkout")``); every request to it
counts against ``<class>#<caller>`` in fixed windows of ``window_s`` seconds, aligned to
the epoch. The caller is the signed-in user, else (public routes) the client's IP address.
These numbers are the defaults of every stage; ``RATE_LIMITS`` overrides them per stage
(chalicelib/config.py, .chalice/config.json).

Fixed windows cost one conditional write per request and no read, at a known price: a
caller who spends a window's whole allowance in its last second and the next window's in
the first second of the next gets ``2 x requests`` through within about a second; over any
span of ``window_s`` seconds at most ``2 x requests`` pass, and over ``k`` whole windows at
most ``k x requests``. The limits below are set with that in mind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    requests: int  # allowed per window
    window_s: int  # the window's length in seconds

    def describe(self) -> str:
        return f"{self.requests}/{self.window_s}"


@dataclass(frozen=True)
class RouteClass:
    name: str
    limit: RateLimit  # the default (production) limit
    what: str  # what is limited, as "Too many <what>" reads: "checkout requests"
    routes: str  # where it applies (documentation)


WINDOW_MAX_S = 86_400  # a day: longer windows would keep counters, and callers waiting, too long
EXPIRY_MARGIN_S = 60  # a window's counter outlives its window by this much (then DynamoDB's TTL removes it)

CLASSES: dict[str, RouteClass] = {
    c.name: c
    for c in (
        RouteClass(
            "checkout",
            RateLimit(10, 600),
            "checkout requests",
            "POST /credits/checkout, POST /subscriptions (each creates a Stripe Checkout Session)",
        ),
        RouteClass("reading_requests", RateLimit(20, 600), "reading requests", "POST /readings"),
        RouteClass(
            "statuses",
            RateLimit(30, 600),
            "status and suggestion posts",
            "POST /statuses, PATCH /statuses/{statusId}, POST /statuses/{statusId}/suggestions",
        ),
        RouteClass("reports", RateLimit(10, 3600), "reports", "POST /reports"),
        RouteClass("analytics", RateLimit(120, 60), "analytics batches", "POST /events (up to 50 events each)"),
        RouteClass("media_uploads", RateLimit(30, 600), "upload requests", "POST /media/uploads"),
        RouteClass(
            "public_reads",
            RateLimit(300, 60),
            "requests",
            "GET /catalog, GET /readers, GET /readers/{readerId}, GET /readers/{readerId}/reviews",
        ),
    )
}


def window_start(now_s: float, limit: RateLimit) -> int:
    """The epoch second the window holding ``now_s`` began."""
    return int(now_s) // limit.window_s * limit.window_s


def retry_after_s(now_s: float, limit: RateLimit) -> int:
    """Whole seconds until the next window opens (at least 1: ``Retry-After: 0`` invites a
    tight loop)."""
    return max(1, math.ceil(window_start(now_s, limit) + limit.window_s - now_s))


def counter_key(route_class: str, subject: str, now_s: float, limit: RateLimit) -> str:
    """The counter of ``subject`` in ``route_class`` for the window holding ``now_s``. The
    window's length is part of the key, so a changed limit never reads an old counter as its own."""
    return f"{route_class}#{subject}#{limit.window_s}:{window_start(now_s, limit)}"


def expires_at(now_s: float, limit: RateLimit) -> int:
    return window_start(now_s, limit) + limit.window_s + EXPIRY_MARGIN_S


def wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second" + ("" if seconds == 1 else "s")
    return f"{math.ceil(seconds / 60)} minutes"


def rejection_message(route_class: str, retry_after: int) -> str:
    return f"Too many {CLASSES[route_class].what}; try again in {wait_text(retry_after)}."


def parse_overrides(text: str) -> dict[str, RateLimit | None]:
    """``RATE_LIMITS``: comma-separated ``<class>=<requests>/<window seconds>`` or
    ``<class>=off`` (no limit, no counter); ``*`` stands for every class and is applied
    before the named ones. Raises ValueError with a sentence naming what is wrong."""
    wildcard: RateLimit | str | None = "unset"
    named: dict[str, RateLimit | None] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise ValueError(f"'{part}' is not <class>=<requests>/<seconds> or <class>=off.")
        if name != "*" and name not in CLASSES:
            raise ValueError(f"'{name}' is not a route class (classes: {', '.join(CLASSES)}).")
        limit = _parse_limit(name, value)
        if name == "*":
            wildcard = limit
        else:
            named[name] = limit
    limits: dict[str, RateLimit | None] = {name: c.limit for name, c in CLASSES.items()}
    if wildcard != "unset":
        limits = dict.fromkeys(CLASSES, wildcard)  # type: ignore[arg-type]
    limits.update(named)
    return limits


def _parse_limit(name: str, value: str) -> RateLimit | None:
    if value.lower() == "off":
        return None
    requests, slash, window = value.partition("/")
    try:
        limit = RateLimit(int(requests), int(window)) if slash else None
    except ValueError:
        limit = None
    if limit is None or limit.requests < 1 or not 1 <= limit.window_s <= WINDOW_MAX_S:
        raise ValueError(
            f"'{name}={value}' must be <requests>/<seconds> with requests >= 1 and "
            f"1 <= seconds <= {WINDOW_MAX_S}, or off."
        )
    return limit
