"""The caller's notification preferences: ``/me/notification-preferences``."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.schemas.notification_preferences import (
    ChannelsOut,
    NotificationPreferenceOut,
    NotificationPreferencesOut,
    NotificationPreferencesPut,
    QuietHoursOut,
)
from chalicelib.services.notifications import preferences
from chalicelib.services.notifications.timing import QuietHours

notification_preferences_api = Blueprint(__name__)


def _out(user_id: str, settings: preferences.Settings) -> NotificationPreferencesOut:
    rows = []
    for name, pref in settings.types.items():
        quiet = pref.quiet_hours
        rows.append(NotificationPreferenceOut(
            user_id=user_id, type=name,  # type: ignore[arg-type]
            channels=ChannelsOut(in_app=pref.in_app, push=pref.push, email=pref.email),
            frequency=pref.frequency,  # type: ignore[arg-type]
            quiet_hours=QuietHoursOut(start=quiet.start.strftime("%H:%M"), end=quiet.end.strftime("%H:%M"),
                                      timezone=quiet.timezone) if quiet else None))
    return NotificationPreferencesOut(preferences=rows, version=settings.version, updated_at=settings.updated_at)


@route(notification_preferences_api, "/me/notification-preferences", "GET", access=SIGNED_IN,
       response=NotificationPreferencesOut, tags=["me"],
       summary="The caller's notification preferences: every type with its effective settings")
def get_notification_preferences(ctx: RequestContext) -> NotificationPreferencesOut:
    """Types never saved show their defaults: in-app and push for all, email for the
    transactional ones, marketing email off. The account's master switches
    (``/me/preferences`` ``notifications``) still apply on top."""
    return _out(ctx.user.user_id, preferences.get(ctx.user.user_id))


@route(notification_preferences_api, "/me/notification-preferences", "PUT", access=SIGNED_IN,
       body=NotificationPreferencesPut, response=NotificationPreferencesOut, tags=["me"], errors=(409,),
       summary="Replace the caller's notification preferences (types left out take their defaults)")
def put_notification_preferences(ctx: RequestContext) -> NotificationPreferencesOut:
    """Quiet hours hold push and email (never in-app) until they end, in their timezone;
    an hourly, daily or weekly frequency collects push and email into one digest per period.
    With ``version`` (the one last read), saved only if nobody saved since."""
    body: NotificationPreferencesPut = ctx.body
    types = {
        str(p.type): preferences.TypePreference(
            in_app=p.channels.in_app, push=p.channels.push, email=p.channels.email, frequency=p.frequency,
            quiet_hours=QuietHours.parse(p.quiet_hours.start, p.quiet_hours.end, p.quiet_hours.timezone)
            if p.quiet_hours else None)
        for p in body.preferences
    }
    settings = preferences.put(ctx.user.user_id, types, expected_version=body.version)
    return _out(ctx.user.user_id, settings)
