"""The caller's onboarding (``/me/onboarding``) and age verification (``/me/age-verification``)."""

from __future__ import annotations

from dataclasses import asdict

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.models.users import User
from chalicelib.schemas.onboarding import AgeVerificationIn, AgeVerificationOut, OnboardingOut, OnboardingPatch
from chalicelib.services import compliance, onboarding

onboarding_api = Blueprint(__name__)


def _out(state: onboarding.OnboardingState, user: User) -> OnboardingOut:
    """The state, with the legal documents to accept before booking (one BatchGetItem)."""
    pending = [document.view() for document in compliance.pending_for(user)]
    return OnboardingOut.model_validate({**asdict(state), "pending_acceptance": pending})


@route(onboarding_api, "/me/onboarding", "GET", access=SIGNED_IN, response=OnboardingOut, tags=["onboarding"],
       summary="The caller's onboarding steps and profile completion percentage")
def get_onboarding(ctx: RequestContext) -> OnboardingOut:
    """Steps come from the caller's role; automatic steps and the percentage follow the real
    profile fields (for readers, the reader profile too). ``pendingAcceptance`` lists the terms
    of service and privacy policy versions to accept before booking."""
    return _out(onboarding.get_state(ctx.user.record), ctx.user.record)


@route(onboarding_api, "/me/onboarding", "PATCH", access=SIGNED_IN, body=OnboardingPatch, response=OnboardingOut,
       tags=["onboarding"], errors=(422,),
       summary="Mark steps complete, move the current step, skip the tutorial, note the welcome message")
def patch_onboarding(ctx: RequestContext) -> OnboardingOut:
    """An unknown step id is a 400 (``unknown_step``); an automatic step (age_verification,
    profile, reading_options, availability) is a 422 (``step_not_completable``). Completed
    steps stay completed."""
    patch: OnboardingPatch = ctx.body
    state = onboarding.update(ctx.user.record, complete_steps=patch.complete_steps, current_step=patch.current_step,
                              skip_tutorial=patch.skip_tutorial, welcome_message_shown=patch.welcome_message_shown)
    return _out(state, ctx.user.record)


@route(onboarding_api, "/me/age-verification", "POST", access=SIGNED_IN, body=AgeVerificationIn,
       response=AgeVerificationOut, tags=["compliance"], errors=(422,),
       summary="Self-declare a date of birth: 18 or older is recorded, under 18 is refused")
def verify_age(ctx: RequestContext) -> AgeVerificationOut:
    """Under 18 on today's UTC date is a 422 (``underage``) and nothing is stored; a date in
    the future or before 1900 is a 400. The date of birth itself is not stored: only the
    fact, the method and the time. Repeating it answers 200 with the original record."""
    body: AgeVerificationIn = ctx.body
    record, _created = onboarding.verify_age(ctx.user.record, method=body.method, date_of_birth=body.date_of_birth)
    return AgeVerificationOut.model_validate(asdict(record))
