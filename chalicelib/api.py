"""Route declarations: access, validation, error mapping and the OpenAPI registry.

Every route is declared with ``@route(bp, path, method, access=..., ...)``. The wrapper

* authenticates (unless ``PUBLIC``; ``PUBLIC_OR_SIGNED_IN`` only when a token is sent)
  and checks the declared access;
* counts the request against its route class's rate limit (``rate_limit=``), if it has one;
* parses the JSON body and the query string with the declared pydantic models;
* maps domain errors to the envelope of API.md, once, here; anything unexpected is a
  500 with the request id, logged with its stack;
* records the declaration in ``REGISTRY`` so /openapi.json cannot drift from the code.

A route registered with a bare ``@bp.route`` has no declaration; the access test walks
the app and fails on it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib import auth, rate_limiting, routing, telemetry
from chalicelib.config import get_settings
from chalicelib.domain import limits
from chalicelib.errors import (
    BadRequest,
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    error_body,
)
from chalicelib.errors import (
    field_errors as envelope_fields,
)
from chalicelib.http_headers import NO_FRAMING, NOSNIFF, harden  # noqa: F401 - re-exported
from chalicelib.http_headers import set_header as _set_header
from chalicelib.logs import logger

JSON_HEADERS = {"Content-Type": "application/json"}

# No request body we accept nests deeper than a handful of levels; a cap well above that
# keeps the parser, pydantic and our own walks far from Python's recursion limit.
MAX_JSON_DEPTH = 64
# Escape pairs, quotes and brackets: each match is one or two bytes, so a scan is linear.
_JSON_STRUCTURE = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


@dataclass
class RouteSpec:
    path: str
    method: str
    access: auth.Access
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    cache_seconds: int | None = None
    description: str = ""
    content_type: str = "application/json"
    path_params: tuple[str, ...] = field(default_factory=tuple)
    # The body may also come as an HTML form (application/x-www-form-urlencoded), as Pusher's
    # browser client sends its channel authorization request.
    accepts_form: bool = False
    # The route class whose rate limit every request counts against (chalicelib/domain/limits.py).
    rate_limit: str | None = None
    # The handler honours an Idempotency-Key header (a retry with the same key returns the first
    # answer instead of acting twice); the OpenAPI document declares the header.
    idempotent: bool = False

    handler_name: str = ""
    module: str = ""  # the handler's module: what chalicelib.routing imports on first use
    # The wrapped view (declaration enforced); chalicelib.routing dispatches to it.
    view: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def body_optional(self) -> bool:
        """An action (POST) whose body fields are all optional may be sent without a body
        (``POST .../accept``); a PUT or PATCH always states what it writes."""
        return self.method == "POST" and self.body is not None and all_optional(self.body)

    def example_body(self) -> Any:
        """The body model's first declared example (``json_schema_extra={"examples": [...]}``),
        else ``{}``; used by the docs and by the authorization matrix."""
        if self.body is None:
            return None
        extra = self.body.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        return examples[0] if isinstance(examples, list) and examples else {}


REGISTRY: list[RouteSpec] = []


@dataclass
class Reply:
    """A handler result that needs a status or headers other than the route's default."""

    body: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RequestContext:
    request: Any
    request_id: str
    principal: auth.Principal | None
    body: Any = None
    query: Any = None

    @property
    def user(self) -> auth.Principal:
        assert self.principal is not None, "route declared public but needs a user"
        return self.principal

    @property
    def source_ip(self) -> str | None:
        """The client's address as API Gateway saw it (``identity.sourceIp``: never a header
        the client could set)."""
        identity = (getattr(self.request, "context", None) or {}).get("identity") or {}
        address = identity.get("sourceIp")
        return address if isinstance(address, str) and address else None


# Resolving the principal needs the users service; it is injected by app.py so that this
# module stays free of storage concerns.
PrincipalResolver = Callable[[dict[str, Any]], auth.Principal]
_resolver: PrincipalResolver | None = None


