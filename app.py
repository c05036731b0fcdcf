"""Wiring only: the Chalice app, its blueprints, and how a caller becomes a principal."""

from chalice import Chalice

from chalicelib import api
from chalicelib.handlers.me import me_api
from chalicelib.handlers.platform import platform_api
from chalicelib.jobs.events import events_jobs
from chalicelib.jobs.outbox import outbox_jobs
from chalicelib.services.users import principal_from_claims

app = Chalice(app_name="auralumic")
app.api.binary_types = []  # every body we accept or send is text

api.set_principal_resolver(principal_from_claims)

app.register_blueprint(platform_api)
app.register_blueprint(me_api)
app.register_blueprint(outbox_jobs)
app.register_blueprint(events_jobs)
