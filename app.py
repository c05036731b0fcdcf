"""Wiring only: the Chalice app, its routes and jobs, and how a caller becomes a principal.

Importing this module is the API function's cold start, so it imports no handler: routes are
registered from ``chalicelib/route_table.py`` and each handler module is imported on the
first request it serves (chalicelib/routing.py). The job modules are light at import too
(each imports its services when it runs); every job function's Lambda imports only its own
module (``chalicelib.jobs.<module>.<function>``), never this one.
"""

from collections.abc import Callable
from typing import Any

from chalice import Chalice, CORSConfig, Response

from chalicelib import routing
from chalicelib.config import get_settings
from chalicelib.http_headers import harden
from chalicelib.jobs.accounts import account_jobs
from chalicelib.jobs.email import email_jobs
from chalicelib.jobs.events import events_jobs
from chalicelib.jobs.explore import explore_jobs
from chalicelib.jobs.insights import insights_jobs
from chalicelib.jobs.ledger import ledger_jobs
from chalicelib.jobs.media import media_jobs
from chalicelib.jobs.notification_schedules import notification_schedule_jobs
from chalicelib.jobs.observability import observability_jobs
from chalicelib.jobs.outbox import outbox_jobs
from chalicelib.jobs.payouts import payout_jobs
from chalicelib.jobs.presence import presence_jobs
from chalicelib.jobs.privacy import privacy_jobs
from chalicelib.jobs.quality import quality_jobs
from chalicelib.jobs.readings import readings_jobs
from chalicelib.jobs.statuses import statuses_jobs
from chalicelib.route_table import ROUTES

app = Chalice(app_name="auralumic")
app.api.binary_types = []  # every body we accept or send is text
# The frontend's origin, per stage; set before the blueprints so every route carries it.
app.api.cors = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "If-Match"],
    expose_headers=["ETag", "Retry-After", "X-Request-Id"],
    max_age=600,
)


def _before_first_request() -> None:
    """What the handlers need injected, done when the first request arrives (not at import:
    the users and rate-limit services load PynamoDB and botocore)."""
    from chalicelib import api, rate_limiting
    from chalicelib.services.rate_limits import admit
    from chalicelib.services.users import principal_from_claims

    api.set_principal_resolver(principal_from_claims)
    rate_limiting.set_rate_limiter(admit)


settings = get_settings()
routing.install(
    app,
    ROUTES,
    include=lambda condition: bool(getattr(settings, condition)),
    before_first_request=_before_first_request,
)


@app.middleware("http")
def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every HTTP response, including Chalice's own errors, leaves through here."""
    return harden(get_response(event))


for blueprint in (
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
    observability_jobs,
    payout_jobs,
):
    app.register_blueprint(blueprint)
