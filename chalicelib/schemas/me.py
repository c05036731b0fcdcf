from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, field_validator, model_validator

from chalicelib.schemas.common import ApiModel, InputModel

Role = Literal["client", "reader", "admin"]

# BCP 47 language tag: primary subtag, optional script and region (e.g. en, en-US, zh-Hant-TW).
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


def _valid_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("Must be an IANA time zone name such as 'Europe/Paris'.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("Must be an IANA time zone name such as 'Europe/Paris'.") from exc
    return value


_TZ_CACHE: set[str] = set()


def _timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
        _TZ_CACHE.add("UTC")
    return _TZ_CACHE


class NotificationChannels(InputModel):
    """Which notifications the user receives, by channel."""
    email: bool = True
    push: bool = True
    in_app: bool = True
    reading_reminders: bool = True
    marketing_emails: bool = False


class Accessibility(InputModel):
    """The user's accessibility settings."""
    high_contrast: bool = False
    font_size: Literal["small", "medium", "large"] = "medium"
    screen_reader: bool = False
    reduced_motion: bool = False


class Privacy(InputModel):
    """The user's privacy settings."""
    profile_visibility: Literal["public", "readers_only", "private"] = "public"
    show_online_status: bool = True
    allow_direct_messages: bool = True


_READ_ONLY = frozenset({"id", "userId", "createdAt", "updatedAt"})


class Preferences(InputModel):
    """UserPreferences of the product requirements. ``PUT`` replaces the whole document;
    omitted fields take these defaults."""

    version: int | None = Field(default=None, ge=0, description="the version last read (GET answers it): when "
                                                                "given and no longer the stored one, 409 "
                                                                "version_conflict and nothing is changed")
    theme: Literal["light", "dark", "auto"] = "auto"
    notifications: NotificationChannels = Field(default_factory=NotificationChannels)
    language: str = Field(default="en", max_length=35, description="BCP 47 tag, e.g. en or pt-BR")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone name, e.g. Europe/Paris")
    accessibility: Accessibility = Field(default_factory=Accessibility)
    privacy: Privacy = Field(default_factory=Privacy)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("Must be a BCP 47 language tag such as 'en' or 'pt-BR'.")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _valid_timezone(value)

    @model_validator(mode="before")
    @classmethod
    def _read_only_fields(cls, data: Any) -> Any:
        """What ``GET`` answered can be ``PUT`` back as it is: its read-only fields are ignored."""
        if cls is Preferences and isinstance(data, dict):  # the request only, not PreferencesOut
            return {key: value for key, value in data.items() if key not in _READ_ONLY}
        return data


class PreferencesOut(Preferences):
    """The user's preferences: theme, notifications, language, timezone, accessibility and privacy."""
    version: int = Field(description="raised by one on every save (1 once first saved; 0 while only defaults)")
    updated_at: str | None = None
    # The UserPreferences interface's own fields: the preferences are one per user.
    id: str | None = Field(default=None, description="the user's id (one preferences document per user)")
    user_id: str | None = None
    created_at: str | None = Field(default=None, description="when the user was created: the preferences exist, "
                                                             "with their defaults, from then")


class Credits(ApiModel):
    """The user's credit balances."""
    available: int = Field(description="credits the user can spend now")
    held: int = Field(description="credits held for requested readings")
    earnings: int = Field(default=0, description="a reader's credits earned (net of the platform fee) and still "
                                                 "inside their readings' dispute window: not available for payout yet")
    payable: int = Field(default=0, description="a reader's earned credits whose dispute window closed: available "
                                                "for payout to their bank")
    owed: int = Field(default=0, description="credits owed after a refund or chargeback of spent credits")


class MeFlags(ApiModel):
    """What the user may do: age verification, suspension, payment restriction and roles."""
    age_verified: bool
    suspended: bool
    payment_restricted: bool = Field(default=False, description="true while credits are owed: no new readings "
                                                                "until the next purchase settles it")
    is_reader: bool
    is_admin: bool


AccountStatus = Literal["active", "suspended", "deleted"]


class AccountSuspension(ApiModel):
    """Why an account is suspended, since when and until when (no ``until``: until an admin reinstates it)."""
    reason: str = Field(description="the admin's reason, shown to the user")
    since: str | None = Field(default=None, description="when the suspension began (UTC, ISO 8601)")
    until: str | None = Field(default=None, description="when it ends by itself (UTC, ISO 8601); absent: until an "
                                                        "admin reinstates the account")


class MeOut(ApiModel):
    """The signed-in user: profile, role, credits, flags and preferences."""
    id: str
    email: str | None = None
    display_name: str | None = None
    image_url: str | None = None
    role: Role
    status: AccountStatus = Field(description="active, suspended (every route but GET /me answers 403 "
                                              "account_suspended) or deleted; a suspension past its end is active")
    suspension: AccountSuspension | None = Field(default=None, description="present while suspended")
    credits: int = Field(description="credits the user can spend now (same as balance.available)")
    balance: Credits = Field(description="the balances in detail: available, held, earnings, payable and owed")
    flags: MeFlags
    created_at: str
    last_login_at: str | None = None
    # The product's User interface names, beside the fields above.
    created_date: str | None = Field(default=None, description="same as createdAt")
    last_login: str | None = Field(default=None, description="same as lastLoginAt")
    subscription_id: str | None = Field(default=None, description="the current subscription's id "
                                                                  "(GET /subscriptions/me), if any")
    preferences: PreferencesOut | None = Field(default=None, description="as GET /me/preferences returns them")


class MePatch(InputModel):
    """The fields a user may change about themselves. Role, email, credits and status
    are not writable here (unknown fields are a 400)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)

    @field_validator("display_name")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("Must not contain control characters.")
        return value
