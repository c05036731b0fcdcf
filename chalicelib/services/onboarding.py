"""Onboarding (UserOnboarding) and age verification.

Steps come from a fixed catalogue per role. Two kinds:

* *acknowledged* steps (welcome, preferences, first_credits, first_reading) are marked
  complete by the frontend with PATCH; ``preferences`` also completes itself once the
  preferences are saved;
* *automatic* steps (age_verification; for readers profile, reading_options,
  availability) complete themselves when the fact holds and cannot be marked by hand
  (422 ``step_not_completable``), so ``completedSteps`` never claims what is not true.

Completion is never undone: PATCH adds to a string set with ADD (commutative, so
concurrent PATCHes both land without a read-modify-write). ``profileCompletionPercentage``
is computed on every read from the real fields (the user item and, for readers, the
ReaderProfile item), never stored, so it cannot go stale.

Age verification is self-declared: the date of birth is checked (18 or older on the UTC
date ``today``) and then discarded. Only the fact, the method and the time are stored
(data minimisation: the 18+ gate is the only use). Repeating it returns the original
record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chalicelib.errors import BusinessRuleViolation, NotFound, ValidationFailed
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.services import outbox, users
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

_CLIENT_STEPS = ("welcome", "preferences", "age_verification", "first_credits", "first_reading")
STEPS: dict[str, tuple[str, ...]] = {
    "client": _CLIENT_STEPS,
    "reader": ("welcome", "preferences", "age_verification", "profile", "reading_options", "availability",
               "first_credits", "first_reading"),
    "admin": ("welcome", "preferences"),
}
AUTOMATIC_STEPS = frozenset({"age_verification", "profile", "reading_options", "availability"})

MINIMUM_AGE = 18
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


@dataclass(frozen=True)
class Step:
    id: str
    completed: bool
    automatic: bool  # completes itself when the fact holds; never marked complete by hand


@dataclass(frozen=True)
class ProfileCheck:
    field: str
    complete: bool


@dataclass(frozen=True)
class OnboardingState:
    user_id: str
    completed_steps: list[str]
    current_step: str | None
    skip_tutorial: bool
    welcome_message_shown: bool
    profile_completion_percentage: int
    is_complete: bool
    steps: list[Step]
    profile_checklist: list[ProfileCheck]
    updated_at: str | None


@dataclass(frozen=True)
class AgeVerification:
    verified: bool
    method: str | None
    verified_date: str
    minimum_age: int = MINIMUM_AGE


# --- reading --------------------------------------------------------------------------------

def get_state(user: User) -> OnboardingState:
    """The caller's onboarding; one extra GetItem (the ReaderProfile) for readers."""
    profile = _reader_profile(user) if user.role == "reader" else None
    facts = _facts(user, profile)
    catalogue = steps_for(user.role)
    acknowledged = set(user.onboarding_steps or ())
    done = [step for step in catalogue
            if facts.get(step, False) or (step not in AUTOMATIC_STEPS and step in acknowledged)]
    incomplete = [step for step in catalogue if step not in done]
    current: str | None = user.onboarding_current_step
    if current not in incomplete:
        current = incomplete[0] if incomplete else None
    checklist = _profile_checklist(user, profile)
    complete_fields = sum(1 for _, ok in checklist if ok)
    return OnboardingState(
        user_id=user.user_id,
        completed_steps=done,
        current_step=current,
        skip_tutorial=bool(user.onboarding_skip_tutorial),
        welcome_message_shown=bool(user.onboarding_welcome_shown),
        profile_completion_percentage=complete_fields * 100 // len(checklist),
        is_complete=not incomplete,
        steps=[Step(id=step, completed=step in done, automatic=step in AUTOMATIC_STEPS)
               for step in catalogue],
        profile_checklist=[ProfileCheck(field=name, complete=ok) for name, ok in checklist],
        updated_at=user.onboarding_updated_at,
    )


def steps_for(role: str) -> tuple[str, ...]:
    return STEPS.get(role, _CLIENT_STEPS)


def _reader_profile(user: User) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(user.user_id)
    except ReaderProfile.DoesNotExist:
        return None


def _facts(user: User, profile: ReaderProfile | None) -> dict[str, bool]:
    facts = {"preferences": user.preferences is not None, "age_verification": user.age_verified_at is not None}
    if user.role == "reader":
        facts.update({
            "profile": profile is not None and all((_filled(profile.tagline), _filled(profile.location),
                                                    _filled(profile.profile_image),
                                                    _attributes_complete(profile.attributes))),
            "reading_options": profile is not None and _has_active_option(profile.reading_options),
            "availability": profile is not None and _has_schedule(profile.availability),
        })
    return facts


def _profile_checklist(user: User, profile: ReaderProfile | None) -> list[tuple[str, bool]]:
    checklist = [
        ("displayName", _filled(user.display_name)),
        ("imageUrl", _filled(user.image_url)),
        ("preferences", user.preferences is not None),
        ("ageVerified", user.age_verified_at is not None),
    ]
    if user.role == "reader":
        checklist += [
            ("tagline", profile is not None and _filled(profile.tagline)),
            ("location", profile is not None and _filled(profile.location)),
            ("profileImage", profile is not None and _filled(profile.profile_image)),
            ("attributes", profile is not None and _attributes_complete(profile.attributes)),
            ("readingOptions", profile is not None and _has_active_option(profile.reading_options)),
            ("availability", profile is not None and _has_schedule(profile.availability)),
        ]
    return checklist