def set_principal_resolver(resolver: PrincipalResolver) -> None:
    global _resolver
    _resolver = resolver


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    access: auth.Access,
    summary: str,
    tags: tuple[str, ...] | list[str] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    cache_seconds: int | None = None,
    description: str = "",
    content_type: str = "application/json",
    accepts_form: bool = False,
    rate_limit: str | None = None,
    idempotent: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    method = method.upper()
    if rate_limit is not None and rate_limit not in limits.CLASSES:
        raise ValueError(f"{method} {path}: unknown rate limit class {rate_limit!r} (see chalicelib/domain/limits.py)")
    path_params = tuple(part[1:-1] for part in path.split("/") if part.startswith("{"))

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(
            path=path, method=method, access=access, summary=summary, tags=tuple(tags), body=body,
            query=query, response=response, status=status, errors=errors, cache_seconds=cache_seconds,
            description=description or (inspect.getdoc(handler) or ""), content_type=content_type,
            path_params=path_params, handler_name=handler.__name__, accepts_form=accepts_form,
            rate_limit=rate_limit, module=handler.__module__, idempotent=idempotent,
        )
        REGISTRY.append(spec)

        @functools.wraps(handler)
        def view(**path_kwargs: str) -> Response:
            request = routing.current_request(bp)
            request_id = _request_id(request)
            telemetry.request_started(request_id)  # the correlation id of its log lines and events
            try:
                ctx = _prepare(request, request_id, spec, path_kwargs)
                result = handler(ctx, **path_kwargs)
                response = _respond(request, spec, result)
            except DomainError as exc:
                response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
            except Exception:  # noqa: BLE001 - the one place a bug becomes a 500
                logger.exception("unhandled error", extra={"request_id": request_id, "route": f"{method} {path}"})
                response = error_response(500, "internal_error", "An unexpected error occurred.", {}, {},
                                          request_id=request_id)
            # The id the audit log records for what this request changed (and a 500 quotes).
            _set_header(response, "X-Request-Id", request_id)
            if not spec.access.is_public or spec.cache_seconds is None:
                # It answers for one user (or an admin), or for a secret id in its path (a
                # checkout session), or it did not declare itself cacheable: no browser or
                # shared cache may keep it. Public routes opt in with ``cache_seconds``.
                _set_header(response, "Cache-Control", "no-store")
            elif spec.access.identifies_caller:
                # The answer may depend on the caller: only an anonymous one may be shared.
                _set_header(response, "Vary", "Authorization")
                if _sends_token(request):
                    _set_header(response, "Cache-Control", "private, no-store")
            telemetry.request_done(spec.tags, spec.path, response.status_code)  # EMF: no network call
            return response

        view.__route_spec__ = spec  # type: ignore[attr-defined]
        spec.view = view
        # Chalice's own content-type check answers outside our envelope; we check in _prepare.
        bp.route(path, methods=[method], content_types=["*/*"])(view)
        return view

    return decorator


def _request_id(request: Any) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or uuid.uuid4())


def _sends_token(request: Any) -> bool:
    return bool((request.headers.get("authorization") or "").strip())


def _prepare(request: Any, request_id: str, spec: RouteSpec, path_kwargs: dict[str, str]) -> RequestContext:
    principal = None
    if not spec.access.is_public or (spec.access.identifies_caller and _sends_token(request)):
        claims = auth.verify_token(auth.bearer_token(request.headers))
        if _resolver is None:
            raise RuntimeError("no principal resolver configured")
        principal = _resolver(claims)
        auth.authorize(principal, spec.access)
    ctx = RequestContext(request=request, request_id=request_id, principal=principal)
    if spec.rate_limit is not None:
        rate_limiting.count_request(spec.rate_limit, principal, ctx.source_ip,
                                    request.headers.get("idempotency-key"))
    _check_path_params(path_kwargs)
    if spec.query is not None:
        ctx.query = validate(spec.query, _query_dict(request))
    if spec.body is not None and spec.accepts_form and _content_type(request) == FORM:
        ctx.body = validate(spec.body, _form_body(request))
    elif spec.body is not None and spec.body_optional and not (request.raw_body or b"").strip():
        ctx.body = spec.body()  # every field optional and nothing sent: the defaults (no Content-Type needed)
    elif spec.body is not None:
        ctx.body = validate_json(spec.body, _json_body(request))
    return ctx


# No id we mint comes near this many UTF-8 bytes; a longer one (or one with control characters)
# names nothing we store, so it is a 404 here instead of a key DynamoDB refuses (a 500: a sort
# key holds 1,024 bytes, an id plus its key prefix stays well under that).
MAX_PATH_PARAM_BYTES = 512
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _check_path_params(path_kwargs: dict[str, str]) -> None:
    for name, value in path_kwargs.items():
        if len(value.encode("utf-8", "surrogatepass")) > MAX_PATH_PARAM_BYTES or _CONTROL_CHARACTER.search(value):
            noun = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Id")).lower()
            raise NotFound(noun)


@functools.cache
def all_optional(model: type[BaseModel]) -> bool:
    return not any(field.is_required() for field in model.model_fields.values())


FORM = "application/x-www-form-urlencoded"


