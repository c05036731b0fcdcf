"""Readings: quote and request (booking), the lifecycle (table and its executor),
delivery, reviews, disputes and the timers job, a module each.

The transitions are data (``table.TRANSITIONS``): who may do what, from which states, to
which, for which reading types, with which money movement and event, and the words of
every refusal; ``lifecycle.execute`` carries a step out as one unit of work. The public
functions are re-exported here: ``from chalicelib.services import readings`` then
``readings.accept(...)``.
"""

from __future__ import annotations

from chalicelib.domain.readings import TABS, tab_of
from chalicelib.services.readings.booking import Booking, prepare, request
from chalicelib.services.readings.common import get, party_role
from chalicelib.services.readings.delivery import deliver, delivery_for
from chalicelib.services.readings.disputes import list_disputes, open_dispute, resolve_dispute
from chalicelib.services.readings.joining import join
from chalicelib.services.readings.lifecycle import (
    accept,
    allowed_actions,
    cancel,
    complete,
    decline,
    report_no_show,
    start,
)
from chalicelib.services.readings.parties import Parties
from chalicelib.services.readings.parties import summaries as party_summaries
from chalicelib.services.readings.queries import list_for, visible
from chalicelib.services.readings.reviews import review, reviews_of
from chalicelib.services.readings.table import TRANSITIONS, Action, Step
from chalicelib.services.readings.timers import due, expire, run_timers

__all__ = [
    "TABS", "TRANSITIONS", "Action", "Booking", "Parties", "Step", "accept", "allowed_actions", "cancel", "complete",
    "decline", "deliver", "delivery_for", "due", "expire", "get", "join", "list_disputes", "list_for", "open_dispute",
    "party_role", "party_summaries", "prepare", "report_no_show", "request", "resolve_dispute", "review", "reviews_of",
    "run_timers", "start", "tab_of", "visible",
]
