"""``POST /me/data-export``, ``GET /me/data-export/{exportId}`` and ``DELETE /me``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.domain.privacy import EXPORT_AVAILABLE_DAYS, EXPORT_LINK
from chalicelib.schemas.common import ApiModel

ExportStatus = Literal["pending", "ready", "expired", "failed"]

_EXPORT_EXAMPLE: dict[str, Any] = {
    "id": "01JDS0K4W8Y2A6C0E4G8J2M6Q0",
    "status": "ready",
    "requestedAt": "2026-12-01T09:30:00.000Z",
    "readyAt": "2026-12-01T09:30:04.812Z",
    "expiresAt": "2026-12-08T09:30:04.812Z",
    "sizeBytes": 48213,
    "downloadUrl": "https://auralumic-prod-media.s3.amazonaws.com/exports/user_demo_client1/"
    "01JDS0K4W8Y2A6C0E4G8J2M6Q0.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600",
    "downloadUrlExpiresAt": "2026-12-01T10:31:00.000Z",
}


class DataExportOut(ApiModel):
    """A copy of everything Auralumic stores about the caller, built by a job: ``pending`` until
    it is built (the caller is notified, in the app and by email), then ``ready`` with a download
    link, ``expired`` once its availability is over (the file is deleted), or ``failed`` if it
    could not be built (ask for a new one)."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [_EXPORT_EXAMPLE]})

    id: str
    status: ExportStatus
    requested_at: str = Field(json_schema_extra={"format": "date-time"}, description="when it was asked for (UTC)")
    ready_at: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"}, description="when it was built"
    )
    expires_at: str | None = Field(
        default=None,
        json_schema_extra={"format": "date-time"},
        description=f"until when it can be downloaded ({EXPORT_AVAILABLE_DAYS} days "
        "after it was built); then it is deleted",
    )
    size_bytes: int | None = Field(default=None, ge=0, description="the file's size in bytes (JSON, UTF-8)")
    download_url: str | None = Field(
        default=None,
        description=(
            "only while ready: a link to the JSON file, signed for this request and valid for "
            f"{int(EXPORT_LINK.total_seconds() // 60)} minutes at most (ask again for a new one)"
        ),
    )
    download_url_expires_at: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"}, description="when downloadUrl stops working"
    )


class AccountDeletionOut(ApiModel):
    """The account is deleted: from the next request its tokens are refused (401
    ``account_deleted``). Readings in flight are cancelled and refunded within seconds; the
    personal data is erased or anonymised at ``purgeAfter`` (the ledger keeps its amounts)."""

    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "id": "user_demo_client1",
                    "status": "deleted",
                    "deletedAt": "2026-12-01T09:30:00.000Z",
                    "purgeAfter": "2026-12-31T09:30:00.000Z",
                }
            ]
        },
    )

    id: str
    status: Literal["deleted"]
    deleted_at: str = Field(json_schema_extra={"format": "date-time"}, description="when the account was deleted")
    purge_after: str = Field(
        json_schema_extra={"format": "date-time"},
        description="when its personal data is erased (the retention period's end)",
    )