def _plain(value: Any) -> Any:
    return value.as_dict() if hasattr(value, "as_dict") else value


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _attributes_complete(attributes: Any) -> bool:
    """At least one tool, one ability and a style (the limits are the profile's business)."""
    raw = _plain(attributes) or {}
    if not isinstance(raw, dict):
        return False
    style = raw.get("style")
    has_style = _filled(style) or (isinstance(style, list) and any(_filled(s) for s in style))
    return bool(raw.get("tools")) and bool(raw.get("abilities")) and has_style


def _has_active_option(options: Any) -> bool:
    for option in _plain(options) or []:
        option = _plain(option)
        if isinstance(option, dict) and option.get("isActive", option.get("active", True)) is True:
            return True
    return False


def _has_schedule(availability: Any) -> bool:
    raw = _plain(availability) or {}
    schedule = _plain(raw.get("schedule")) if isinstance(raw, dict) else None
    if isinstance(schedule, dict):
        return any(bool(_plain(slots)) for slots in schedule.values())
    return bool(schedule)


# --- changing ---------------------------------------------------------------------------------

def update(user: User, *, complete_steps: list[str] | None = None, current_step: str | None = None,
           skip_tutorial: bool | None = None, welcome_message_shown: bool | None = None,
           now: datetime | None = None) -> OnboardingState:
    """Mark steps complete (never undone), move the current step, set the two flags; ``None``
    leaves a field as it is."""
    catalogue = steps_for(user.role)
    steps = list(dict.fromkeys(complete_steps or []))
    unknown = [(f"completeSteps.{i}", s) for i, s in enumerate(complete_steps or []) if s not in catalogue]
    if current_step is not None and current_step not in catalogue:
        unknown.append(("currentStep", current_step))
    if unknown:
        raise ValidationFailed(
            f"Unknown onboarding step for the {user.role} role.", code="unknown_step",
            details={"fields": [{"path": path, "message": f"Unknown step {step!r}.", "type": "unknown_step"}
                                for path, step in unknown],
                     "steps": list(catalogue)})
    automatic = [step for step in steps if step in AUTOMATIC_STEPS]
    if automatic:
        raise BusinessRuleViolation(
            "These steps complete themselves when done (verifying your age, filling in your reader profile, "
            "options and availability).", code="step_not_completable", details={"steps": automatic})
    actions: list[Any] = []
    if steps:
        actions.append(User.onboarding_steps.add(set(steps)))
    if current_step is not None:
        actions.append(User.onboarding_current_step.set(current_step))
    if skip_tutorial is not None:
        actions.append(User.onboarding_skip_tutorial.set(skip_tutorial))
    if welcome_message_shown is not None:
        actions.append(User.onboarding_welcome_shown.set(welcome_message_shown))
    if not actions:
        return get_state(user)
    actions.append(User.onboarding_updated_at.set(iso(now or utcnow())))
    return get_state(users.update_fields(user.user_id, actions))


def verify_age(user: User, *, method: str, date_of_birth: date, today: date | None = None,
               now: datetime | None = None) -> tuple[AgeVerification, bool]:
    """Record that the user is 18+; returns the record and whether this call created it.
    A repeat returns the original record (whatever the new date, as long as it is valid and 18+)."""
    now = now or utcnow()
    today = today or now.date()
    if date_of_birth > today:
        raise _bad_birth_date("Must not be in the future.")
    if date_of_birth < EARLIEST_BIRTH_DATE:
        raise _bad_birth_date(f"Must not be before {EARLIEST_BIRTH_DATE.isoformat()}.")
    if age_on(date_of_birth, today) < MINIMUM_AGE:
        raise BusinessRuleViolation(f"You must be at least {MINIMUM_AGE} to use Auralumic.", code="underage",
                                    details={"minimumAge": MINIMUM_AGE})
    if user.age_verified_at is not None:
        return _record_of(user), False
    user_id, verified_at = user.user_id, iso(now)

    def verify(tx: Transaction) -> None:
        tx.update(User(user_id=user_id),
                  actions=[User.age_verified_at.set(verified_at), User.age_verification_method.set(method),
                           User.updated_at.set(verified_at)],
                  condition=User.user_id.exists() & User.age_verified_at.does_not_exist(), label="user")
        outbox.emit(tx, "user.age_verified", user_id=user_id, method=method, verified_at=verified_at)

    try:
        atomically(verify)
    except ConditionsFailed as failed:
        if "user" not in failed:
            raise
        # Lost a race with a concurrent verification (or the user vanished): answer with what is stored.
        try:
            current = User.get(user_id, consistent_read=True)
        except User.DoesNotExist as exc:
            raise NotFound("user") from exc
        if current.age_verified_at is None:
            raise
        return _record_of(current), False
    return AgeVerification(verified=True, method=method, verified_date=verified_at), True


def age_on(born: date, today: date) -> int:
    """Completed years; someone born on 29 February turns a year older on 1 March in
    common years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _bad_birth_date(message: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid.",
                            details={"fields": [{"path": "dateOfBirth", "message": message, "type": "value_error"}]})


def _record_of(user: User) -> AgeVerification:
    return AgeVerification(verified=True, method=user.age_verification_method, verified_date=user.age_verified_at)
