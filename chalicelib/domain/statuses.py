"""Client statuses and suggested readings: the business rules as numbers (the request
schemas and route descriptions take theirs from here)."""

from __future__ import annotations

CONTENT_MIN, CONTENT_MAX = 10, 1000  # what is on the client's mind: a sentence, at most a long paragraph
MOOD_MAX = 40
ACTIVE_MAX = 3  # active statuses one client may have at a time
SUGGESTIONS_MAX = 50  # suggestions one status holds (withdrawn ones count: the item stays bounded)
TITLE_MIN, TITLE_MAX = 3, 100
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 1000
MESSAGE_MAX = 1000

# The states of a status: active accepts suggestions; the others are final.
STATES = ("active", "accepted", "closed", "expired")
# The states of a suggestion: active until the reader withdraws it, the client accepts it,
# or the status closes without it (closed).
SUGGESTION_STATES = ("active", "accepted", "withdrawn", "closed")
