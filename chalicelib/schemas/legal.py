"""Legal documents (the product's ``LegalDocument``): the public view and the admins' CRUD."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.legal import CONTENT_MAX, TITLE_MAX, TYPES, VERSION_PATTERN, canonical_type
from chalicelib.schemas.common import ApiModel, InputModel, Page, PageQuery, QueryModel

LegalType = Literal["terms_of_service", "privacy_policy", "cookie_policy", "community_guidelines"]
_TYPE_HELP = (
    "terms_of_service, privacy_policy, cookie_policy or community_guidelines (the short names terms, "
    "privacy, cookies and guidelines work too)"
)


def _type(value: Any) -> Any:
    if isinstance(value, str) and canonical_type(value) is None:
        raise ValueError(f"Must be one of {', '.join(TYPES)}.")
    return canonical_type(value) if isinstance(value, str) else value


def _version() -> Any:
    return Field(
        pattern=VERSION_PATTERN,
        max_length=40,
        description="the version label, such as 2026-12-01 or 3 (letters, digits, '.', '_', '-')",
    )


class LegalDocumentQuery(QueryModel):
    version: str | None = Field(
        default=None,
        pattern=VERSION_PATTERN,
        max_length=40,
        description="a published version (default: the one in force)",
    )


class LegalDocumentOut(ApiModel):
    """A published legal document: the version in force, or an earlier one asked for by version."""

    id: str = Field(description="<type>-<version>")
    type: LegalType
    version: str
    title: str
    content: str = Field(description="markdown")
    effective_date: str = Field(description="the date the text takes effect (YYYY-MM-DD)")
    is_active: bool = Field(description="true for the version in force; earlier versions stay readable")
    requires_reacceptance: bool = Field(
        description="true when this version asked every user to accept it again (terms and privacy policy only)"
    )
    change_summary: str | None = Field(default=None, description="what changed from the previous version")
    previous_version_id: str | None = None
    published_at: str


class AdminLegalDocument(ApiModel):
    """One version of a legal document, draft or published, as admins manage it."""

    id: str = Field(description="<type>-<version>: the path parameter of the admin routes")
    type: LegalType
    version: str
    title: str
    content: str | None = Field(default=None, description="markdown (left out of the list)")
    effective_date: str | None = Field(
        default=None, description="YYYY-MM-DD; a draft without one takes the day it is published"
    )
    status: Literal["draft", "published"]
    is_active: bool
    requires_reacceptance: bool
    change_summary: str | None = None
    sequence: int | None = Field(default=None, description="1, 2, 3... in publication order within the type")
    previous_version_id: str | None = None
    created_at: str
    created_by: str
    updated_at: str
    published_at: str | None = None
    published_by: str | None = None
    revision: int = Field(description="raised by every write; send it as If-Match to change only this revision")


class AdminLegalDocumentPage(Page[AdminLegalDocument]):
    """A page of legal document versions (drafts included), for admins."""


class AdminLegalListQuery(PageQuery):
    type: str | None = Field(default=None, description=f"only this type: {_TYPE_HELP}")

    @field_validator("type")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return _type(value)


class LegalDocumentCreate(InputModel):
    """A new version: a draft (edit it, then publish it) or, with ``publish``, in force at once."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "type": "terms_of_service",
                    "version": "2026-12-01",
                    "title": "Terms of Service",
                    "content": "# Terms of Service\n\nReadings are for entertainment...",
                    "effectiveDate": "2026-12-01",
                    "changeSummary": "Clearer refund rules.",
                }
            ]
        },
    )

    type: LegalType = Field(description=_TYPE_HELP)
    version: str = _version()
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    content: str = Field(min_length=1, max_length=CONTENT_MAX, description="markdown")
    # strict=False: pydantic rejects an ISO date string for a date field in strict JSON mode.
    effective_date: date | None = Field(
        default=None, strict=False, description="YYYY-MM-DD (default: the day it is published)"
    )
    requires_reacceptance: bool | None = Field(
        default=None,
        description="terms and privacy policy: true (the default) when the change is material and "
        "every user must accept it before booking again; false for a minor fix. Always "
        "false for the other types",
    )
    change_summary: str | None = Field(default=None, max_length=1000)
    publish: bool = Field(default=False, description="true: publish at once (it replaces the version in force)")

    @field_validator("type", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        return _type(value)


class LegalDocumentPatch(InputModel):
    """Change a draft (a published version never changes: publish a new one). Only the fields
    sent change; ``null`` is refused."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "examples": [{"title": "Terms of Service", "changeSummary": "Clearer refund rules."}],
            "minProperties": 1,
        },
    )

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    content: str | None = Field(default=None, min_length=1, max_length=CONTENT_MAX)
    effective_date: date | None = Field(default=None, strict=False)
    requires_reacceptance: bool | None = None
    change_summary: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_and_not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(key for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"Null is not a value for {', '.join(nulls)}; omit a field to keep it.")
            if not data:
                raise ValueError("Send at least one field to change.")
        return data

    def changes(self) -> dict[str, Any]:
        """The fields sent, snake_case (the service's names)."""
        return self.model_dump(exclude_unset=True)
