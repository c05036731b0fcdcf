"""Privacy: a user's data export, and the deletion of their account.

- ``export``: ``POST /me/data-export`` (one at a time), the job that builds the archive
  (``archive``: everything about the user, by Query and GetItem) and ``GET`` with a fresh,
  short-lived download link.
- ``erasure``: ``DELETE /me`` (soft delete at once) and what ``user.deleted`` sets in motion
  (readings cancelled through the lifecycle, suggestions withdrawn, the subscription stopped).
- ``purge``: after ``ACCOUNT_RETENTION_DAYS``, the personal data erased or anonymised in every
  table and in the bucket (``scrub``: the rewrites of what stays); then outside our tables
  (``external``: the Clerk user, the Stripe customers; retried until done).
"""

from __future__ import annotations

from chalicelib.services.privacy.erasure import Deletion, delete_account, wind_down
from chalicelib.services.privacy.export import ExportView, build, get_export, request_export
from chalicelib.services.privacy.purge import purge, purge_due

__all__ = [
    "Deletion",
    "ExportView",
    "build",
    "delete_account",
    "get_export",
    "purge",
    "purge_due",
    "request_export",
    "wind_down",
]
