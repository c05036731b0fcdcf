"""A user's compliance records (the product's ``ComplianceTracking``): consents, the 18+
declaration and the accepted versions of the terms of service and the privacy policy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.legal import VERSION_PATTERN, canonical_type
from chalicelib.schemas.common import ApiModel, InputModel, Page
from chalicelib.schemas.legal import LegalType

AnswerSource = Literal["settings", "signup", "onboarding"]


class ConsentsIn(InputModel):
    """The consents to record: each one sent is recorded with today's date and the privacy
    policy version in force; those left out are unchanged. ``marketing`` is the same switch
    as the preferences' ``notifications.marketingEmails`` (saving one changes the other)."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "examples": [{"marketing": False, "analytics": True, "thirdParty": False}],
            "minProperties": 1,
        },
    )

    marketing: bool | None = Field(default=None, description="marketing emails (suggested readings)")
    analytics: bool | None = Field(default=None, description="product analytics beyond what the service needs")
    third_party: bool | None = Field(default=None, description="sharing data with third parties")
    source: AnswerSource = Field(
        default="settings", description="where the user answered, kept in the consent history (default settings)"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(value is None for value in data.values()):
            raise ValueError("A consent is true or false; leave out the ones you do not answer.")
        return data

    def answers(self) -> dict[str, bool]:
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"source"})


class TermsAcceptanceIn(InputModel):
    """Accept the version in force of the terms of service or the privacy policy (as
    ``GET /legal/{type}`` shows it, or as a booking's 422 ``terms_not_accepted`` names it)."""

    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={"examples": [{"documentType": "terms_of_service", "version": "2026-12-01"}]},
    )

    document_type: Literal["terms_of_service", "privacy_policy"] = Field(
        description="terms_of_service or privacy_policy (terms and privacy work too)"
    )
    version: str = Field(pattern=VERSION_PATTERN, max_length=40, description="exactly the version in force")

    @field_validator("document_type", mode="before")
    @classmethod
    def _short_names(cls, value: Any) -> Any:
        return (canonical_type(value) or value) if isinstance(value, str) else value


class ConsentOut(ApiModel):
    """One consent: given or not, when, and under which privacy policy version."""

    consent: Literal["marketing", "analytics", "thirdParty"]
    granted: bool
    consent_date: str | None = Field(
        default=None,
        description="when it was last given or withdrawn; absent: never answered (marketing: off by default)",
    )
    consent_version: str | None = Field(default=None, description="the privacy policy version in force then")


class DataProcessingConsentOut(ApiModel):
    """ComplianceTracking.dataProcessingConsent: the three consents, and the latest answer's date and version."""

    marketing: bool
    analytics: bool
    third_party: bool
    consent_date: str | None = None
    consent_version: str | None = None


class ComplianceAgeOut(ApiModel):
    """ComplianceTracking.ageVerification: the 18+ declaration (POST /me/age-verification)."""

    verified: bool
    method: Literal["self_declared", "id_verification", "credit_card"] | None = None
    verified_date: str | None = None


class AcceptanceOut(ApiModel):
    """An accepted version of the terms of service or the privacy policy."""

    type: LegalType
    version: str
    accepted_date: str
    ip_address: str | None = Field(default=None, description="the address the acceptance came from")


class PendingDocumentOut(ApiModel):
    """A document to accept before booking: read it at ``path`` (``?version=`` for this very
    version), then POST /me/terms-acceptance with its type and version."""

    type: LegalType
    version: str = Field(description="the version in force: the one to accept")
    title: str
    effective_date: str
    path: str = Field(description="GET it to read the document, e.g. /legal/terms_of_service")
    accepted_version: str | None = Field(default=None, description="the version accepted before, if any")


class ComplianceOut(ApiModel):
    """The caller's compliance records (ComplianceTracking) and what is pending acceptance."""

    user_id: str
    data_processing_consent: DataProcessingConsentOut
    consents: list[ConsentOut]
    age_verification: ComplianceAgeOut
    terms_accepted: AcceptanceOut | None = None
    privacy_policy_accepted: AcceptanceOut | None = None
    pending_acceptance: list[PendingDocumentOut] = Field(
        description="documents to accept before the next booking (a booking answers 422 terms_not_accepted "
        "while any is pending)"
    )


class ConsentChangeOut(ApiModel):
    """One change of a consent, as it was recorded: given or withdrawn, when, under which
    privacy policy version, and where the user answered."""

    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "consent": "marketing",
                    "granted": True,
                    "consentVersion": "2026-12-01",
                    "consentDate": "2026-12-02T09:14:03.120Z",
                    "source": "settings",
                }
            ]
        },
    )

    consent: Literal["marketing", "analytics", "thirdParty"]
    granted: bool
    consent_version: str | None = Field(default=None, description="the privacy policy version in force then")
    consent_date: str = Field(json_schema_extra={"format": "date-time"}, description="when it was given or withdrawn")
    source: Literal["settings", "signup", "onboarding", "preferences"] = Field(
        description="where: POST /me/consents (settings, signup or onboarding, as sent) or the marketing switch of "
        "PUT /me/preferences (preferences)"
    )


class ConsentHistoryPage(Page[ConsentChangeOut]):
    """Every change of the caller's consents, newest first."""
