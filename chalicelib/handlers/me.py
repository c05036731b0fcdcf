"""The caller's own account: ``/me`` and ``/me/preferences``."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN, SIGNED_IN_EVEN_SUSPENDED
from chalicelib.media_urls import public_url
from chalicelib.models.users import User
from chalicelib.schemas.me import AccountSuspension, Credits, MeFlags, MeOut, MePatch, Preferences, PreferencesOut
from chalicelib.services import compliance, users

me_api = Blueprint(__name__)


def suspension_of(user: User, status: str) -> AccountSuspension | None:
    """The suspension while it counts (``status``: the effective status)."""
    if status != "suspended":
        return None
    return AccountSuspension(reason=user.suspension_reason or "", since=user.suspended_at, until=user.suspended_until)


def _me(user: User) -> MeOut:
    status = users.account_status(user)
    return MeOut(
        id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        image_url=public_url(user.image_url),
        role=user.role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        suspension=suspension_of(user, status),
        credits=int(user.credits_available or 0),
        balance=Credits(available=int(user.credits_available or 0), held=int(user.credits_held or 0),
                        earnings=int(user.credits_earnings or 0), payable=int(user.credits_payable or 0),
                        owed=-int(user.credits_receivable or 0)),
        flags=MeFlags(age_verified=user.age_verified_at is not None, suspended=status == "suspended",
                      payment_restricted=int(user.credits_receivable or 0) < 0,
                      is_reader=user.role == "reader", is_admin=user.role == "admin"),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        created_date=user.created_at,
        last_login=user.last_login_at,
        # Kept on the user item by payments.subscriptions, so GET /me is one GetItem.
        subscription_id=user.subscription_id,
        preferences=_preferences_out(user, users.preferences_of(user)),
    )


def _preferences_out(user: User, stored: users.StoredPreferences) -> PreferencesOut:
    preferences = Preferences.model_validate(stored.document)
    return PreferencesOut(**preferences.model_dump(exclude={"version"}), version=stored.version,
                          updated_at=stored.updated_at, id=user.user_id, user_id=user.user_id,
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
    return _preferences_out(ctx.user.record, users.get_preferences(ctx.user.user_id))


@route(me_api, "/me/preferences", "PUT", access=SIGNED_IN, body=Preferences, response=PreferencesOut, tags=["me"],
       errors=(409,), summary="Replace the caller's preferences (omitted fields take their defaults)")
def put_preferences(ctx: RequestContext) -> PreferencesOut:
    """With ``version`` (the one last read), saved only if nobody saved since: else 409
    ``version_conflict`` and nothing changed."""
    preferences: Preferences = ctx.body
    # The marketing consent is this switch: its record (date, privacy policy version) follows it in the same write.
    consent = compliance.marketing_sync(ctx.user.record, preferences.notifications.marketing_emails)
    stored = users.put_preferences(ctx.user.user_id, preferences.model_dump(mode="json", by_alias=True,
                                                                            exclude={"version"}),
                                   expected_version=preferences.version, reader=ctx.user.role == "reader",
                                   also=consent.actions, also_save=consent.history)
    return _preferences_out(ctx.user.record, stored)
