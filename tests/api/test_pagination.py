"""Cursors are opaque and bound to their list; page sizes are clamped."""

from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest
from tests.api import test_authorization_matrix as matrix

world = matrix.world  # the matrix's callers and objects (a fixture)


@pytest.fixture()
def entries(aws):
    from chalicelib.services import catalog

    catalog.upsert([("category", f"c{n:03d}", {"name": f"Category {n}"}) for n in range(45)])


def _page(limit=None, cursor=None, scope="GET /things:user_a"):
    from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
    from chalicelib.pagination import paginate
    from chalicelib.schemas.common import PageQuery

    query = PageQuery.model_validate({k: v for k, v in {"limit": limit, "cursor": cursor}.items() if v is not None})
    return paginate(lambda n, start: CatalogItem.query(CATALOG_PARTITION, limit=n, last_evaluated_key=start),
                    query, scope)


def test_pages_walk_the_whole_list_once(entries):
    seen, cursor, sizes, infos = [], None, [], []
    while True:
        page = _page(limit=20, cursor=cursor)
        sizes.append(len(page.items))
        seen.extend(item.item_id for item in page.items)
        infos.append(page.meta())
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [20, 20, 5]
    assert len(seen) == len(set(seen)) == 45
    # Numbered pages along the cursor chain; without a kept total the count is known on the last.
    assert [(i["page"], i["hasPrev"], i["hasNext"], i["totalPages"]) for i in infos] == [
        (1, False, True, None), (2, True, True, None), (3, True, False, 3)]
    assert all("total" not in info for info in infos)


def test_default_limit_is_20_and_a_huge_limit_is_clamped_to_100(entries):
    assert _page().limit == 20
    assert len(_page().items) == 20
    huge = _page(limit="1000000")
    assert huge.limit == 100
    assert len(huge.items) == 45 and huge.next_cursor is None


@pytest.mark.parametrize("limit", ["0", "-5", "ten", "1.5"])
def test_a_nonsense_limit_is_a_validation_error(limit):
    from pydantic import ValidationError

    from chalicelib.schemas.common import PageQuery

    with pytest.raises(ValidationError):
        PageQuery.model_validate({"limit": limit})


@pytest.mark.parametrize("cursor", ["garbage", "", ".", "eyJ4IjoxfQ.", "!!!.???", "a" * 200 + ".b"])
def test_a_garbage_cursor_is_a_400(entries, cursor):
    with pytest.raises(BadRequest) as err:
        _page(cursor=cursor or ".")
    assert err.value.code == "invalid_cursor"


def test_a_tampered_cursor_is_a_400(entries):
    import base64
    import json

    cursor = _page(limit=20).next_cursor
    payload, signature = cursor.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["k"]["sk"]["S"] = "category#c040"  # skip ahead by editing the key
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    with pytest.raises(BadRequest):
        _page(cursor=f"{forged}.{signature}")


def _with_page_number(cursor: str, number: object) -> str:
    """``cursor`` with the page number it carries replaced (the signature kept)."""
    import base64
    import json

    payload, signature = cursor.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert body["p"] == 2
    body["p"] = number
    edited = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return f"{base64.urlsafe_b64encode(edited).decode().rstrip('=')}.{signature}"


@pytest.mark.parametrize("number", [3, 1, 0, 99, "2", None])
def test_a_cursor_with_an_altered_page_number_is_a_400(entries, number):
    cursor = _page(limit=20).next_cursor
    assert _page(limit=20, cursor=cursor).page == 2
    with pytest.raises(BadRequest) as err:
        _page(limit=20, cursor=_with_page_number(cursor, number))
    assert err.value.code == "invalid_cursor"


def test_a_cursor_from_another_users_list_is_a_400(entries):
    cursor = _page(limit=20, scope="GET /things:user_a").next_cursor
    with pytest.raises(BadRequest):
        _page(cursor=cursor, scope="GET /things:user_b")
    assert len(_page(cursor=cursor, scope="GET /things:user_a").items) == 20


# --------------------------------------------------------------------------- the wire


def _reviews(count: int) -> None:
    """A reader with ``count`` reviews, their count kept beside them as the review service keeps it."""
    from chalicelib.models.readings import Review
    from tests.support.readings import make_reader

    profile = make_reader("rdr")
    for n in range(count):
        Review(reader_id="rdr", sk=f"2026-11-{n + 1:02d}T10:00:00.000Z#rdg_{n}", reading_id=f"rdg_{n}",
               client_id="cli", rating=5, comment=f"Review {n}", created_at=f"2026-11-{n + 1:02d}T10:00:00.000Z",
               ).save()
    profile.update(actions=[type(profile).rating_count.set(count)])


