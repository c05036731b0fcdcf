"""Security headers every response carries, and case-blind header access on a Chalice Response.

Light on purpose: app.py's middleware uses it on the API function's cold start, before any
handler module is loaded.
"""

from __future__ import annotations

from chalice import Response

# Every response: browsers must not second-guess the declared Content-Type.
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
# HTML pages: never inside someone else's frame (clickjacking).
NO_FRAMING = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


def harden(response: Response) -> Response:
    """Security headers for any response the app sends, whatever produced it (a declared
    route, an error, Chalice's own 405); app.py applies it to every request."""
    for name, value in NOSNIFF.items():
        set_header(response, name, value)
    if (get_header(response, "Content-Type") or "").split(";")[0].strip().lower() == "text/html":
        set_header(response, "X-Frame-Options", NO_FRAMING["X-Frame-Options"])
        policy = get_header(response, "Content-Security-Policy")
        if not policy:
            set_header(response, "Content-Security-Policy", NO_FRAMING["Content-Security-Policy"])
        elif "frame-ancestors" not in policy:
            set_header(response, "Content-Security-Policy", f"{policy}; {NO_FRAMING['Content-Security-Policy']}")
    return response


def get_header(response: Response, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def set_header(response: Response, name: str, value: str) -> None:
    """Set ``name`` replacing any spelling of it already present (headers are case-blind)."""
    for key in [key for key in response.headers if key.lower() == name.lower()]:
        del response.headers[key]
    response.headers[name] = value
