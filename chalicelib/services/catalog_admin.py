"""Catalog administration: create, update, retire and restore catalog entries.

Entries are ``CatalogItem`` rows (pk "catalog", sk "<kind>#<id>") whose ``data`` map is
exactly what ``GET /catalog`` shows, so an admin change is visible there on the next read.

Decisions:

* **Deleting retires (soft delete), for every kind.** ``active`` becomes false: the entry
  leaves ``GET /catalog`` (so nobody can newly choose or buy it) but stays readable, listed
  by the admin routes with ``active=false``, and restorable (PATCH ``active: true``).
  Readers keep a retired attribute on their profile (their stored ids and names are
  untouched), purchases and subscriptions keep pointing at a retired package or plan,
  earned badges keep their definition. Refusing with "409: used by N readers" would need
  a readers-by-attribute index (no Scan on a request path) and would still not cover
  packages and plans referenced by purchases; retiring has neither problem. A retired
  attribute cannot be chosen by readers any more, nor named by a new badge; badges that
  already name it are left as they are (retire them separately if wanted).
* **Every change is conditional and audited in one transaction.** Create is a put with
  ``attribute_not_exists`` (a duplicate id, live or retired, is a 409); update and retire
  are conditional on the version read in the same request (``VersionAttribute``). With an
  ``If-Match`` version the caller asked for that version only: any other is a 409. Without
  one, a lost race is retried (re-read, re-apply only the fields this request sent), so two
  concurrent PATCHes of different fields both land and neither silently erases the other;
  the audit record (before/after of the version actually replaced) commits with the change.
* A badge's ``attribute`` must name an active attribute: a ``ConditionCheck`` in the same
  transaction, so retiring the attribute concurrently cannot slip a dangling badge in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.errors import BadRequest, BusinessRuleViolation, Conflict, NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import audit, catalog
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

KINDS = ("attribute", "category", "badge", "time_span", "credit_package", "plan")
_POSITIONED = ("attribute", "category")  # kinds shown in an admin-chosen order
_UPDATE_ATTEMPTS = 3
_MAX_ID = 64


@dataclass(frozen=True)
class Entry:
    kind: str
    id: str
    data: dict[str, Any]
    active: bool
    version: int
    updated_at: str

    def view(self) -> dict[str, Any]:
        """camelCase, as the admin routes show it (and as audit before/after records it)."""
        return {"id": self.id, **self.data, "active": self.active, "version": self.version,
                "updatedAt": self.updated_at}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:_MAX_ID].strip("-")


def default_id(kind: str, data: dict[str, Any]) -> str:
    """A new entry's id when the admin gives none: ``<minutes>-min`` for time spans (as the
    seeded ones), else a slug of the name."""
    item_id = f"{data['duration']}-min" if kind == "time_span" else slug(str(data.get("name", "")))
    if not item_id:
        raise BadRequest("The name has no letters or digits to make an id from; send an id.",
                         code="validation_error", details={"fields": [{"path": "id", "message": "An id is required."}]})
    return item_id


def _entry(item: CatalogItem) -> Entry:
    return Entry(kind=item.kind, id=item.item_id, data=dict(item.data.as_dict()), active=bool(item.active),
                 version=int(item.version or 0), updated_at=item.updated_at)


def _sk(kind: str, item_id: str) -> str:
    return f"{kind}#{item_id}"


def _read(kind: str, item_id: str) -> CatalogItem | None:
    try:
        return CatalogItem.get(CATALOG_PARTITION, _sk(kind, item_id), consistent_read=True)
    except CatalogItem.DoesNotExist:
        return None


def _label(kind: str) -> str:
    return kind.replace("_", " ")


# --------------------------------------------------------------------------- reads


def list_entries(kind: str, *, active: bool | None, limit: int, cursor: str | None, scope: str,
                 ) -> PageResult[Entry]:
    """One page of ``kind``'s entries in id order, retired ones included unless filtered."""
    condition = None if active is None else CatalogItem.active == active

    def run(limit: int, start: dict[str, Any] | None) -> Any:
        return CatalogItem.query(CATALOG_PARTITION, CatalogItem.sk.startswith(f"{kind}#"),
                                 filter_condition=condition, limit=limit, last_evaluated_key=start)

    result = query_page(run, limit=limit, cursor=cursor, scope=scope)
    return replace(result, items=[_entry(item) for item in result.items])  # page number, total, read time kept


def get_entry(kind: str, item_id: str) -> Entry:
    item = _read(kind, item_id)
    if item is None:
        raise NotFound(_label(kind))
    return _entry(item)


# --------------------------------------------------------------------------- writes


