"""A user's compliance records (the product's ``ComplianceTracking``): data-processing
consents, the 18+ declaration (services/onboarding.py records it), and the versions of the
terms of service and the privacy policy accepted.

Everything is kept on the user item (models/users.py), so the booking check and an export
read it with the GetItem they make anyway:

* **Consents** (marketing, analytics, third party): each one ``{granted, consentDate,
  consentVersion}``, the version being the privacy policy in force when it was given or
  withdrawn. Repeating the same answer under the same privacy policy keeps the original
  record. **Marketing has one truth**: ``preferences.notifications.marketingEmails`` (what the
  notifications read, off by default). ``POST /me/consents`` writes it together with the
  consent record, in one conditional update on the preferences version (so a stale
  ``PUT /me/preferences`` is a 409); ``PUT /me/preferences`` adds ``marketing_sync``
  to its own write. The two can never disagree. Every change of a consent record also
  appends an entry to the consent history (services/consent_history.py: consent, granted,
  version, date, source) in the same transaction.
* **Acceptance** of the terms and the privacy policy: exactly the version in force (409
  ``stale_version`` for an older one), conditional on it still being in force at the commit.
  The acceptance keeps the version's publication number, so a user who accepted a version
  at or after the last one that asked for re-acceptance is in good standing
  (``pending_for``); booking refuses anyone else with 422 ``terms_not_accepted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.legal import ACCEPTED_TYPES, NAMES, PRIVACY, TERMS, public_path
from chalicelib.errors import BusinessRuleViolation, Conflict, NotFound, ValidationFailed
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.legal import LEGAL_PARTITION, LegalActiveItem, active_sk
from chalicelib.models.privacy import ConsentChange
from chalicelib.models.users import User
from chalicelib.services import consent_history, legal
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

CONSENT_NAMES = ("marketing", "analytics", "thirdParty")
_CONSENT_ATTRIBUTES = {
    "marketing": "consent_marketing",
    "analytics": "consent_analytics",
    "thirdParty": "consent_third_party",
}
_ACCEPTANCE_ATTRIBUTES = {TERMS: "terms_accepted", PRIVACY: "privacy_policy_accepted"}
_ATTEMPTS = 4
HISTORY = "consent_history"


@dataclass(frozen=True)
class Consent:
    consent: str  # marketing | analytics | thirdParty
    granted: bool
    consent_date: str | None  # when it was last given or withdrawn; None: never answered
    consent_version: str | None  # the privacy policy in force then

    def view(self) -> dict[str, Any]:
        return {
            "consent": self.consent,
            "granted": self.granted,
            "consentDate": self.consent_date,
            "consentVersion": self.consent_version,
        }


@dataclass(frozen=True)
class Acceptance:
    type: str
    version: str
    sequence: int | None
    accepted_date: str
    ip_address: str | None

    def view(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "version": self.version,
            "acceptedDate": self.accepted_date,
            "ipAddress": self.ip_address,
        }


@dataclass(frozen=True)
class Pending:
    """A document the user must accept before booking."""

    type: str
    version: str
    title: str
    effective_date: str
    path: str
    accepted_version: str | None  # the version the user accepted before, if any

    def view(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "version": self.version,
            "title": self.title,
            "effectiveDate": self.effective_date,
            "path": self.path,
            "acceptedVersion": self.accepted_version,
        }


@dataclass(frozen=True)
class Compliance:
    user_id: str
    consents: list[Consent]
    age_verified_date: str | None
    age_verification_method: str | None
    acceptances: dict[str, Acceptance]
    pending: list[Pending]

    def view(self) -> dict[str, Any]:
        """The product's ComplianceTracking shape (camelCase), plus each consent and what is pending."""
        by_name = {c.consent: c for c in self.consents}
        answered = [c for c in self.consents if c.consent_date]
        latest = max(answered, key=lambda c: c.consent_date or "") if answered else None
        terms, privacy = self.acceptances.get(TERMS), self.acceptances.get(PRIVACY)
        return {
            "userId": self.user_id,
            "dataProcessingConsent": {
                "marketing": by_name["marketing"].granted,
                "analytics": by_name["analytics"].granted,
                "thirdParty": by_name["thirdParty"].granted,
                "consentDate": latest.consent_date if latest else None,
                "consentVersion": latest.consent_version if latest else None,
            },
            "consents": [c.view() for c in self.consents],
            "ageVerification": {
                "verified": self.age_verified_date is not None,
                "method": self.age_verification_method,
                "verifiedDate": self.age_verified_date,
            },
            "termsAccepted": terms.view() if terms else None,
            "privacyPolicyAccepted": privacy.view() if privacy else None,
            "pendingAcceptance": [p.view() for p in self.pending],
        }


# --------------------------------------------------------------------------- reading


def marketing_preference(user: User) -> bool:
    """``preferences.notifications.marketingEmails`` (off until switched on): the marketing consent."""
    document = plain(user.preferences) if user.preferences is not None else {}
    return bool((document.get("notifications") or {}).get("marketingEmails", False))


