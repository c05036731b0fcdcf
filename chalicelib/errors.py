"""Domain errors, and their one mapping to HTTP.

Services raise these; the route layer (chalicelib/api.py) turns them into the error
envelope of API.md: ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}
        self.headers: dict[str, str] = {}


class ValidationFailed(DomainError):
    status, code = 400, "validation_error"


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"

    def __init__(self, what: str, **kwargs: Any):
        super().__init__(f"The {what} was not found.", **kwargs)


class Conflict(DomainError):
    status, code = 409, "conflict"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


class BusinessRuleViolation(DomainError):
    status, code = 422, "business_rule"


class InsufficientCredits(BusinessRuleViolation):
    code = "insufficient_credits"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = str(retry_after_s)


class DependencyUnavailable(DomainError):
    status, code = 503, "dependency_unavailable"


def error_body(code: str, message: str, details: dict[str, Any] | None = None, request_id: str | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message, "details": details or {}}
    if request_id:
        body["requestId"] = request_id
    return {"error": body}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a closing full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's ``ValidationError.errors()`` as the envelope's ``details.fields``. A
    validator's own ``ValueError`` reads without pydantic's "Value error, " prefix, and
    every message is a sentence ("Field required" -> "Field required.")."""
    fields = []
    for err in errors:
        raised = (err.get("ctx") or {}).get("error") if err["type"] == "value_error" else None
        message = str(raised) if isinstance(raised, Exception) else str(err["msg"])
        fields.append({"path": ".".join(str(part) for part in err["loc"]) or "(body)",
                       "message": sentence(message), "type": err["type"]})
    return fields
