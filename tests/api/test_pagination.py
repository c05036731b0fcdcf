"""Cursors are opaque and bound to their list; page sizes are clamped."""

from __future__ import annotations

import pytest

from chalicelib.errors import BadRequest


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
    seen, cursor, sizes = [], None, []
    while True:
        page = _page(limit=20, cursor=cursor)
        sizes.append(len(page.items))
        seen.extend(item.item_id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [20, 20, 5]
    assert len(seen) == len(set(seen)) == 45


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
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    key["sk"]["S"] = "category#c040"  # skip ahead by editing the key
    forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    with pytest.raises(BadRequest):
        _page(cursor=f"{forged}.{signature}")


def test_a_cursor_from_another_users_list_is_a_400(entries):
    cursor = _page(limit=20, scope="GET /things:user_a").next_cursor
    with pytest.raises(BadRequest):
        _page(cursor=cursor, scope="GET /things:user_b")
    assert len(_page(cursor=cursor, scope="GET /things:user_a").items) == 20