def _stored(user: User, attribute: str) -> dict[str, Any] | None:
    value = getattr(user, attribute)
    return plain(value) if value is not None else None


def consents_of(user: User) -> list[Consent]:
    found = []
    for name in CONSENT_NAMES:
        record = _stored(user, _CONSENT_ATTRIBUTES[name]) or {}
        granted = marketing_preference(user) if name == "marketing" else bool(record.get("granted", False))
        agrees = bool(record) and bool(record.get("granted")) == granted
        found.append(
            Consent(
                consent=name,
                granted=granted,
                consent_date=record.get("consentDate") if agrees else None,
                consent_version=record.get("consentVersion") if agrees else None,
            )
        )
    return found


def acceptances_of(user: User) -> dict[str, Acceptance]:
    found = {}
    for document_type, attribute in _ACCEPTANCE_ATTRIBUTES.items():
        record = _stored(user, attribute)
        if record and record.get("version"):
            sequence = record.get("sequence")
            found[document_type] = Acceptance(
                type=document_type,
                version=str(record["version"]),
                sequence=int(sequence) if sequence is not None else None,
                accepted_date=str(record.get("acceptedDate")),
                ip_address=record.get("ipAddress"),
            )
    return found


def pending_for(user: User, active: dict[str, legal.Active] | None = None) -> list[Pending]:
    """The terms and privacy policy versions the user must accept before booking (one
    BatchGetItem unless ``active`` is given): those whose last version asking for
    re-acceptance came after what the user accepted."""
    active = legal.active_of() if active is None else active
    accepted = acceptances_of(user)
    pending = []
    for document_type in ACCEPTED_TYPES:
        in_force = active.get(document_type)
        if in_force is None or in_force.acceptance_sequence is None:
            continue
        mine = accepted.get(document_type)
        if mine is not None and (mine.sequence or 0) >= in_force.acceptance_sequence:
            continue
        pending.append(
            Pending(
                type=document_type,
                version=in_force.version,
                title=in_force.title,
                effective_date=in_force.effective_date,
                path=public_path(document_type),
                accepted_version=mine.version if mine else None,
            )
        )
    return pending


def require_accepted(user: User) -> None:
    """422 ``terms_not_accepted`` naming each document to accept, if any (the versions in force
    as this container keeps them: ``legal.accepted_in_force``, no read while fresh)."""
    pending = pending_for(user, legal.accepted_in_force())
    if not pending:
        return
    names = " and the ".join(f"{NAMES[p.type]} (version {p.version}, {p.path})" for p in pending)
    raise BusinessRuleViolation(
        f"Accept the current {names} before booking a reading (POST /me/terms-acceptance).",
        code="terms_not_accepted",
        details={"documents": [p.view() for p in pending]},
    )


def state(user: User) -> Compliance:
    """The user's records, with what is pending (one BatchGetItem)."""
    return Compliance(
        user_id=user.user_id,
        consents=consents_of(user),
        age_verified_date=user.age_verified_at,
        age_verification_method=user.age_verification_method,
        acceptances=acceptances_of(user),
        pending=pending_for(user),
    )


def export(user_id: str) -> dict[str, Any]:
    """Everything recorded about the user's consents (their history too, oldest first), age
    declaration and acceptances, as JSON-ready camelCase (a data export's ``compliance``
    section); NotFound for no user."""
    return {**state(_read_user(user_id)).view(), "consentHistory": consent_history.all_of(user_id)}


def _read_user(user_id: str) -> User:
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist as exc:
        raise NotFound("user") from exc


# --------------------------------------------------------------------------- consents


def _privacy_version() -> str | None:
    in_force = legal.active(PRIVACY)
    return in_force.version if in_force else None


def _record(granted: bool, at: str, version: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"granted": granted, "consentDate": at}
    if version is not None:
        record["consentVersion"] = version
    return record


def record_consents(
    user_id: str, answers: dict[str, bool], *, source: str = "settings", now: datetime | None = None
) -> Compliance:
    """Record the consents in ``answers`` (names of CONSENT_NAMES); an answer that repeats the
    stored one under the same privacy policy keeps its original date. Each change is appended
    to the history with ``source`` (where the user answered: consent_history.SOURCES)."""
    unknown = sorted(set(answers) - set(CONSENT_NAMES))
    if unknown:
        raise ValueError(f"unknown consents: {unknown}")
    if not answers:
        raise ValidationFailed(
            "Send at least one of marketing, analytics and thirdParty.",
            details={"fields": [{"path": "(body)", "message": "Send at least one consent.", "type": "missing"}]},
        )
    at = iso(now or utcnow())
    version = _privacy_version()

    def work(tx: Transaction) -> User:
        user = _read_user(user_id)
        current = {c.consent: c for c in consents_of(user)}
        actions: list[Action] = []
        condition = User.user_id.exists()
        for name, granted in answers.items():
            stored = _stored(user, _CONSENT_ATTRIBUTES[name])
            if (
                stored
                and current[name].granted == granted
                and bool(stored.get("granted")) == granted
                and stored.get("consentVersion") == version
            ):
                continue
            actions.append(getattr(User, _CONSENT_ATTRIBUTES[name]).set(_record(granted, at, version)))
            entry = consent_history.change(user_id, name, granted, at=at, version=version, source=source)
            tx.save(entry, condition=ConsentChange.sk.does_not_exist(), label=HISTORY)
        if "marketing" in answers and marketing_preference(user) != answers["marketing"]:
            document = plain(user.preferences) if user.preferences is not None else {}
            notifications = {**(document.get("notifications") or {}), "marketingEmails": answers["marketing"]}
            actions += [
                User.preferences.set({**document, "notifications": notifications, "_updatedAt": at}),
                User.preferences_version.add(1),
            ]
            read_version = int(user.preferences_version or 0)
            condition &= (
                (User.preferences_version == read_version)
                if read_version
                else (User.preferences_version.does_not_exist() | (User.preferences_version == 0))
            )
        if actions:
            tx.update(
                User(user_id=user_id), actions=[*actions, User.updated_at.set(at)], condition=condition, label="user"
            )
        return user

    try:
        atomically(work, retry_on=lambda failed: "user" in failed, attempts=_ATTEMPTS)
    except ConditionsFailed as failed:
        raise Conflict(
            "Your settings kept changing while your consents were saved; try again.", code="concurrent_change"
        ) from failed
    return state(_read_user(user_id))