def _content_type(request: Any) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _form_body(request: Any) -> dict[str, str]:
    """An HTML form's fields; a field sent twice is ambiguous, so a 400."""
    from urllib.parse import parse_qs

    raw: bytes = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {get_settings().max_body_bytes} bytes.")
    try:
        fields = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw.strip()))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The request body is not a valid form.", code="malformed_form") from exc
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise BadRequest(f"The form sends {', '.join(repeated)} more than once.", code="malformed_form",
                         details={"fields": repeated})
    return {name: values[0] for name, values in fields.items()}


def _query_dict(request: Any) -> dict[str, Any]:
    params = request.query_params or {}
    out: dict[str, Any] = {}
    for key in params:
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        out[key] = values if len(values) > 1 else values[0]
    return out


def _json_body(request: Any) -> bytes:
    """The raw body, once it is known to be a JSON document of acceptable size."""
    raw: bytes = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {get_settings().max_body_bytes} bytes.")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType("The request body must be application/json.",
                                   details={"contentType": content_type or None})
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.", code="malformed_json")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(f"The request body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep.",
                         code="malformed_json", details={"maxDepth": MAX_JSON_DEPTH})
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("The request body is not valid JSON.", code="malformed_json") from exc
    return raw


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw``, counted without recursion (brackets
    inside strings do not count). Malformed text gets a number too; the parser rejects it."""
    depth = deepest = 0
    in_string = False
    for token in _JSON_STRUCTURE.findall(raw):
        if token == b'"':
            in_string = not in_string
        elif in_string or len(token) == 2:
            continue
        elif token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def validate_json(model: type[BaseModel], raw: bytes) -> Any:
    """Validate a JSON body in pydantic's strict JSON mode: "yes" is not a boolean and "5"
    not a number, while ISO-8601 strings still parse as datetimes. ``raw`` has passed
    ``_json_body``, so its nesting is bounded (pydantic's own JSON limit is 200 levels)."""
    try:
        parsed = model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ValidationFailed("The request is not valid.", details={"fields": field_errors(exc)}) from exc
    too_long = _too_long(*_body_schema(model), json.loads(raw), ())
    if too_long:
        raise ValidationFailed("The request is not valid.", details={"fields": too_long})
    return parsed


@functools.cache
def _body_schema(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    return schema, schema.get("$defs", {})


def _too_long(schema: dict[str, Any], defs: dict[str, Any], value: Any, path: tuple[str, ...]) -> list[dict[str, str]]:
    """Strings longer than the documented maxLength. Input models strip surrounding
    whitespace before their length checks, so " x" passes a maxLength of 1 there; the
    document's limit holds for the string as sent."""
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    branches = schema.get("anyOf", []) + schema.get("allOf", [])
    errors = [error for branch in branches for error in _too_long(branch, defs, value, path)]
    limit = schema.get("maxLength")
    if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
        errors.append({"path": ".".join(path) or "(body)", "message": f"String should have at most {limit} characters.",
                       "type": "string_too_long"})
    elif isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                errors += _too_long(sub, defs, value[key], (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += _too_long(schema["items"], defs, item, (*path, str(index)))
    return list({e["path"]: e for e in errors}.values())


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request is not valid.", details={"fields": field_errors(exc)}) from exc
    except RecursionError as exc:  # a structure nested past what any model accepts
        raise BadRequest("The request data nests arrays or objects too deeply.", code="malformed_json") from exc


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return envelope_fields(exc.errors(include_url=False))


def _respond(request: Any, spec: RouteSpec, result: Any) -> Response:
    reply = result if isinstance(result, Reply) else Reply(body=result)
    status = reply.status or spec.status
    headers: dict[str, Any] = dict(reply.headers)
    if status == 204:  # No Content: no body, no Content-Type
        return Response(body="", status_code=204, headers=headers)
    body = reply.body
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    if spec.content_type != "application/json":
        headers.setdefault("Content-Type", spec.content_type)
        return Response(body=body, status_code=status, headers=headers)
    text = json.dumps(body, separators=(",", ":"), default=str)
    headers.setdefault("Content-Type", "application/json")
    if spec.cache_seconds is not None and status == 200:
        etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
        headers["ETag"] = etag
        headers["Cache-Control"] = f"public, max-age={spec.cache_seconds}"
        if etag in (request.headers.get("if-none-match") or ""):
            return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=status, headers=headers)


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, request_id: str | None = None) -> Response:
    """The error envelope. Errors are never cached: the next request may well succeed."""
    return Response(
        body=json.dumps(error_body(code, message, details, request_id)),
        status_code=status,
        headers=dict[str, Any]({**JSON_HEADERS, "Cache-Control": "no-store", **(headers or {})}),
    )
