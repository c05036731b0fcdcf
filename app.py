"""Wiring only: the Chalice app, its blueprints, and how a caller becomes a principal."""

from collections.abc import Callable
from typing import Any

from chalice import Chalice, CORSConfig, Response

from chalicelib import api, rate_limiting
from chalicelib.config import get_settings
from chalicelib.handlers.admin_catalog import admin_catalog_api
from chalicelib.handlers.admin_metrics import admin_metrics_api
from chalicelib.handlers.admin_users import admin_users_api
from chalicelib.handlers.analytics import analytics_api
from chalicelib.handlers.audit_log import audit_log_api
from chalicelib.handlers.clerk_webhooks import clerk_webhooks_api
from chalicelib.handlers.compliance import compliance_api
from chalicelib.handlers.credits import credits_api
from chalicelib.handlers.dashboard import dashboard_api
from chalicelib.handlers.earnings import earnings_api
from chalicelib.handlers.explore import explore_api
from chalicelib.handlers.favorites import favorites_api
from chalicelib.handlers.legal import legal_api
from chalicelib.handlers.local_checkout import local_checkout_api
from chalicelib.handlers.me import me_api
from chalicelib.handlers.media import media_api
from chalicelib.handlers.moderation import moderation_api
from chalicelib.handlers.notification_preferences import notification_preferences_api
from chalicelib.handlers.notifications import notifications_api
from chalicelib.handlers.onboarding import onboarding_api
from chalicelib.handlers.platform import platform_api
from chalicelib.handlers.privacy import privacy_api
from chalicelib.handlers.quality import quality_api
from chalicelib.handlers.reader_applications import reader_applications_api
from chalicelib.handlers.reader_metrics import reader_metrics_api
from chalicelib.handlers.readers import readers_api
from chalicelib.handlers.readings import readings_api
from chalicelib.handlers.realtime import realtime_api
from chalicelib.handlers.statuses import statuses_api
from chalicelib.handlers.unsubscribe import unsubscribe_api
from chalicelib.jobs.accounts import account_jobs
from chalicelib.jobs.email import email_jobs
from chalicelib.jobs.events import events_jobs
from chalicelib.jobs.explore import explore_jobs
from chalicelib.jobs.insights import insights_jobs
from chalicelib.jobs.ledger import ledger_jobs
from chalicelib.jobs.media import media_jobs
from chalicelib.jobs.notification_schedules import notification_schedule_jobs
from chalicelib.jobs.outbox import outbox_jobs
from chalicelib.jobs.presence import presence_jobs
from chalicelib.jobs.privacy import privacy_jobs
from chalicelib.jobs.quality import quality_jobs
from chalicelib.jobs.readings import readings_jobs
from chalicelib.jobs.statuses import statuses_jobs
from chalicelib.services.rate_limits import admit as admit_rate_limited
from chalicelib.services.users import principal_from_claims

app = Chalice(app_name="auralumic")
app.api.binary_types = []  # every body we accept or send is text
# The frontend's origin, per stage; set before the blueprints so every route carries it.
app.api.cors = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "If-Match"],
    expose_headers=["ETag", "Retry-After", "X-Request-Id"],
    max_age=600,
)

api.set_principal_resolver(principal_from_claims)
rate_limiting.set_rate_limiter(admit_rate_limited)


@app.middleware("http")
def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every HTTP response, including Chalice's own errors, leaves through here."""
    return api.harden(get_response(event))


for blueprint in (
    platform_api,
    me_api,
    privacy_api,
    notification_preferences_api,
    favorites_api,
    onboarding_api,
    compliance_api,
    legal_api,
    clerk_webhooks_api,
    reader_applications_api,
    explore_api,
    readers_api,
    reader_metrics_api,
    quality_api,
    admin_catalog_api,
    admin_metrics_api,
    admin_users_api,
    audit_log_api,
    moderation_api,
    media_api,
    credits_api,
    earnings_api,
    dashboard_api,
    analytics_api,
    readings_api,
    statuses_api,
    notifications_api,
    realtime_api,
    unsubscribe_api,
    outbox_jobs,
    events_jobs,
    email_jobs,
    presence_jobs,
    media_jobs,
    ledger_jobs,
    readings_jobs,
    statuses_jobs,
    notification_schedule_jobs,
    explore_jobs,
    insights_jobs,
    quality_jobs,
    account_jobs,
    privacy_jobs,
):
    app.register_blueprint(blueprint)
if get_settings().payments_are_local:  # the stand-in for Stripe's Checkout page, never in the cloud
    app.register_blueprint(local_checkout_api)
if get_settings().mail_viewer:  # the local mail viewer (a copy of every email sent), never in the cloud
    from chalicelib.handlers.local_mail import local_mail_api

    app.register_blueprint(local_mail_api)