def _references(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, id) of the active entries ``data`` must point at."""
    if kind == "badge" and "attribute" in data:
        return [("attribute", str(data["attribute"]))]
    if kind == "category":
        # A status category's specialties and topic (the matching and the booking use them).
        found = [("attribute", str(i)) for i in [*(data.get("abilityIds") or []), *(data.get("toolIds") or [])]]
        return sorted(set(found)) + ([("topic", str(data["topicId"]))] if data.get("topicId") else [])
    return []


def _reference_label(ref_kind: str, ref_id: str) -> str:
    return f"reference:{ref_kind}:{ref_id}"


def _check_references(tx: Transaction, references: list[tuple[str, str]]) -> None:
    for ref_kind, ref_id in references:
        tx.condition_check(CatalogItem, CATALOG_PARTITION, _sk(ref_kind, ref_id),
                           condition=CatalogItem.active == True,  # noqa: E712
                           label=_reference_label(ref_kind, ref_id))


def _broken_reference(failed: ConditionsFailed) -> None:
    """Raise the 422 for a reference that was missing or retired at the commit."""
    for label in sorted(failed.labels):
        if label.startswith("reference:"):
            _, ref_kind, ref_id = label.split(":", 2)
            raise BusinessRuleViolation(f"The {_label(ref_kind)} {ref_id!r} does not exist or is retired.",
                                        code=f"unknown_{ref_kind}", details={ref_kind: ref_id})


def _next_position(kind: str, data: dict[str, Any]) -> int:
    """After the last entry of its list (attributes: of the same attribute kind)."""
    positions = [int(item.data.as_dict().get("position", 0) or 0)
                 for item in CatalogItem.query(CATALOG_PARTITION, CatalogItem.sk.startswith(f"{kind}#"))
                 if kind != "attribute" or item.data.as_dict().get("kind") == data.get("kind")]
    return max(positions, default=-1) + 1


def create_entry(kind: str, item_id: str | None, data: dict[str, Any], *, actor_id: str,
                 request_id: str | None = None, now: datetime | None = None) -> Entry:
    """Add a live entry; 409 if the id is taken (live or retired), 422 on a broken reference."""
    item_id = item_id or default_id(kind, data)
    data = dict(data)
    if kind in _POSITIONED and data.get("position") is None:
        data["position"] = _next_position(kind, data)
    at = iso(now or utcnow())
    item = CatalogItem(sk=_sk(kind, item_id), kind=kind, item_id=item_id, data=data, active=True, updated_at=at)
    references = _references(kind, data)
    created = Entry(kind=kind, id=item_id, data=data, active=True, version=1, updated_at=at)

    def create(tx: Transaction) -> None:
        _check_references(tx, references)
        tx.save(item, condition=CatalogItem.sk.does_not_exist(), label="entry")
        audit.record(tx, actor_id=actor_id, action=f"catalog.{kind}.created", entity_type=kind,
                     entity_id=item_id, before=None, after=created.view(), request_id=request_id)

    try:
        atomically(create)
    except ConditionsFailed as failed:
        if "entry" in failed:
            raise Conflict(f"{'An' if kind[0] in 'aeiou' else 'A'} {_label(kind)} with the id {item_id!r} already "
                           "exists (retired ones included).",
                           code="duplicate_id", details={"id": item_id}) from failed
        _broken_reference(failed)
        raise
    catalog.forget_cached()
    return created


def update_entry(kind: str, item_id: str, changes: dict[str, Any], *, active: bool | None = None,
                 expected_version: int | None = None, actor_id: str, request_id: str | None = None,
                 now: datetime | None = None) -> Entry:
    """Apply ``changes`` (top-level data fields) and/or ``active`` to the stored version.

    ``expected_version`` (If-Match): only that version may be changed, else 409. Without it,
    a concurrent change makes this re-read and re-apply its own fields (``atomically``)."""

    def update(tx: Transaction) -> Entry:
        item = _read(kind, item_id)
        if item is None:
            raise NotFound(_label(kind))
        current = _entry(item)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(f"This {_label(kind)} is at version {current.version}, not {expected_version}.",
                           code="version_mismatch", details={"currentVersion": current.version})
        data = {**current.data, **changes}
        new_active = current.active if active is None else active
        if data == current.data and new_active == current.active:
            return current  # nothing to change: no write, no audit record
        at = iso(now or utcnow())
        updated = Entry(kind=kind, id=item_id, data=data, active=new_active, version=current.version + 1,
                        updated_at=at)
        if new_active != current.active and data == current.data:
            action = "restored" if new_active else "retired"
        else:
            action = "updated"
        # Re-pointing or restoring a badge must not create a dangling reference.
        re_pointed = bool({"attribute", "abilityIds", "toolIds", "topicId"} & set(changes)) or not current.active
        _check_references(tx, _references(kind, data) if new_active and re_pointed else [])
        tx.update(item, actions=[CatalogItem.data.set(data), CatalogItem.active.set(new_active),
                                 CatalogItem.updated_at.set(at)],
                  condition=CatalogItem.sk.exists(), label="entry")  # plus version == current.version (PynamoDB)
        audit.record(tx, actor_id=actor_id, action=f"catalog.{kind}.{action}", entity_type=kind,
                     entity_id=item_id, before=current.view(), after=updated.view(), request_id=request_id)
        return updated

    # Without If-Match, a lost race re-reads and re-applies only this request's fields.
    def lost_race(failed: ConditionsFailed) -> bool:
        return expected_version is None and "entry" in failed and not failed.any_startswith("reference:")

    try:
        updated = atomically(update, retry_on=lost_race, attempts=_UPDATE_ATTEMPTS)
    except ConditionsFailed as failed:
        _broken_reference(failed)
        if expected_version is not None:
            raise Conflict(f"This {_label(kind)} changed since version {expected_version}.",
                           code="version_mismatch") from failed
        raise Conflict(f"This {_label(kind)} kept changing; try again.", code="concurrent_change") from failed
    catalog.forget_cached()  # this container's cached time spans (catalog.time_spans)
    return updated


def retire_entry(kind: str, item_id: str, *, expected_version: int | None = None, actor_id: str,
                 request_id: str | None = None, now: datetime | None = None) -> Entry:
    """Soft delete (see the module docstring); retiring a retired entry changes nothing."""
    return update_entry(kind, item_id, {}, active=False, expected_version=expected_version, actor_id=actor_id,
                        request_id=request_id, now=now)
