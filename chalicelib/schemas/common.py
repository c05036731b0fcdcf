"""Shared pydantic building blocks: camelCase on the wire, strict inputs, the error envelope."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from pydantic.alias_generators import to_camel

from chalicelib.pagination import DEFAULT_LIMIT, MAX_LIMIT


class ApiModel(BaseModel):
    """A response shape: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class SendsNulls(ApiModel):
    """A response whose ``SENT_AS_NULL`` fields are always sent, null when there is no data
    (responses otherwise drop null fields): a frontend shows "no rating yet", not 0."""

    SENT_AS_NULL: ClassVar[tuple[str, ...]] = ()

    # No return annotation on purpose (as PageInfo): it would replace the fields' schema.
    @model_serializer(mode="wrap")
    def _nulls_sent(  # type: ignore[no-untyped-def]
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ):
        out: dict[str, Any] = handler(self)
        for name in self.SENT_AS_NULL:
            out.setdefault(to_camel(name) if info.by_alias else name, None)
        return out


class InputModel(ApiModel):
    """A request body: unknown fields are a 400, never stored (no mass assignment)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True,
        defer_build=True,
    )


class QueryModel(ApiModel):
    """A query string: unknown parameters are ignored, declared ones validated."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


class ErrorDetail(ApiModel):
    """What went wrong, for programs (code) and people (message)."""
    code: str = Field(description="snake_case error code, stable for programs to match on")
    message: str = Field(description="human-readable explanation")
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = Field(default=None, description="present on 500s; quote it in bug reports")


class ErrorEnvelope(ApiModel):
    """The body of every error response."""
    error: ErrorDetail


class PageQuery(QueryModel):
    """``?limit=&cursor=`` of every list."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1,
                       description=f"page size, default {DEFAULT_LIMIT}, clamped to {MAX_LIMIT}")
    cursor: str | None = Field(default=None, max_length=2048, description="opaque cursor from pagination.nextCursor")

    @field_validator("limit")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return min(value, MAX_LIMIT)


class PageInfo(ApiModel):
    """Where a page sits in its list: pass nextCursor as cursor for the next page."""
    page: int = Field(ge=1, description="this page's number: 1 without a cursor, then 2, 3... along the "
                                        "nextCursor chain")
    limit: int
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")
    has_next: bool
    has_prev: bool = Field(description="true past page 1 (a cursor only goes forward: go back by keeping the "
                                       "cursors of earlier pages)")
    total: int | None = Field(default=None, description="the exact number of items in the whole list, where it "
                                                       "is kept beside them (a reader's reviews); absent where only "
                                                       "reading every item could count them (readings)")
    total_pages: int | None = Field(ge=1, description=(
        "how many pages of this limit the list has: from total where it is kept (an empty list is 1 page); "
        "elsewhere known on the last page (equal to page) and null before it"))

    # No return annotation on purpose: one would replace the fields' schema in the
    # serialization-mode JSON schema (the OpenAPI document's) with its own.
    @model_serializer(mode="wrap")
    def _always_present(  # type: ignore[no-untyped-def]
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ):
        """nextCursor and totalPages are always sent, null when there is none or it is unknown
        (responses otherwise drop null fields); ``total`` stays absent where it is not kept."""
        out: dict[str, Any] = handler(self)
        ordered: dict[str, Any] = {}
        for name in type(self).model_fields:
            key = to_camel(name) if info.by_alias else name
            if key in out:
                ordered[key] = out[key]
            elif name in ("next_cursor", "total_pages"):
                ordered[key] = None
        return ordered


class PageMeta(ApiModel):
    """How the page was produced: every list is read from its table, not from a cache."""
    cached: bool = Field(description="true when the page came from a response cache (never, for now)")
    cache_key: str | None = Field(default=None, description="the cache entry the page came from, when cached")
    generated_at: str = Field(json_schema_extra={"format": "date-time"},
                              description="when the page was read (UTC, ISO 8601)")


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    data: list[T]
    pagination: PageInfo
    meta: PageMeta
