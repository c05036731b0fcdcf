"""Platform routes: health, catalog, the OpenAPI document and its docs page."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from chalice import Blueprint

from chalicelib import openapi
from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import ADMIN, PUBLIC
from chalicelib.errors import NotFound
from chalicelib.schemas.catalog import CatalogOut
from chalicelib.schemas.platform import DependencyCheck, HealthOut, HealthReportOut
from chalicelib.services import catalog, health

platform_api = Blueprint(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
DOCS_ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css"}


@route(platform_api, "/health", "GET", access=PUBLIC, response=HealthOut, errors=(503,), tags=["platform"],
       summary="Liveness: ok or degraded")
def get_health(ctx: RequestContext) -> Reply:
    """200 ``ok`` when every dependency answers; 503 ``degraded`` when one does not. Which
    one, and what the service runs on, is for admins (``GET /admin/health``)."""
    report = health.check()
    return Reply(HealthOut(status=report.status), status=_health_status(report),
                 headers={"Cache-Control": "no-store"})


@route(platform_api, "/admin/health", "GET", access=ADMIN, response=HealthReportOut, errors=(503,),
       tags=["platform"], summary="Dependency report: every table, queue and bucket by name")
def get_admin_health(ctx: RequestContext) -> Reply:
    """200 when every table, the queue and the bucket answer; 503 with the same body when not."""
    report = health.check()
    body = HealthReportOut(status=report.status, stage=report.stage, checks={
        name: DependencyCheck(status=check.status, latency_ms=check.latency_ms, error=check.error)
        for name, check in report.checks.items()
    })
    return Reply(body, status=_health_status(report))


def _health_status(report: health.HealthReport) -> int:
    return 200 if report.status == "ok" else 503


@route(platform_api, "/catalog", "GET", access=PUBLIC, response=CatalogOut, cache_seconds=300, tags=["platform"],
       rate_limit="public_reads", summary="Topics, attributes, reading types, time spans, packages, plans, badges")
def get_catalog(ctx: RequestContext) -> CatalogOut:
    return CatalogOut.model_validate(catalog.load())


@route(platform_api, "/openapi.json", "GET", access=PUBLIC, tags=["platform"],
       summary="This API's OpenAPI 3.1 document")
def get_openapi(ctx: RequestContext) -> Reply:
    return Reply(json.loads(_document_text()), headers={"Cache-Control": "public, max-age=60"})


@lru_cache(maxsize=1)
def _document_text() -> str:
    return json.dumps(openapi.build_document())


@route(platform_api, "/docs", "GET", access=PUBLIC, content_type="text/html", tags=["platform"],
       summary="Interactive API documentation (Swagger UI, served locally)")
def get_docs(ctx: RequestContext) -> str:
    return DOCS_PAGE


@route(platform_api, "/docs/assets/{name}", "GET", access=PUBLIC, content_type="text/plain", tags=["platform"],
       errors=(404,), summary="Static assets of the docs page")
def get_docs_asset(ctx: RequestContext, name: str) -> Reply:
    if name not in DOCS_ASSETS:
        raise NotFound("asset")
    body = (STATIC / "swagger-ui" / name).read_text(encoding="utf-8")
    return Reply(body, headers={"Content-Type": DOCS_ASSETS[name], "Cache-Control": "public, max-age=86400"})


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Auralumic API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      tryItOutEnabled: true
    });
  </script>
</body>
</html>
"""
