"""Every route declares who may call it; the declaration is what is enforced."""

from __future__ import annotations

import json

import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

from chalicelib import api as api_module
from chalicelib import routing
from chalicelib.auth import ADMIN, CLIENT, PUBLIC, READER


def test_every_registered_route_has_an_access_declaration(chalice_app):
    undeclared = []
    declared = []
    for path, methods in chalice_app.routes.items():
        for method, entry in methods.items():
            spec = routing.declaration(entry.view_function)
            if spec is None:
                undeclared.append(f"{method} {path}")
            else:
                declared.append((spec.method, spec.path))
                assert (spec.method, spec.path) == (method, path)
    assert not undeclared, f"routes without an access declaration (use chalicelib.api.route): {undeclared}"
    assert len(declared) >= 7


def test_the_registry_and_the_app_list_the_same_routes(chalice_app):
    app_routes = {(m, p) for p, methods in chalice_app.routes.items() for m in methods}
    registry = {(s.method, s.path) for s in api_module.REGISTRY}
    assert registry == app_routes


@pytest.fixture()
def scratch_app():
    """A throwaway app with routes of each access kind; the registry is restored after."""
    saved = list(api_module.REGISTRY)
    bp = Blueprint(__name__)

    @api_module.route(bp, "/t/admin", "GET", access=ADMIN, summary="admin only")
    def admin_only(ctx):
        return {"ok": ctx.user.user_id}

    @api_module.route(bp, "/t/reader", "GET", access=READER, summary="readers only")
    def reader_only(ctx):
        return {"ok": ctx.user.user_id}

    @api_module.route(bp, "/t/client", "GET", access=CLIENT, summary="clients and readers")
    def client_only(ctx):
        return {"ok": ctx.user.user_id}

    @api_module.route(bp, "/t/boom", "GET", access=PUBLIC, summary="a bug")
    def boom(ctx):
        raise RuntimeError("kaboom: secret detail")

    app = Chalice(app_name="scratch")
    app.register_blueprint(bp)
    yield app
    api_module.REGISTRY[:] = saved


@pytest.mark.parametrize("role,path,status", [
    ("client", "/t/admin", 403), ("reader", "/t/admin", 403), ("admin", "/t/admin", 200),
    ("client", "/t/reader", 403), ("reader", "/t/reader", 200), ("admin", "/t/reader", 403),
    ("client", "/t/client", 200), ("reader", "/t/client", 200), ("admin", "/t/client", 403),
])
def test_roles_are_enforced_as_declared(api, make_user, scratch_app, role, path, status):
    make_user(f"user_{role}", role=role)
    with Client(scratch_app) as client:
        response = client.http.get(path, headers={"Authorization": f"Bearer {api.issuer.token(f'user_{role}')}"})
    assert response.status_code == status
    if status == 403:
        assert json.loads(response.body)["error"]["code"] == "forbidden_role"


def test_anonymous_callers_get_401_on_role_routes(api, scratch_app):
    with Client(scratch_app) as client:
        assert client.http.get("/t/admin").status_code == 401


def test_an_unexpected_error_is_a_500_with_the_request_id_and_a_logged_stack(api, scratch_app, caplog):
    with Client(scratch_app) as client:
        response = client.http.get("/t/boom")
    body = json.loads(response.body)
    assert response.status_code == 500
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["requestId"]
    assert "kaboom" not in response.body.decode()  # internals are logged, not shown
    from chalicelib.logs import logger

    raw = next(r for r in caplog.records if r.getMessage() == "unhandled error")
    record = json.loads(logger.registered_formatter.format(raw))  # the structured line Lambda ships
    assert record["level"] == "ERROR"
    assert record["request_id"] == body["error"]["requestId"]
    assert "kaboom" in record["exception"] and "Traceback" in record["exception"]
