"""Admin user management: ``GET /admin/users`` and ``PATCH /admin/users/{userId}``."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from chalicelib.domain.accounts import SEARCH_PREFIX_LENGTH
from chalicelib.schemas.common import ApiModel, InputModel, PageInfo, PageMeta, PageQuery
from chalicelib.schemas.me import AccountStatus, AccountSuspension, Role
from chalicelib.schemas.readers import Text


class AdminUsersQuery(PageQuery):
    """Search and filters of ``GET /admin/users``; all optional and combinable."""

    q: str | None = Field(
        default=None,
        max_length=200,
        description=(
            f"the beginning of the email or display name (at least {SEARCH_PREFIX_LENGTH} characters; neither case "
            "nor repeated spaces matter); empty or only spaces: no search, as if q were absent"
        ),
    )
    by: Literal["email", "name"] | None = Field(
        default=None, description=("which field q begins: default email when q holds an @, else name")
    )
    role: Role | None = None
    status: AccountStatus | None = None


class AdminUserOut(ApiModel):
    """A user as admins manage them: identity, role, status (with the suspension), credits and activity."""

    id: str
    email: str | None = None
    display_name: str | None = None
    image_url: str | None = None
    role: Role
    status: AccountStatus = Field(description="as every check sees it now: a suspension past its end is active")
    suspension: AccountSuspension | None = Field(default=None, description="present while suspended")
    suspended_by: str | None = Field(default=None, description="the admin who suspended the account")
    credits: int = Field(description="credits the user can spend now")
    created_at: str
    updated_at: str | None = None
    last_login_at: str | None = None


class AdminUserPage(ApiModel):
    """A page of users for admins."""

    data: list[AdminUserOut]
    pagination: PageInfo
    meta: PageMeta


class SuspendIn(InputModel):
    """Suspend the account: the user is locked out (but GET /me) from their next request."""

    reason: Text = Field(min_length=1, max_length=500, description="why; shown to the user on GET /me")
    until: AwareDatetime | None = Field(
        default=None,
        strict=False,
        description=(
            "when the suspension ends by itself (future, with a time zone); leave it out to suspend until reinstated"
        ),
    )


class ReinstateIn(InputModel):
    """Lift the suspension."""

    note: Text | None = Field(default=None, max_length=500, description="why, for the audit log")


class AdminUserPatch(InputModel):
    """What an admin changes about a user: the role (client or admin), and/or a suspension or a
    reinstatement. An admin cannot change their own account."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "examples": [
                {"suspend": {"reason": "Repeated abusive messages to readers.", "until": "2030-01-15T00:00:00Z"}},
                {"role": "admin"},
                {"reinstate": {"note": "Appeal accepted."}},
            ]
        },
    )

    role: Role | None = Field(
        default=None,
        description=(
            "client or admin; reader is given only by approving a reader application, and a reader's role is fixed"
        ),
    )
    suspend: SuspendIn | None = None
    reinstate: ReinstateIn | None = None

    @model_validator(mode="after")
    def _one_change(self) -> AdminUserPatch:
        if self.role is None and self.suspend is None and self.reinstate is None:
            raise ValueError("Send a role, suspend or reinstate.")
        if self.suspend is not None and self.reinstate is not None:
            raise ValueError("Send either suspend or reinstate, not both.")
        return self
