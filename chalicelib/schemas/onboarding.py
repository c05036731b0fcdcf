"""Onboarding (UserOnboarding of the product requirements) and age verification."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import ApiModel, InputModel
from chalicelib.schemas.compliance import PendingDocumentOut

StepId = str  # validated against the caller's role catalogue by services.onboarding


class OnboardingStep(ApiModel):
    """One onboarding step and whether it is done."""
    id: str
    completed: bool
    automatic: bool = Field(description="true: the step completes itself when the fact holds (age verified, "
                                        "profile filled in...); it cannot be marked complete by hand")


class ProfileCheck(ApiModel):
    """One field of the reader profile checklist and whether it is filled."""
    field: str = Field(description="displayName, imageUrl, preferences, ageVerified; readers also tagline, "
                                   "location, profileImage, attributes, readingOptions, availability")
    complete: bool


class OnboardingOut(ApiModel):
    """UserOnboarding, plus the role's step catalogue and the profile checklist behind the percentage."""

    user_id: str
    completed_steps: list[str] = Field(description="completed step ids, in catalogue order")
    current_step: str | None = Field(default=None, description="the step set by PATCH while it is incomplete, "
                                                               "else the first incomplete step; absent when all "
                                                               "steps are complete")
    skip_tutorial: bool
    welcome_message_shown: bool
    profile_completion_percentage: int = Field(ge=0, le=100)
    is_complete: bool
    steps: list[OnboardingStep]
    profile_checklist: list[ProfileCheck]
    updated_at: str | None = None
    pending_acceptance: list[PendingDocumentOut] = Field(
        default_factory=list, description="the terms of service and privacy policy versions to accept "
                                          "(POST /me/terms-acceptance) before booking: prompt for them first")


class OnboardingPatch(InputModel):
    """Mark steps complete (added; completion is never undone), move the current step,
    skip the tutorial, record that the welcome message was shown. Omitted fields are unchanged."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={"examples": [{"completeSteps": ["welcome"], "welcomeMessageShown": True}]},
    )

    complete_steps: list[StepId] | None = Field(default=None, max_length=20,
                                                description="step ids of the caller's role to mark complete")
    current_step: StepId | None = Field(default=None, min_length=1, max_length=40)
    skip_tutorial: bool | None = None
    welcome_message_shown: bool | None = None


class AgeVerificationIn(InputModel):
    """A self-declared date of birth. It is checked (18 or older on today's UTC date) and
    not stored: only the fact, the method and the time of verification are kept."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={"examples": [{"dateOfBirth": "1990-04-12"}]},
    )

    method: Literal["self_declared"] = Field(default="self_declared",
                                             description="optional: self_declared is the only method")
    # strict=False: pydantic 2.14 rejects an ISO date string for this field in strict JSON mode.
    date_of_birth: date = Field(strict=False, description="YYYY-MM-DD; not in the future, not before 1900-01-01")


class AgeVerificationOut(ApiModel):
    """ComplianceTracking.ageVerification."""

    verified: bool
    method: Literal["self_declared", "id_verification", "credit_card"] | None = None
    verified_date: str
    minimum_age: int = 18