@dataclass(frozen=True)
class MarketingSync:
    """What ``PUT /me/preferences`` adds to its write: ``actions`` on the user item, and the
    history entries to save in the same transaction (``history``; none when nothing changes)."""

    actions: list[Action]
    history: list[ConsentChange]


def marketing_sync(user: User, marketing: bool, *, now: datetime | None = None) -> MarketingSync:
    """What ``PUT /me/preferences`` adds to its write so the marketing consent follows
    ``notifications.marketingEmails`` (``user``: the record read for the request). Nothing
    while nothing was ever recorded and nothing changes."""
    stored = _stored(user, _CONSENT_ATTRIBUTES["marketing"])
    before = bool(stored.get("granted")) if stored else marketing_preference(user)
    if stored is None and marketing == before:
        return MarketingSync([], [])
    if stored is not None and before == marketing:
        # unchanged, restated: the update keeps them together
        return MarketingSync([User.consent_marketing.set(stored)], [])
    at, version = iso(now or utcnow()), _privacy_version()
    entry = consent_history.change(user.user_id, "marketing", marketing, at=at, version=version, source="preferences")
    return MarketingSync([User.consent_marketing.set(_record(marketing, at, version))], [entry])


# --------------------------------------------------------------------------- acceptance


def _stale(document_type: str, version: str, in_force: legal.Active) -> Exception:
    legal.published(document_type, version)  # 404 for a version never published
    return Conflict(
        f"Version {version} of the {NAMES[document_type]} is no longer in force; read and accept "
        f"version {in_force.version} ({public_path(document_type)}).",
        code="stale_version",
        details={"type": document_type, "version": in_force.version, "path": public_path(document_type)},
    )


def accept(user_id: str, name: str, version: str, *, ip_address: str | None, now: datetime | None = None) -> Compliance:
    """Accept the version in force of the terms of service or the privacy policy."""
    document_type = legal.resolve_type(name)
    if document_type not in ACCEPTED_TYPES:
        raise BusinessRuleViolation(
            f"Only the terms of service and the privacy policy are accepted; the "
            f"{NAMES[document_type]} is there to read.",
            code="not_acceptable",
            details={"type": document_type, "types": list(ACCEPTED_TYPES)},
        )
    at = iso(now or utcnow())
    attribute = getattr(User, _ACCEPTANCE_ATTRIBUTES[document_type])

    def work(tx: Transaction) -> None:
        in_force = legal.active(document_type)
        if in_force is None:
            raise legal.Missing(
                f"No {NAMES[document_type]} has been published yet; there is nothing to accept.",
                details={"type": document_type},
            )
        if version != in_force.version:
            raise _stale(document_type, version, in_force)
        mine = acceptances_of(_read_user(user_id)).get(document_type)
        if mine is not None and mine.version == version:
            return  # accepted already: the first acceptance stands
        record: dict[str, Any] = {"version": version, "sequence": in_force.sequence, "acceptedDate": at}
        if ip_address:
            record["ipAddress"] = ip_address
        tx.condition_check(
            LegalActiveItem,
            LEGAL_PARTITION,
            active_sk(document_type),
            condition=LegalActiveItem.version == version,
            label="active",
        )
        tx.update(
            User(user_id=user_id),
            actions=[attribute.set(record), User.updated_at.set(at)],
            condition=User.user_id.exists(),
            label="user",
        )

    # A publication between the read and the commit: read again (the new version answers 409).
    try:
        atomically(work, retry_on=lambda failed: "active" in failed, attempts=_ATTEMPTS)
    except ConditionsFailed as failed:
        if "user" in failed:
            raise NotFound("user") from failed
        raise Conflict(
            f"The {NAMES[document_type]} kept changing while you accepted it; reload it and try again.",
            code="concurrent_change",
        ) from failed
    return state(_read_user(user_id))
