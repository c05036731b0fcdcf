"""Hostile input and the headers every response carries: deep JSON is a 400 and writes
nothing; personal answers are never cached; nothing is sniffed; HTML is never framed."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib import api as api_module


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1000, 30_000])
def test_deeply_nested_json_is_a_400_and_changes_nothing(api, depth):
    api.patch("/me", as_user="user_a", json_body={"displayName": "Before"})

    response = api.patch("/me", as_user="user_a", body='{"displayName": ' + _nested(depth) + "}",
                         headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "malformed_json"
    assert error["message"] == "The request body nests arrays or objects more than 64 levels deep."
    assert error["details"] == {"maxDepth": api_module.MAX_JSON_DEPTH}
    assert api.get("/me", as_user="user_a").json["displayName"] == "Before"


def test_a_100000_deep_body_is_a_400_even_where_the_size_limit_lets_it_through(api, monkeypatch):
    body = _nested(100_000)  # 200 kB: over the default 64 kB, a 413; raise the limit to reach the parser
    assert api.patch("/me", as_user="user_a", body=body, headers={"Content-Type": "application/json"}
                     ).status_code == 413
    roomy = dataclasses.replace(api_module.get_settings(), max_body_bytes=1024 * 1024)
    monkeypatch.setattr(api_module, "get_settings", lambda: roomy)

    for path, method in (("/me", "PATCH"), ("/me/preferences", "PUT")):
        response = api.request(method, path, as_user="user_a", body=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.body)
        assert response.json["error"]["code"] == "malformed_json"
    assert api.get("/me", as_user="user_a").json.get("displayName") is None


def test_nesting_up_to_the_limit_reaches_validation(api):
    # 64 levels deep is parsed and judged by the model: a 400 about the field, not the shape.
    response = api.patch("/me", as_user="user_a", body='{"displayName": ' + _nested(63) + "}",
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"]["fields"][0]["path"] == "displayName"


@pytest.mark.parametrize("text,depth", [
    (b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'{"a": "[[[[{{{{"}', 1), (b'{"a": "\\"[[", "b": [[]]}', 3),
    (b'["\\\\", ["x"]]', 2), (b'"no structure"', 0),
])
def test_json_depth_counts_structure_outside_strings(text, depth):
    assert api_module.json_depth(text) == depth


def _deep_list(depth: int) -> list:
    deep: list = []
    for _ in range(depth):
        deep = [deep]
    return deep


def test_pydantic_answers_a_deep_python_structure_with_a_400():
    # Pins pydantic-core's own recursion guard: a ValidationError (400), never RecursionError.
    from pydantic import BaseModel, JsonValue

    from chalicelib.errors import ValidationFailed

    class Anything(BaseModel):
        value: JsonValue

    with pytest.raises(ValidationFailed):
        api_module.validate(Anything, {"value": _deep_list(100_000)})


def test_a_validator_that_recurses_too_deep_is_a_400_not_a_500():
    from pydantic import BaseModel, field_validator

    from chalicelib.errors import BadRequest

    class Walked(BaseModel):
        value: list

        @field_validator("value")
        @classmethod
        def _walk(cls, value: list) -> list:
            def depth(node: object) -> int:
                return 1 + max((depth(child) for child in node), default=0) if isinstance(node, list) else 0

            depth(value)
            return value

    with pytest.raises(BadRequest) as raised:
        api_module.validate(Walked, {"value": _deep_list(100_000)})
    assert raised.value.code == "malformed_json"


# Headers -------------------------------------------------------------------------------


def _assert_nosniff(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/me", "/credits", "/readings", "/me/preferences"])
def test_personal_answers_are_never_cached(api, default_catalog, path):
    response = api.get(path, as_user="user_a")
    assert response.status_code == 200, response.body
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    _assert_nosniff(response)


def test_admin_answers_are_never_cached(api, make_user):
    make_user("user_admin", role="admin")
    response = api.get("/admin/health", as_user="user_admin")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    _assert_nosniff(response)


def test_a_public_catalog_keeps_its_cache_headers(api, default_catalog):
    response = api.get("/catalog")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["ETag"]
    _assert_nosniff(response)
    assert "X-Frame-Options" not in response.headers  # JSON, not a page


@pytest.mark.parametrize("call,status", [
    (lambda api: api.get("/me"), 401),  # no token: an error on a personal route
    (lambda api: api.get("/docs/assets/nothing.js"), 404),  # a declared route's 404
    (lambda api: api.request("DELETE", "/catalog"), 405),  # Chalice's own answer
    (lambda api: api.patch("/me", as_user="user_a", body="{", headers={"Content-Type": "application/json"}), 400),
])
def test_errors_carry_nosniff_and_are_not_cached(api, call, status):
    response = call(api)
    assert response.status_code == status
    _assert_nosniff(response)
    if status != 405:
        assert response.headers["Cache-Control"] == "no-store"
        assert json.loads(response.body)["error"]["code"]


def test_the_docs_page_may_not_be_framed(api):
    response = api.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    _assert_nosniff(response)


def test_a_page_with_its_own_policy_gets_frame_ancestors_added():
    from chalice import Response

    page = Response(body="<p>hi</p>", headers={"content-type": "text/html; charset=utf-8",
                                                "Content-Security-Policy": "default-src 'self'"})
    api_module.harden(page)
    assert page.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_signed_but_deeply_nested_clerk_delivery_is_a_400(api):
    # The webhook parses its own (signed) body; nesting must not turn into a 500 there either.
    from tests.api.test_clerk_webhooks import deliver

    body = ('{"type": "user.created", "data": {"id": "user_deep", "x": ' + _nested(30_000) + "}}").encode()
    response = deliver(api, body=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_payload"
    _assert_nosniff(response)
