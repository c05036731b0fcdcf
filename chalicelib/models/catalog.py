from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

CATALOG_PARTITION = "catalog"


class CatalogItem(Model):
    """One catalog entry (topic, attribute, time span, package, plan, badge, category).

    All entries share one partition so ``GET /catalog`` is a single Query; the sort key
    is ``<kind>#<id>``. The catalog is small (hundreds of items) by nature.
    """

    class Meta:
        table_name = table_name("catalog")
        region = region()

    pk = UnicodeAttribute(hash_key=True, default=CATALOG_PARTITION)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    item_id = UnicodeAttribute(attr_name="itemId")
    data: MapAttribute[str, Any] = MapAttribute()
    active = BooleanAttribute(default=True)
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = VersionAttribute()
