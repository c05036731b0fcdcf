"""Catalog administration (admins only): CRUD for attributes, categories, badges, time spans,
credit packages and subscription plans. ``GET /catalog`` shows the changes on its next read.

Per collection: ``GET`` (paginated, retired entries included, ``?active=`` filters),
``POST`` (201; id from the body or a slug of the name; a taken id is a 409), ``GET`` one
(with an ``ETag`` of its version), ``PATCH`` (partial; ``If-Match: "<version>"`` makes it
apply to that version only) and ``DELETE`` (retires: see services/catalog_admin.py).
The routes are declared once per collection by ``_register``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.http_conditions import etag, if_match
from chalicelib.schemas import catalog_admin as schemas
from chalicelib.schemas.common import InputModel
from chalicelib.services import catalog_admin
from chalicelib.services.catalog_admin import Entry

admin_catalog_api = Blueprint(__name__)


@dataclass(frozen=True)
class Collection:
    kind: str  # CatalogItem.kind
    path: str
    param: str  # the path parameter naming one entry
    singular: str  # for summaries and operation ids
    create: type[InputModel]
    patch: type[schemas.PatchModel]
    out: type[BaseModel]
    page: type[BaseModel]


COLLECTIONS = (
    Collection("attribute", "/admin/attributes", "attributeId", "attribute", schemas.AttributeCreate,
               schemas.AttributePatch, schemas.AdminAttribute, schemas.AdminAttributePage),
    Collection("category", "/admin/categories", "categoryId", "category", schemas.CategoryCreate,
               schemas.CategoryPatch, schemas.AdminCategory, schemas.AdminCategoryPage),
    Collection("badge", "/admin/badges", "badgeId", "badge", schemas.BadgeCreate, schemas.BadgePatch,
               schemas.AdminBadge, schemas.AdminBadgePage),
    Collection("time_span", "/admin/time-spans", "timeSpanId", "time_span", schemas.TimeSpanCreate,
               schemas.TimeSpanPatch, schemas.AdminTimeSpan, schemas.AdminTimeSpanPage),
    Collection("credit_package", "/admin/credit-packages", "packageId", "credit_package",
               schemas.CreditPackageCreate, schemas.CreditPackagePatch, schemas.AdminCreditPackage,
               schemas.AdminCreditPackagePage),
    Collection("plan", "/admin/plans", "planId", "plan", schemas.PlanCreate, schemas.PlanPatch, schemas.AdminPlan,
               schemas.AdminPlanPage),
)


def _reply(collection: Collection, entry: Entry, status: int | None = None) -> Reply:
    headers = {"ETag": etag(entry.version)}
    if status == 201:
        headers["Location"] = f"{collection.path}/{entry.id}"
    return Reply(collection.out.model_validate(entry.view()), status=status, headers=headers)


def _new_data(collection: Collection, body: BaseModel) -> dict[str, Any]:
    data = body.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"id"})
    if collection.kind == "time_span" and "label" not in data:
        data["label"] = f"{data['duration']} minutes"
    return data


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Give a generated handler its own name: it is the route's OpenAPI operationId."""
    function.__name__ = function.__qualname__ = name
    return function


def _register(c: Collection) -> None:
    item_path = f"{c.path}/{{{c.param}}}"
    noun = c.singular.replace("_", " ")
    plural = c.path.rsplit("/", 1)[-1].replace("-", "_")
    tags = ["admin", "catalog"]

    def list_entries(ctx: RequestContext) -> BaseModel:
        query: schemas.ListQuery = ctx.query
        page = catalog_admin.list_entries(c.kind, active=query.active, limit=query.limit, cursor=query.cursor,
                                          scope=f"GET {c.path}?active={query.active}")
        return c.page.model_validate(page.body([entry.view() for entry in page.items]))

    def create_entry(ctx: RequestContext) -> Reply:
        entry = catalog_admin.create_entry(c.kind, getattr(ctx.body, "id", None), _new_data(c, ctx.body),
                                           actor_id=ctx.user.user_id, request_id=ctx.request_id)
        return _reply(c, entry, status=201)

    def get_entry(ctx: RequestContext, **path: str) -> Reply:
        return _reply(c, catalog_admin.get_entry(c.kind, path[c.param]))

    def patch_entry(ctx: RequestContext, **path: str) -> Reply:
        patch: schemas.PatchModel = ctx.body
        entry = catalog_admin.update_entry(c.kind, path[c.param], patch.changes(), active=patch.active,
                                           expected_version=if_match(ctx), actor_id=ctx.user.user_id,
                                           request_id=ctx.request_id)
        return _reply(c, entry)

    def retire_entry(ctx: RequestContext, **path: str) -> Reply:
        entry = catalog_admin.retire_entry(c.kind, path[c.param], expected_version=if_match(ctx),
                                           actor_id=ctx.user.user_id, request_id=ctx.request_id)
        return _reply(c, entry)

    route(admin_catalog_api, c.path, "GET", access=ADMIN, query=schemas.ListQuery, response=c.page, tags=tags,
          summary=f"List {noun} entries, retired ones included (filter with ?active=)")(
        _named(f"list_admin_{plural}", list_entries))
    route(admin_catalog_api, c.path, "POST", access=ADMIN, body=c.create, response=c.out, status=201, tags=tags,
          errors=(409, 422), summary=f"Create a {noun}")(_named(f"create_admin_{c.singular}", create_entry))
    route(admin_catalog_api, item_path, "GET", access=ADMIN, response=c.out, tags=tags, errors=(404,),
          summary=f"One {noun}, retired or not, with its version as ETag")(
        _named(f"get_admin_{c.singular}", get_entry))
    route(admin_catalog_api, item_path, "PATCH", access=ADMIN, body=c.patch, response=c.out, tags=tags,
          errors=(404, 409, 422), summary=f"Change some fields of a {noun} (If-Match: its version)")(
        _named(f"patch_admin_{c.singular}", patch_entry))
    route(admin_catalog_api, item_path, "DELETE", access=ADMIN, response=c.out, tags=tags, errors=(400, 404, 409),
          summary=f"Retire a {noun} (soft delete: hidden from the catalog, kept for what refers to it)")(
        _named(f"retire_admin_{c.singular}", retire_entry))


for _collection in COLLECTIONS:
    _register(_collection)
