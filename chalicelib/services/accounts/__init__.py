"""Accounts as admins manage them: search (``search``), role changes, suspensions and
reinstatements (``changes``)."""

from chalicelib.services.accounts.changes import Suspension, change, end_due, get
from chalicelib.services.accounts.search import search

__all__ = ["Suspension", "change", "end_due", "get", "search"]
