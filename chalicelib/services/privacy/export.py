"""Data exports: ``POST /me/data-export`` asks, a job builds, ``GET /me/data-export/{id}`` hands
out a fresh, short-lived download link.

* **One at a time.** Asking writes the request, the user's export lock (a conditional put:
  absent, or naming an export that is finished or stale), its audit record and
  ``data_export.requested`` in one transaction. While an export is in progress, asking again
  answers that one (nothing new is written), so a double click never builds twice.
* **The job** (a consumer of ``data_export.requested`` on the domain-events queue) collects
  the document (``archive.collect``: Queries and GetItems on the user's keys), writes it to
  ``exports/<userId>/<exportId>.json`` in the media bucket (private, SSE-S3), then marks the
  request ready (until ``EXPORT_AVAILABLE`` from now), audits it and emits
  ``data_export.ready`` in one transaction: the notification (in-app and email) links to the
  export's page, never to the file. It releases the lock last. Idempotent: a redelivered
  message finds the request ready and does nothing; a crash before marking rewrites the
  same object.
* **Downloading.** ``GET`` signs a presigned GET of the object valid for ``EXPORT_LINK`` (never
  past the export's availability), so a link in a browser's history soon stops working and
  the file is reachable only through a signed-in request. Past its availability the export
  is ``expired`` (the bucket's lifecycle rule deletes the object); a request the job did not
  finish within ``EXPORT_STALE`` is ``failed`` and the user may ask again.
* Someone else's export id is a 404: the record is read under the caller's own partition.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError

from chalicelib.config import get_settings
from chalicelib.domain.privacy import (
    EXPORT_AVAILABLE,
    EXPORT_RECORD_KEPT,
    PENDING,
    READY,
    export_state,
    link_lifetime,
)
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.integrations import s3
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.privacy import DataExport, ExportLock
from chalicelib.models.users import User
from chalicelib.services import audit, events, outbox
from chalicelib.services.privacy import archive
from chalicelib.services.tx import ConditionsFailed, Contention, Transaction, atomically

REQUESTED = "data_export.requested"
READY_EVENT = "data_export.ready"
SYSTEM_ACTOR = "system"
ATTEMPTS = 4


@dataclass(frozen=True)
class ExportView:
    """An export as its owner sees it; ``download_url`` only while it is ready."""

    id: str
    status: str
    requested_at: str
    ready_at: str | None = None
    expires_at: str | None = None
    size_bytes: int | None = None
    download_url: str | None = None
    download_url_expires_at: str | None = None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def object_key(user_id: str, export_id: str) -> str:
    return f"exports/{user_id}/{export_id}.json"


def _find(user_id: str, export_id: str) -> DataExport | None:
    try:
        return DataExport.get(user_id, DataExport.key_of(export_id), consistent_read=True)
    except DataExport.DoesNotExist:
        return None


def _lock(user_id: str) -> ExportLock | None:
    try:
        return ExportLock.get(user_id, ExportLock.sk.default, consistent_read=True)
    except ExportLock.DoesNotExist:
        return None


def _state(record: DataExport, now: datetime) -> str:
    requested = _parse(record.requested_at)
    assert requested is not None
    return export_state(record.state, requested_at=requested, available_until=_parse(record.available_until), now=now)


def view(record: DataExport, *, now: datetime, with_link: bool = False) -> ExportView:
    state = _state(record, now)
    url = link_expires = None
    until = _parse(record.available_until)
    if with_link and state == READY and record.object_key and until is not None:
        lifetime = link_lifetime(until, now)
        url = s3.presigned_get(
            get_settings().media_bucket_name,
            record.object_key,
            expires_in=int(lifetime.total_seconds()),
            filename=f"auralumic-data-{(record.ready_at or record.requested_at)[:10]}.json",
        )
        link_expires = iso(now + lifetime)
    return ExportView(
        id=record.export_id,
        status=state,
        requested_at=record.requested_at,
        ready_at=record.ready_at,
        expires_at=record.available_until,
        size_bytes=int(record.size_bytes) if record.size_bytes is not None else None,
        download_url=url,
        download_url_expires_at=link_expires,
    )


def request_export(user_id: str, *, request_id: str | None = None, now: datetime | None = None) -> ExportView:
    """Ask for an export; while one is in progress, that one (nothing new is written)."""
    moment = now or utcnow()
    for _ in range(ATTEMPTS):
        lock = _lock(user_id)
        if lock is not None:
            current = _find(user_id, lock.export_id)
            if current is not None and _state(current, moment) == PENDING:
                return view(current, now=moment)
        export_id = new_id()
        record = DataExport(
            user_id=user_id,
            sk=DataExport.key_of(export_id),
            export_id=export_id,
            state=PENDING,
            requested_at=iso(moment),
            expires_at=_epoch(moment + EXPORT_AVAILABLE + EXPORT_RECORD_KEPT),
        )
        taken = ExportLock.sk.does_not_exist() if lock is None else ExportLock.export_id == lock.export_id

        def work(tx: Transaction, record: DataExport = record, taken: Any = taken, export_id: str = export_id) -> None:
            tx.save(ExportLock(user_id=user_id, export_id=export_id, since=iso(moment)), condition=taken, label="lock")
            tx.save(record, condition=DataExport.sk.does_not_exist(), label="export")
            audit.record(
                tx,
                actor_id=user_id,
                action="user.data_export_request",
                entity_type="user",
                entity_id=user_id,
                after={"exportId": export_id},
                request_id=request_id,
            )
            outbox.emit(tx, REQUESTED, userId=user_id, exportId=export_id)

        try:
            atomically(work)
        except ConditionsFailed as failed:
            if "lock" in failed:
                continue  # a concurrent request took the lock: answer with its export
            raise
        return view(record, now=moment)
    raise Contention("Your data export is being requested elsewhere right now; try again in a moment.")


def get_export(user_id: str, export_id: str, *, now: datetime | None = None) -> ExportView:
    record = _find(user_id, export_id)
    if record is None:
        raise NotFound("data export", code="export_not_found")
    return view(record, now=now or utcnow(), with_link=True)


def build(user_id: str, export_id: str, *, now: datetime | None = None) -> bool:
    """The job: collect, store, mark ready and notify; False when there is nothing to do (the
    export is ready already, unknown, or its owner was deleted meanwhile)."""
    record = _find(user_id, export_id)
    if record is None or record.state != PENDING:
        return False
    moment = now or utcnow()
    try:
        owner = User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        owner = None
    if owner is None or owner.status == "deleted":
        _release(user_id, export_id)
        return False
    document = archive.collect(user_id, now=moment)
    data = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False, default=str).encode()
    key = object_key(user_id, export_id)
    s3.put(get_settings().media_bucket_name, key, data, content_type="application/json; charset=utf-8", encrypted=True)
    until = iso(moment + EXPORT_AVAILABLE)

    def work(tx: Transaction) -> None:
        tx.update(
            record,
            actions=[
                DataExport.state.set(READY),
                DataExport.ready_at.set(iso(moment)),
                DataExport.available_until.set(until),
                DataExport.object_key.set(key),
                DataExport.size_bytes.set(len(data)),
            ],
            condition=DataExport.state == PENDING,
            label="export",
        )
        audit.record(
            tx,
            actor_id=SYSTEM_ACTOR,
            action="user.data_export_ready",
            entity_type="user",
            entity_id=user_id,
            after={"exportId": export_id, "sizeBytes": len(data), "availableUntil": until},
        )
        outbox.emit(tx, READY_EVENT, userId=user_id, exportId=export_id, availableUntil=until)

    try:
        atomically(work)
    except ConditionsFailed:
        return False  # a concurrent delivery of the same message finished it
    _release(user_id, export_id)
    logger.info("data export ready", extra={"userId": user_id, "exportId": export_id, "bytes": len(data)})
    return True


def _release(user_id: str, export_id: str) -> None:
    """Remove the lock if it still names this export (a newer request may have replaced a stale one)."""
    with contextlib.suppress(DeleteError):
        ExportLock(user_id=user_id).delete(condition=ExportLock.export_id == export_id)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@events.consumer(REQUESTED)
def _on_requested(message: dict[str, Any]) -> None:
    data = message.get("data") or {}
    build(str(data["userId"]), str(data["exportId"]))


def forget(user_id: str) -> int:
    """Every export of ``user_id`` (records, lock and files): part of an account's erasure."""
    removed = s3.delete_prefix(get_settings().media_bucket_name, f"exports/{user_id}/")
    for record in DataExport.query(user_id, DataExport.sk.startswith("export#")):
        record.delete()
    with contextlib.suppress(DeleteError):
        ExportLock(user_id=user_id).delete()
    return removed