def test_walking_a_readers_reviews_numbers_the_pages_and_counts_them(api, monkeypatch):
    from datetime import UTC, datetime

    from chalicelib import pagination

    monkeypatch.setattr(pagination, "utcnow", lambda: datetime(2026, 12, 1, 9, 30, 15, 250000, tzinfo=UTC))
    _reviews(5)
    bodies, cursor = [], None
    while True:
        response = api.get("/readers/rdr/reviews?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.body
        bodies.append(response.json)
        cursor = response.json["pagination"]["nextCursor"]
        if not cursor:
            break

    assert [[r["comment"] for r in b["data"]] for b in bodies] == [
        ["Review 4", "Review 3"], ["Review 2", "Review 1"], ["Review 0"]]
    assert [b["pagination"] | {"nextCursor": None} for b in bodies] == [
        {"page": n, "limit": 2, "nextCursor": None, "hasNext": n < 3, "hasPrev": n > 1, "total": 5,
         "totalPages": 3} for n in (1, 2, 3)]
    assert all(b["meta"] == {"cached": False, "generatedAt": "2026-12-01T09:30:15.250Z"} for b in bodies)


def test_a_reader_without_reviews_has_one_empty_page(api):
    _reviews(0)
    body = api.get("/readers/rdr/reviews").json
    assert body["data"] == []
    assert body["pagination"] == {"page": 1, "limit": 20, "nextCursor": None, "hasNext": False, "hasPrev": False,
                                  "total": 0, "totalPages": 1}


def test_a_reviews_cursor_with_an_altered_page_number_is_refused(api):
    _reviews(3)
    cursor = api.get("/readers/rdr/reviews?limit=1").json["pagination"]["nextCursor"]
    assert api.get(f"/readers/rdr/reviews?limit=1&cursor={cursor}").json["pagination"]["page"] == 2

    response = api.get(f"/readers/rdr/reviews?limit=1&cursor={_with_page_number(cursor, 3)}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


# --- every paginated route: the same keys on every page ------------------------------------------

def _paginated_routes():
    from chalicelib.api import REGISTRY

    return sorted((spec for spec in REGISTRY if spec.method == "GET" and spec.response is not None
                   and "pagination" in spec.response.model_fields), key=lambda spec: spec.path)


def _caller_for(spec) -> str | None:
    """A caller the route serves: the admin for admin routes, a reader for reader routes,
    else the client who owns the matrix's objects (None: anonymous)."""
    access = spec.access
    if access.kind == "roles":
        return "admin" if "admin" in access.roles else "reader" if "reader" in access.roles else "client_a"
    return None if access.kind == "public" else "client_a"


PAGINATED = _paginated_routes()
# Lists that need a selector in the query.
QUERIES = {"/admin/audit-log": "day=today&"}


def test_the_paginated_routes_are_found():
    paths = {spec.path for spec in PAGINATED}
    assert {"/admin/moderation", "/admin/moderation-rules", "/admin/legal-documents", "/notifications",
            "/statuses", "/statuses/mine", "/me/favorites", "/admin/users", "/credits", "/readings"} <= paths


@pytest.mark.parametrize("spec", PAGINATED, ids=lambda spec: f"GET {spec.path}")
def test_every_page_of_every_list_sends_next_cursor_has_next_and_total_pages(api, world, spec):
    """The report: nextCursor was absent (not null) on the last page of some lists, and
    /notifications left out totalPages on a page with a next page. Every page carries
    nextCursor (null on the last), hasNext and totalPages (null until it is known)."""
    path, _ = matrix._path_for(spec, world)
    caller = _caller_for(spec)
    as_user = world[caller] if caller else None
    cursor, pages = None, []
    for _ in range(20):  # a page of one (most lists go on), then the rest in pages of 100
        response = api.get(f"{path}?{QUERIES.get(spec.path, '')}limit={100 if cursor else 1}"
                           + (f"&cursor={cursor}" if cursor else ""),
                           as_user=as_user)
        assert response.status_code == 200, response.body
        info = response.json["pagination"]
        pages.append(info)
        assert {"page", "limit", "nextCursor", "hasNext", "hasPrev", "totalPages"} <= set(info), info
        assert info["hasNext"] is (info["nextCursor"] is not None)
        cursor = info["nextCursor"]
        if cursor is None:
            break
    last = pages[-1]
    assert last["nextCursor"] is None and last["hasNext"] is False
    assert last["totalPages"] is not None and last["totalPages"] >= last["page"]
