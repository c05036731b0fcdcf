"""Moderation on the wire: reports, the admin queue (the product's ContentModerationQueue) and
its decisions, the rules (the product's ModerationRule), and the moderation state an author
sees on their own held or hidden text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.moderation import DESCRIPTION_MAX, KEYWORD_MAX, KEYWORDS_MAX, NAME_MAX, NOTE_MAX
from chalicelib.schemas.common import ApiModel, InputModel, Page, PageQuery
from chalicelib.schemas.readers import Line, Text

ContentType = Literal["review", "profile", "status", "suggestion"]
RuleContentType = Literal["any", "review", "profile", "status", "suggestion"]
Reason = Literal["inappropriate", "spam", "harassment", "false_claims", "copyright", "other"]
Priority = Literal["low", "medium", "high", "urgent"]
QueueStatus = Literal["pending", "approved", "rejected", "escalated"]
Action = Literal["flag", "auto_approve", "auto_reject", "escalate"]
Role = Literal["client", "reader", "admin"]
Sentiment = Literal["negative", "positive", "neutral"]
_ID = r"^[A-Za-z0-9_\-]{1,128}$"
_AT = "2026-11-28T17:42:10.512Z"


class ModerationStateOut(ApiModel):
    """What moderation does with the author's own text: ``held`` (only the author sees it until a
    moderator looks) or ``hidden`` (a moderator rejected it; only the author sees it). Absent:
    the text is public."""

    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "state": "held",
                    "message": "Only you can see this for now: a moderator will look at it before others can, "
                    "because it seems to contain contact details or words that need a second "
                    "look. Keep contact on the platform.",
                }
            ]
        },
    )

    state: Literal["held", "hidden"]
    message: str = Field(description="a sentence for the author")


# --- reports ---------------------------------------------------------------------------------------


class ReportIn(InputModel):
    """Flag a piece of content for a moderator. A suggestion is named with its status."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "contentType": "review",
                    "contentId": "01JDQ8V6M4Z2X7N3K5R9T1W0AB",
                    "reason": "harassment",
                    "note": "The review insults the reader by name.",
                }
            ]
        },
    )

    content_type: ContentType = Field(
        description="review (its id is the reading's), profile (a reader's id), status, or suggestion (with statusId)"
    )
    content_id: str = Field(
        pattern=_ID, description="the reading id of a review, the reader id of a profile, the status or suggestion id"
    )
    status_id: str | None = Field(
        default=None, pattern=_ID, description="the status a suggestion belongs to (suggestions only)"
    )
    reason: Reason
    note: Text | None = Field(default=None, max_length=NOTE_MAX, description="what the moderator should know")

    @model_validator(mode="after")
    def _suggestion_needs_its_status(self) -> ReportIn:
        if (self.content_type == "suggestion") != (self.status_id is not None):
            raise ValueError("A suggestion is named with its statusId, and only a suggestion is.")
        return self


class ReportOut(ApiModel):
    """A report as its reporter sees it: received, for a moderator to look at."""

    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "id": "rpt_01JDQ9A2B3C4D5E6F7G8H9J0KM",
                    "contentType": "review",
                    "contentId": "01JDQ8V6M4Z2X7N3K5R9T1W0AB",
                    "reason": "harassment",
                    "note": "The review insults the reader by name.",
                    "createdAt": _AT,
                }
            ]
        },
    )

    id: str
    content_type: ContentType
    content_id: str
    reason: Reason
    note: str | None = None
    created_at: str = Field(json_schema_extra={"format": "date-time"})


# --- the queue --------------------------------------------------------------------------------------


class ModerationQuery(PageQuery):
    """``?status=`` (default pending) and optionally ``?priority=``."""

    status: QueueStatus = Field(default="pending", description="the items in this state")
    priority: Priority | None = Field(default=None, description="only this priority (else urgent first)")


class FindingOut(ApiModel):
    """Why the automatic screen queued a field: a rule, or contact details it found."""

    field: str = Field(description="the field (wire name) the finding is about")
    source: Literal["rule", "contact_details"]
    action: Literal["flag", "escalate"]
    rule_id: str | None = None
    kind: Literal["phone", "email", "messaging", "link"] | None = Field(
        default=None, description="contact details only"
    )
    match: str | None = Field(default=None, description="the text that matched (contact details only)")
    sentiment: Sentiment | None = Field(
        default=None, description="a rule with a sentiment condition only: the label the text was given"
    )
    sentiment_score: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="a rule with a sentiment condition only: the text's score, -1 (very negative) to 1 (very positive)",
    )


class ReportSummaryOut(ApiModel):
    """One user's report of the item's content."""

    reporter_id: str
    reason: Reason
    note: str | None = None
    at: str = Field(json_schema_extra={"format": "date-time"})


_ITEM_EXAMPLE: dict[str, Any] = {
    "id": "mod_01JDQ9A2B3C4D5E6F7G8H9J0KM",
    "contentType": "profile",
    "contentId": "user_demo_reader1",
    "authorId": "user_demo_reader1",
    "flaggedReason": "spam",
    "flaggedBy": "auto",
    "priority": "high",
    "status": "pending",
    "autoModerationScore": 0.9,
    "createdAt": _AT,
    "updatedAt": _AT,
    "fields": ["bio"],
    "excerpts": {"bio": "Text me on 555 123 4567 for a cheaper reading."},
    "findings": [
        {"field": "bio", "source": "contact_details", "action": "flag", "kind": "phone", "match": "555 123 4567"}
    ],
    "reportCount": 0,
    "reports": [],
    "held": True,
}


