"""``/me/notification-preferences``: NotificationPreference of the product, one per type."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.domain.notifications import NotificationType
from chalicelib.schemas.common import ApiModel, InputModel
from chalicelib.schemas.me import _valid_timezone

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Frequency = Literal["immediate", "hourly", "daily", "weekly", "never"]


class PreferenceChannels(InputModel):
    """Which channels a notification type uses. SMS is not offered: accepted, always stored as false."""
    in_app: bool = True
    push: bool = True
    email: bool = False
    sms: bool = Field(default=False, description="not offered: always false")


class QuietHoursIn(InputModel):
    """Hours in which push and email wait (in-app still arrives); may run across midnight."""
    start: str = Field(description="HH:mm, 24-hour, local time", examples=["22:00"])
    end: str = Field(description="HH:mm, 24-hour, local time; before start runs across midnight",
                     examples=["07:00"])
    timezone: str = Field(max_length=64, description="IANA time zone name, e.g. America/New_York")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("Must be a time as HH:mm (24-hour), for example 22:00.")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _valid_timezone(value)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIn:
        if self.start == self.end:
            raise ValueError("Quiet hours must start and end at different times.")
        return self


class NotificationPreferenceIn(InputModel):
    """One notification type's channels, frequency and quiet hours."""
    type: NotificationType
    channels: PreferenceChannels = Field(default_factory=PreferenceChannels)
    frequency: Frequency = Field(default="immediate", description="immediate; hourly, daily or weekly digest; never")
    quiet_hours: QuietHoursIn | None = None


_READ_ONLY = frozenset({"userId"})


class NotificationPreferencesPut(InputModel):
    """Replaces the caller's notification preferences: a type left out takes its default again."""
    preferences: list[NotificationPreferenceIn] = Field(max_length=len(NotificationType))
    version: int | None = Field(default=None, ge=0, description="the version last read: when given and no "
                                                                "longer the stored one, 409 version_conflict")

    @model_validator(mode="before")
    @classmethod
    def _read_only_fields(cls, data: object) -> object:
        """What GET answered can be PUT back as it is: its read-only fields are ignored."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in {"userId", "updatedAt"}}
            if isinstance(data.get("preferences"), list):
                data["preferences"] = [{k: v for k, v in p.items() if k not in _READ_ONLY}
                                       if isinstance(p, dict) else p for p in data["preferences"]]
        return data

    @field_validator("preferences")
    @classmethod
    def _once_each(cls, value: list[NotificationPreferenceIn]) -> list[NotificationPreferenceIn]:
        types = [p.type for p in value]
        repeated = sorted({str(t) for t in types if types.count(t) > 1})
        if repeated:
            raise ValueError(f"Each notification type may appear once; repeated: {', '.join(repeated)}.")
        return value


class ChannelsOut(ApiModel):
    """The channels a notification type uses."""
    in_app: bool
    push: bool
    email: bool
    sms: bool = False


class QuietHoursOut(ApiModel):
    """Hours in which push and email wait, in their timezone."""
    start: str
    end: str
    timezone: str


class NotificationPreferenceOut(ApiModel):
    """NotificationPreference: one type's effective settings (the default until saved)."""
    user_id: str
    type: NotificationType
    channels: ChannelsOut
    frequency: Frequency
    quiet_hours: QuietHoursOut | None = None


class NotificationPreferencesOut(ApiModel):
    """Every notification type with its effective settings."""
    preferences: list[NotificationPreferenceOut]
    version: int = Field(description="raised by one on every save (0 while only defaults)")
    updated_at: str | None = None
