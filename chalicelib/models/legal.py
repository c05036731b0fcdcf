"""Legal documents (the product's ``LegalDocument``): every version, and which one is in force.

Both live in the catalog table, in their own partition (``pk = "legal"``), so the
catalog's Query of its partition never sees them and no table is added for a few dozen
items:

* ``LegalDocumentItem`` (sk ``doc#<type>#<version>``): one version. A draft can be edited
  (``revision`` guards concurrent edits); once published it never changes again, except
  ``isActive`` turning false when a later version replaces it.
* ``LegalActiveItem`` (sk ``active#<type>``): the version in force, the count of versions
  published so far (``sequence``), and the last version that asked users to accept it
  again (``acceptanceVersion``/``acceptanceSequence``). Publishing rewrites it on the
  sequence it read, so two publications of one type cannot both win. The booking check
  reads the two accepted types' items in one BatchGetItem.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

LEGAL_PARTITION = "legal"


def document_sk(document_type: str, version: str) -> str:
    return f"doc#{document_type}#{version}"


def active_sk(document_type: str) -> str:
    return f"active#{document_type}"


class LegalDocumentItem(Model):
    class Meta:
        table_name = table_name("catalog")
        region = region()

    pk = UnicodeAttribute(hash_key=True, default=LEGAL_PARTITION)
    sk = UnicodeAttribute(range_key=True)
    document_type = UnicodeAttribute(attr_name="type")
    version = UnicodeAttribute()  # the admin's label: "2026-12-01", "3"
    title = UnicodeAttribute()
    content = UnicodeAttribute()  # markdown
    effective_date = UnicodeAttribute(null=True, attr_name="effectiveDate")  # YYYY-MM-DD
    status = UnicodeAttribute(default="draft")  # draft | published
    is_active = BooleanAttribute(default=False, attr_name="isActive")
    requires_reacceptance = BooleanAttribute(default=False, attr_name="requiresReacceptance")
    change_summary = UnicodeAttribute(null=True, attr_name="changeSummary")
    sequence = NumberAttribute(null=True)  # 1, 2, 3... in publication order, per type
    previous_version_id = UnicodeAttribute(null=True, attr_name="previousVersionId")
    created_at = UnicodeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    published_at = UnicodeAttribute(null=True, attr_name="publishedAt")
    published_by = UnicodeAttribute(null=True, attr_name="publishedBy")
    revision = VersionAttribute()  # raised by every write: If-Match on the admin routes


class LegalActiveItem(Model):
    class Meta:
        table_name = table_name("catalog")
        region = region()

    pk = UnicodeAttribute(hash_key=True, default=LEGAL_PARTITION)
    sk = UnicodeAttribute(range_key=True)
    document_type = UnicodeAttribute(attr_name="type")
    version = UnicodeAttribute()
    title = UnicodeAttribute()
    effective_date = UnicodeAttribute(attr_name="effectiveDate")
    sequence = NumberAttribute()
    acceptance_version = UnicodeAttribute(null=True, attr_name="acceptanceVersion")
    acceptance_sequence = NumberAttribute(null=True, attr_name="acceptanceSequence")
    published_at = UnicodeAttribute(attr_name="publishedAt")