class ModerationItemOut(ApiModel):
    """A queue item (the product's ContentModerationQueue): what was flagged, by whom, why, how
    urgent, and what a moderator decided; with the text as it was when flagged."""

    model_config = ConfigDict(**ApiModel.model_config, json_schema_extra={"examples": [_ITEM_EXAMPLE]})

    id: str
    content_type: ContentType
    content_id: str
    parent_id: str | None = Field(default=None, description="a suggestion's status; a review's reader")
    author_id: str
    flagged_reason: Reason
    flagged_by: Literal["auto", "user", "admin"]
    flagged_by_id: str | None = Field(default=None, description="the first reporter, for a user report")
    priority: Priority
    status: QueueStatus
    moderator_id: str | None = None
    moderator_notes: str | None = None
    auto_moderation_score: float | None = Field(
        default=None, ge=0, le=1, description="how sure the automatic screen is (0-1)"
    )
    reviewed_date: str | None = Field(default=None, json_schema_extra={"format": "date-time"})
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    fields: list[str] = Field(default_factory=list, description="the fields concerned (wire names)")
    excerpts: dict[str, str] = Field(default_factory=dict, description="each field's text when it was flagged")
    findings: list[FindingOut] = Field(default_factory=list)
    report_count: int = Field(default=0, description="how many users reported it")
    reports: list[ReportSummaryOut] = Field(default_factory=list, description="the newest reports (up to 20)")
    held: bool = Field(description="the content is kept from the public until a decision")


class ModerationPage(Page[ModerationItemOut]):
    """A page of the moderation queue: urgent first, then oldest first within a priority."""


class DecideIn(InputModel):
    """A moderator's decision: approve (public), reject (hidden from every public read) or
    escalate (for a senior look)."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={"examples": [{"decision": "reject", "notes": "A phone number in the bio."}]},
    )

    decision: Literal["approve", "reject", "escalate"]
    notes: Text | None = Field(default=None, max_length=NOTE_MAX, description="for the audit log and other moderators")


# --- rules -------------------------------------------------------------------------------------------


class LengthIn(InputModel):
    min: int | None = Field(default=None, ge=0, le=100_000)
    max: int | None = Field(default=None, ge=0, le=100_000)


_SENTIMENT = (
    "the text's sentiment as the built-in English scorer labels it (a lexicon of positive and negative words, "
    "with negation and intensifiers): negative, positive or neutral"
)


class ConditionsIn(InputModel):
    """All the conditions given must hold: one of the keywords, the text's sentiment, a length
    within [min, max], the author's role."""

    keywords: list[Line] | None = Field(
        default=None, max_length=KEYWORDS_MAX, description="whole words or phrases; case and accents are ignored"
    )
    sentiment: Sentiment | None = Field(default=None, description=_SENTIMENT)
    length: LengthIn | None = None
    user_role: list[Role] | None = Field(default=None, max_length=3)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if any(not 1 <= len(word) <= KEYWORD_MAX for word in value):
            raise ValueError(f"Each keyword must be 1 to {KEYWORD_MAX} characters.")
        return list(dict.fromkeys(value))

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


_RULE_IN_EXAMPLE: dict[str, Any] = {
    "name": "Guaranteed outcomes",
    "description": "Readers may not promise results.",
    "contentType": "any",
    "conditions": {"keywords": ["guaranteed results", "100% accurate"]},
    "action": "flag",
    "flaggedReason": "false_claims",
    "isActive": True,
}


class RuleIn(InputModel):
    """A new moderation rule (the product's ModerationRule)."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [_RULE_IN_EXAMPLE]})

    name: Line = Field(min_length=1, max_length=NAME_MAX)
    description: Text = Field(default="", max_length=DESCRIPTION_MAX)
    content_type: RuleContentType = Field(description="the content it applies to; any: all of them")
    conditions: ConditionsIn
    action: Action
    flagged_reason: Reason = Field(default="other", description="what a queue item it opens says")
    is_active: bool = True


class RulePatch(InputModel):
    """Change some fields of a rule; ``conditions`` is replaced whole."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={"examples": [{"isActive": False}]})

    name: Line | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    description: Text | None = Field(default=None, max_length=DESCRIPTION_MAX)
    content_type: RuleContentType | None = None
    conditions: ConditionsIn | None = None
    action: Action | None = None
    flagged_reason: Reason | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> RulePatch:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"These fields cannot be null: {', '.join(nulls)}; leave them out to keep them.")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, by their wire names."""
        found = self.model_dump(mode="json", by_alias=True, include=set(self.model_fields_set))
        if self.conditions is not None:
            found["conditions"] = self.conditions.stored()
        return found


class LengthOut(ApiModel):
    """A length condition: the text's length within [min, max] (each optional)."""

    min: int | None = None
    max: int | None = None


class ConditionsOut(ApiModel):
    """The conditions of a rule (all that are given must hold)."""

    keywords: list[str] | None = None
    sentiment: Sentiment | None = Field(default=None, description=_SENTIMENT)
    length: LengthOut | None = None
    user_role: list[Role] | None = None


class RuleOut(ApiModel):
    """A moderation rule (the product's ModerationRule), with its version and dates."""

    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "id": "mrl_01JDQ9A2B3C4D5E6F7G8H9J0KM",
                    **_RULE_IN_EXAMPLE,
                    "version": 1,
                    "createdAt": _AT,
                    "updatedAt": _AT,
                }
            ]
        },
    )

    id: str
    name: str
    description: str
    content_type: RuleContentType
    conditions: ConditionsOut
    action: Action
    flagged_reason: Reason
    is_active: bool
    version: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})


class RulePage(Page[RuleOut]):
    """A page of moderation rules, in creation order."""
