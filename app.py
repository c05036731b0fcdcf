"""Wiring only: the Chalice app, its blueprints, and how a caller becomes a principal."""

from chalice import Chalice, CORSConfig

from chalicelib import api
from chalicelib.config import get_settings
from chalicelib.handlers.admin_catalog import admin_catalog_api
from chalicelib.handlers.clerk_webhooks import clerk_webhooks_api
from chalicelib.handlers.credits import credits_api
from chalicelib.handlers.me import me_api
from chalicelib.handlers.media import media_api
from chalicelib.handlers.onboarding import onboarding_api
from chalicelib.handlers.platform import platform_api
from chalicelib.handlers.reader_applications import reader_applications_api
from chalicelib.handlers.readers import readers_api
from chalicelib.handlers.readings import readings_api
from chalicelib.jobs.events import events_jobs
from chalicelib.jobs.ledger import ledger_jobs
from chalicelib.jobs.media import media_jobs
from chalicelib.jobs.outbox import outbox_jobs
from chalicelib.jobs.presence import presence_jobs
from chalicelib.jobs.readings import readings_jobs
from chalicelib.services.users import principal_from_claims

app = Chalice(app_name="auralumic")
app.api.binary_types = []  # every body we accept or send is text
# The frontend's origin, per stage; set before the blueprints so every route carries it.
app.api.cors = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "If-Match"],
    expose_headers=["ETag", "Retry-After"],
    max_age=600,
)

api.set_principal_resolver(principal_from_claims)

for blueprint in (
    platform_api,
    me_api,
    onboarding_api,
    clerk_webhooks_api,
    reader_applications_api,
    readers_api,
    admin_catalog_api,
    media_api,
    credits_api,
    readings_api,
    outbox_jobs,
    events_jobs,
    presence_jobs,
    media_jobs,
    ledger_jobs,
    readings_jobs,
):
    app.register_blueprint(blueprint)
