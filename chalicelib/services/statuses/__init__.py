"""Client statuses and suggested readings: post, edit, close (posting), delete (deleting), the
readers' feed (feed), suggest and withdraw (suggestions), accept into a reading (accepting), expiry.
``from chalicelib.services import statuses`` then ``statuses.create(...)``."""

from __future__ import annotations

from chalicelib.services.statuses.accepting import accept
from chalicelib.services.statuses.common import authors, load, status_document, suggestion_document, viewer_may_see
from chalicelib.services.statuses.deleting import delete
from chalicelib.services.statuses.expiry import expire_due
from chalicelib.services.statuses.feed import page as feed_page
from chalicelib.services.statuses.posting import close, create, mine, update
from chalicelib.services.statuses.suggestions import suggest, withdraw

__all__ = ["accept", "authors", "close", "create", "delete", "expire_due", "feed_page", "load", "mine",
           "status_document", "suggest", "suggestion_document", "update", "viewer_may_see", "withdraw"]
