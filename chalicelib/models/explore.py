from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

EXPLORE_PARTITION = "explore"
STATE_KEY = "state"


class ExploreState(Model):
    """The explore snapshot's freshness marker: one item in the catalog table, in its own
    partition (``pk = "explore"``), so the catalog's Query of its partition never sees it.

    ``staleSince`` is set by the first change since the last build and ``changes`` counts
    every change; a build claims the marker (``buildingUntil``) and clears ``staleSince``
    only if ``changes`` did not move while it built."""

    class Meta:
        table_name = table_name("catalog")
        region = region()

    pk = UnicodeAttribute(hash_key=True, default=EXPLORE_PARTITION)
    sk = UnicodeAttribute(range_key=True, default=STATE_KEY)
    stale_since = UnicodeAttribute(null=True, attr_name="staleSince")
    stale_reason = UnicodeAttribute(null=True, attr_name="staleReason")
    changes = NumberAttribute(null=True)
    building_until = UnicodeAttribute(null=True, attr_name="buildingUntil")
    last_built_at = UnicodeAttribute(null=True, attr_name="lastBuiltAt")
    last_count = NumberAttribute(null=True, attr_name="lastCount")
