"""Lazy wiring of the API function: every route is registered from a table when ``app`` is
imported, and a handler module is imported the first time one of its routes is called.

Why: ``import app`` is the API function's cold start. Importing every handler module (and
through them pydantic, PynamoDB, botocore and every schema) cost about four times a bare
``import boto3``; the table costs next to nothing, and a request pays only for the module
that serves it (``make bench`` prints both figures).

``chalicelib/route_table.py`` is generated from the declarations themselves
(``python -m tools.route_table``, run by ``make client``); a test fails when it is stale, so
the table cannot drift from ``chalicelib.api.REGISTRY``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from chalice import Blueprint, Chalice

# (method, path, handler module, handler name, condition): the condition names a Settings
# property that must be true for the route to exist (the local stand-ins), or is None.
RouteRow = tuple[str, str, str, str, str | None]

_app: Chalice | None = None
_views: dict[tuple[str, str], Callable[..., Any]] = {}
_before_first_request: list[Callable[[], None]] = []
_lock = threading.Lock()


def install(
    app: Chalice,
    routes: Iterable[RouteRow],
    *,
    include: Callable[[str], bool],
    before_first_request: Callable[[], None],
) -> None:
    """Register a stub view per row on ``app``; ``before_first_request`` runs once, before
    the first handler module is imported (it injects what the handlers need)."""
    global _app
    _app = app
    _before_first_request[:] = [before_first_request]
    for method, path, module, name, condition in routes:
        if condition is not None and not include(condition):
            continue
        app.route(path, methods=[method], name=name, content_types=["*/*"])(_stub(method, path, module, name))


def _stub(method: str, path: str, module: str, name: str) -> Callable[..., Any]:
    def view(**path_kwargs: str) -> Any:
        return view_for(method, path, module)(**path_kwargs)

    view.__name__ = view.__qualname__ = name
    view.__route_key__ = (method, path)  # type: ignore[attr-defined]
    view.__route_module__ = module  # type: ignore[attr-defined]
    return view


def view_for(method: str, path: str, module: str) -> Callable[..., Any]:
    """The declared view of ``method path``, importing ``module`` on first use."""
    found = _views.get((method, path))
    if found is not None:
        return found
    with _lock:
        while _before_first_request:
            _before_first_request.pop()()
        importlib.import_module(module)
        from chalicelib.api import REGISTRY  # loaded by now: every handler module imports it

        for spec in REGISTRY:
            if spec.view is not None and spec.module == module:
                _views.setdefault((spec.method, spec.path), spec.view)
    found = _views.get((method, path))
    if found is None:
        raise LookupError(f"{method} {path}: {module} declares no such route (python -m tools.route_table)")
    return found


def declaration(view: Callable[..., Any]) -> Any:
    """The ``chalicelib.api.RouteSpec`` behind a view registered on the app (a stub of
    ``install``, loading its module, or a view ``chalicelib.api.route`` made); None for a
    route registered without a declaration."""
    key = getattr(view, "__route_key__", None)
    if key is not None:
        view = view_for(key[0], key[1], view.__route_module__)  # type: ignore[attr-defined]
    return getattr(view, "__route_spec__", None)


def load_all(routes: Iterable[RouteRow]) -> None:
    """Import every handler module of ``routes`` (the OpenAPI document and the tests walk
    the whole registry)."""
    for method, path, module, _name, _condition in routes:
        view_for(method, path, module)


def current_request(bp: Blueprint) -> Any:
    """The request being served: through ``bp`` when it is registered on an app (tests build
    small apps that way), else through the app ``install`` wired."""
    if bp._current_app is not None:
        return bp.current_request
    if _app is None:
        raise RuntimeError("no app is wired: import app (or register the blueprint) first")
    return _app.current_request
