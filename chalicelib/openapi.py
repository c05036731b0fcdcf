"""The OpenAPI 3.1 document, built from the route registry and the pydantic schemas.

pydantic already emits JSON Schema 2020-12, which *is* OpenAPI 3.1's schema dialect, so
the only code here is the thin part no maintained library covers for Chalice: turning
each ``RouteSpec`` into an operation (parameters, body, responses, security, access).
chalice-spec targets apispec and pydantic 1; openapi-pydantic would only add a typed
model of the document we build in a few lines.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import REGISTRY, RouteSpec
from chalicelib.config import get_settings
from chalicelib.schemas.common import ErrorEnvelope
from chalicelib.schemas.examples import complete_examples

API_TITLE = "Auralumic API"
API_VERSION = "0.1.0"
REF = "#/components/schemas/{model}"

_ERROR_TEXT = {
    400: "Invalid input (validation_error, malformed_json, invalid_cursor)",
    401: "Missing, invalid or expired bearer token",
    403: "Authenticated, but this role or account may not do this",
    404: "Not found (or not yours)",
    409: "Conflict with the current state",
    413: "Request body too large",
    414: "Request URI too long (query values percent-encode to more than the server accepts)",
    415: "Request body is not JSON",
    422: "Business rule violated",
    429: "Too many requests of this route's class from this caller (rate_limited); retry after Retry-After seconds",
    500: "Bug; the body carries the request id",
    503: "A dependency is unreachable",
}


RETRY_AFTER_HEADER = {
    "description": "Seconds until the caller's next window opens (at least 1); the body's "
                   "`details.retryAfterSeconds` says the same.",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


# Stand-ins for external services (the local checkout page) live under this prefix; app.py
# serves them only where payments are local, and only there are they documented.
LOCAL_ONLY_PREFIX = "/local/"


def documented_routes() -> list[RouteSpec]:
    """The routes this deployment serves: the local-only ones only where payments are local."""
    from chalicelib import routing
    from chalicelib.route_table import ROUTES

    routing.load_all(ROUTES)  # the handler modules are imported on first use; the document needs all
    local = get_settings().payments_are_local
    return [spec for spec in REGISTRY if local or not spec.path.startswith(LOCAL_ONLY_PREFIX)]


def build_document(server_url: str | None = None) -> dict[str, Any]:
    routes = documented_routes()
    models: list[tuple[type[BaseModel], str]] = [(ErrorEnvelope, "serialization")]
    for spec in routes:
        if spec.body is not None:
            models.append((spec.body, "validation"))
        if spec.response is not None:
            models.append((spec.response, "serialization"))
    key_map, defs = models_json_schema(_unique(models), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for spec in sorted(routes, key=lambda s: (s.path, s.method)):
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, key_map)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": "The Auralumic marketplace backend. Errors share one envelope: "
                           '`{"error": {"code", "message", "details"}}`. Lists take `limit` (default 20, '
                           "clamped to 100) and an opaque `cursor`.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "A Clerk session token (locally: a token printed by `make run`)."},
            },
        },
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in sorted({t for s in routes for t in s.tags})],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    schemas = document["components"]["schemas"]
    complete_examples(schemas, response_components(paths, schemas))
    return document


def response_components(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The component names the responses of ``paths`` reference, directly or nested."""
    found: set[str] = set()
    pending = [op.get("responses", {}) for methods in paths.values() for op in methods.values()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(value for key, value in node.items() if key != "$ref")
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _unique(models: list[tuple[type[BaseModel], str]]) -> list[tuple[type[BaseModel], Any]]:
    seen: dict[tuple[type[BaseModel], str], None] = {}
    for item in models:
        seen.setdefault(item, None)
    return list(seen)  # type: ignore[arg-type]


def _ref(key_map: dict[Any, Any], model: type[BaseModel], mode: str) -> dict[str, Any]:
    return dict(key_map[(model, mode)])


_SIGNED_IN: tuple[dict[str, list[str]], ...] = ({"bearerAuth": []},)


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "A key of your choosing (1 to 200 printable ASCII characters), the same for every retry of "
                   "one action: a retry with the same key answers with what the first request did instead of doing "
                   "it twice; the same key with a different body is a 409 idempotency_key_reused.",
}


def _operation(spec: RouteSpec, key_map: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": spec.handler_name,
        "summary": spec.summary,
        "tags": list(spec.tags),
        "x-access": spec.access.describe(),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in spec.path_params
        ],
    }
    if spec.description:
        op["description"] = spec.description
    if spec.rate_limit is not None:
        op["x-rate-limit-class"] = spec.rate_limit  # its limit per stage: chalicelib/domain/limits.py, RATE_LIMITS
    if spec.access.identifies_caller:
        op["security"] = [{}, *_SIGNED_IN]  # optional: anonymous, or identified by a bearer token
    elif spec.access.is_public:
        op["security"] = []
    if spec.query is not None:
        op["parameters"].extend(_query_parameters(spec.query))
    if spec.idempotent:
        op["parameters"].append(IDEMPOTENCY_KEY)
    if not op["parameters"]:
        del op["parameters"]
    if spec.body is not None:
        op["requestBody"] = {"required": not spec.body_optional,
                             "content": {"application/json": {"schema": _ref(key_map, spec.body, "validation")}}}
        if spec.accepts_form:
            op["requestBody"]["content"]["application/x-www-form-urlencoded"] = {
                "schema": _ref(key_map, spec.body, "validation")}
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": _ref(key_map, spec.response, "serialization")}}
    elif spec.content_type != "application/json":
        ok["content"] = {spec.content_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(spec.status): ok}
    if spec.cache_seconds is not None:
        responses["304"] = {"description": "Not modified (ETag matched If-None-Match)"}
    error_codes = set(spec.errors) | {500}
    if not spec.access.is_public:
        error_codes |= {401, 403}
    elif spec.access.identifies_caller:
        error_codes |= {401}  # a token that is sent must be valid
    if spec.body is not None:
        error_codes |= {400, 413, 415}
    if spec.query is not None:
        # A query value within its maxLength may still percent-encode past the URI limit
        # (tools/local/server.py MAX_URI_CHARS; API Gateway has its own).
        error_codes |= {400, 414}
    if spec.rate_limit is not None:
        error_codes |= {429}
    error_schema = _ref(key_map, ErrorEnvelope, "serialization")
    for code in sorted(error_codes):
        responses[str(code)] = {"description": _ERROR_TEXT.get(code, "Error"),
                                "content": {"application/json": {"schema": error_schema}}}
    if "429" in responses:
        responses["429"]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    op["responses"] = responses
    return op


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params
