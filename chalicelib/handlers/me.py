"""The caller's own account: ``/me`` and ``/me/preferences``."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN, Access
from chalicelib.models.users import User
from chalicelib.schemas.me import Credits, MeFlags, MeOut, MePatch, Preferences, PreferencesOut
from chalicelib.services import payments, users

me_api = Blueprint(__name__)

# A suspended user may still see who they are (so the frontend can say why it is blocked).
SIGNED_IN_EVEN_SUSPENDED = Access("signed_in", allow_suspended=True)


def _me(user: User) -> MeOut:
    return MeOut(
        id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        image_url=user.image_url,
        role=user.role,  # type: ignore[arg-type]
        status=user.status,  # type: ignore[arg-type]
        credits=Credits(available=int(user.credits_available or 0), held=int(user.credits_held or 0),
                        earnings=int(user.credits_earnings or 0), owed=-int(user.credits_receivable or 0)),
        flags=MeFlags(age_verified=user.age_verified_at is not None, suspended=user.status == "suspended",
                      payment_restricted=int(user.credits_receivable or 0) < 0,
                      is_reader=user.role == "reader", is_admin=user.role == "admin"),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        created_date=user.created_at,
        last_login=user.last_login_at,
        subscription_id=_current_subscription_id(user.user_id),
        preferences=_preferences_out(user, *users.preferences_of(user)),
    )


def _current_subscription_id(user_id: str) -> str | None:
    current = payments.current_subscription(user_id)
    return current.subscription_id if current is not None else None


def _preferences_out(user: User, document: dict, updated_at: str | None) -> PreferencesOut:
    preferences = Preferences.model_validate(document)
    return PreferencesOut(**preferences.model_dump(), updated_at=updated_at, id=user.user_id, user_id=user.user_id,
                          created_at=user.created_at)


@route(me_api, "/me", "GET", access=SIGNED_IN_EVEN_SUSPENDED, response=MeOut, tags=["me"],
       summary="The caller: user, role, credits and flags")
def get_me(ctx: RequestContext) -> MeOut:
    """The first call of a new Clerk user provisions a client account."""
    return _me(ctx.user.record)


@route(me_api, "/me", "PATCH", access=SIGNED_IN, body=MePatch, response=MeOut, tags=["me"],
       summary="Change the caller's own editable fields")
def patch_me(ctx: RequestContext) -> MeOut:
    patch: MePatch = ctx.body
    return _me(users.update_profile(ctx.user.user_id, display_name=patch.display_name))


@route(me_api, "/me/preferences", "GET", access=SIGNED_IN, response=PreferencesOut, tags=["me"],
       summary="The caller's preferences (defaults until first saved)")
def get_preferences(ctx: RequestContext) -> PreferencesOut:
    document, updated_at = users.get_preferences(ctx.user.user_id)
    return _preferences_out(ctx.user.record, document, updated_at)


@route(me_api, "/me/preferences", "PUT", access=SIGNED_IN, body=Preferences, response=PreferencesOut, tags=["me"],
       summary="Replace the caller's preferences (omitted fields take their defaults)")
def put_preferences(ctx: RequestContext) -> PreferencesOut:
    preferences: Preferences = ctx.body
    updated_at = users.put_preferences(ctx.user.user_id, preferences.model_dump(mode="json", by_alias=True))
    return _preferences_out(ctx.user.record, preferences.model_dump(by_alias=True), updated_at)
