"""Wiring only: the Chalice app, its blueprints, and how a caller becomes a principal."""

from chalice import Chalice, CORSConfig

from chalicelib import api
from chalicelib.config import get_settings
from chalicelib.handlers.me import me_api
from chalicelib.handlers.platform import platform_api
from chalicelib.jobs.events import events_jobs
from chalicelib.jobs.outbox import outbox_jobs
from chalicelib.services.users import principal_from_claims

app = Chalice(app_name="auralumic")
app.api.binary_types = []  # every body we accept or send is text
# The frontend's origin, per stage; set before the blueprints so every route carries it.
app.api.cors = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
    expose_headers=["ETag", "Retry-After"],
    max_age=600,
)

api.set_principal_resolver(principal_from_claims)

app.register_blueprint(platform_api)
app.register_blueprint(me_api)
app.register_blueprint(outbox_jobs)
app.register_blueprint(events_jobs)
