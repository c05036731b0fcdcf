"""Clerk webhook payloads: the parts of Clerk's wire format we read.

Clerk adds fields over time, so these models ignore unknown ones; what we read is typed
and a payload without it is a 400 (``invalid_payload``), which Svix shows and retries.
The service (services/clerk_sync.py) parses with these after the signature check.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DISPLAY_NAME_MAX = 80  # as PATCH /me allows


class _ClerkModel(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use, not at cold start


class ClerkEvent(_ClerkModel):
    type: str = Field(min_length=1, max_length=100)
    data: dict[str, Any]
    timestamp: int | None = None


class ClerkEmailAddress(_ClerkModel):
    id: str
    email_address: str = Field(max_length=320)


class ClerkUser(_ClerkModel):
    """``data`` of user.created / user.updated."""

    id: str = Field(min_length=1, max_length=128)
    email_addresses: list[ClerkEmailAddress] = Field(default_factory=list)
    primary_email_address_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    image_url: str | None = None
    created_at: int | None = Field(default=None, gt=0)
    updated_at: int = Field(gt=0, description="ms since the epoch; orders deliveries")

    def primary_email(self) -> str | None:
        for address in self.email_addresses:
            if address.id == self.primary_email_address_id:
                return address.email_address
        return None

    def display_name(self) -> str | None:
        """First and last name, else the username; None when Clerk has neither (ours is kept)."""
        name = " ".join(part.strip() for part in (self.first_name, self.last_name) if part and part.strip())
        name = name or (self.username or "").strip()
        name = "".join(ch for ch in name if ch.isprintable())
        return name[:DISPLAY_NAME_MAX] or None

    def https_image_url(self) -> str | None:
        url = (self.image_url or "").strip()
        return url if url.startswith("https://") and len(url) <= 2048 else None


class ClerkDeletedUser(_ClerkModel):
    """``data`` of user.deleted: ``{"id": ..., "deleted": true, "object": "user"}`` (no timestamp)."""

    id: str = Field(min_length=1, max_length=128)


WebhookOutcome = Literal["applied", "stale", "replay", "ignored"]
