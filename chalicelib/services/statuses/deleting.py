"""The client deletes a status (``DELETE /statuses/{statusId}``): a soft delete.

The item stays (state ``deleted``, ``deletedAt``) for the account's data export and erasure,
which find it in ``byClient``; every read leaves it out: its ``GET`` is a 404 to everyone
(admins included), ``GET /statuses/mine`` filters it, and an active status is closed in the
same write (``posting.close_in``: its feed key removed, so it leaves the readers' feed and
the expiry job's partitions; its open suggestions closed and their readers told, reason
``deleted_by_client``; the client's active-status place freed). A reading booked from it
stays as it is.

The write is conditional on the version read. With ``If-Match`` (``expected_version``) a
stale version is a 409 ``version_mismatch``; without it, a suggestion or an edit that lands
in between makes the delete re-read and delete again (deleting is what the client asked
for, whatever the status became meanwhile).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.models.base import iso
from chalicelib.models.statuses import Status
from chalicelib.services import versions
from chalicelib.services.statuses.common import now_or, owned
from chalicelib.services.statuses.posting import close_in, closed_in_memory
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

DELETED = "deleted"
REASON = "deleted_by_client"


def delete(
    client_id: str, status_id: str, *, expected_version: int | None = None, now: datetime | None = None
) -> Status:
    """Soft-delete the caller's status; returns it as deleted. A deleted status is 404 here too."""
    moment = now_or(now)
    at = iso(moment)

    def work(tx: Transaction) -> Status:
        status = owned(status_id, client_id)
        version = versions.of(status.version)
        if expected_version is not None and expected_version != version:
            raise versions.mismatch("status", version, expected_version)
        if status.is_active:
            close_in(
                tx,
                status,
                state=DELETED,
                reason=REASON,
                moment=moment,
                version=version,
                also=(Status.deleted_at.set(at),),
            )
        else:
            tx.update(
                status,
                actions=[
                    Status.state.set(DELETED),
                    Status.deleted_at.set(at),
                    Status.updated_at.set(at),
                    versions.bump(Status.version),
                ],
                condition=(Status.state == status.state) & versions.matches(Status.version, version),
                label="status",
            )
        return status

    try:
        status = atomically(work, retry_on=lambda failed: "status" in failed and expected_version is None)
    except ConditionsFailed as failed:
        if "status" not in failed:
            raise
        current = owned(status_id, client_id)  # deleted meanwhile: 404
        raise versions.mismatch("status", versions.of(current.version), expected_version) from failed
    if status.is_active:
        closed_in_memory(status, state=DELETED, moment=moment)
    else:
        status.state, status.updated_at, status.version = DELETED, at, versions.of(status.version) + 1
    status.deleted_at = at
    return status
