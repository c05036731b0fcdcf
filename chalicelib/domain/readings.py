"""The readings' business rules as numbers: windows, deadlines and limits, in one place
(the request schemas and the route descriptions take theirs from here)."""

from __future__ import annotations

from datetime import timedelta

READING_TYPES = ("phone_call", "video_message", "live_video")
LIVE_TYPES = ("phone_call", "live_video")

RESPOND_IMMEDIATE = timedelta(minutes=10)  # an immediate request expires if not answered
RESPOND_MESSAGE = timedelta(hours=24)  # a video-message request expires if not answered
RESPOND_SCHEDULED_MAX = timedelta(hours=24)  # ... and a scheduled one, or at its start if sooner
MESSAGE_DELIVERY = timedelta(hours=72)  # a video message is due this long after acceptance
SCHEDULE_LEAD = timedelta(minutes=30)  # scheduled readings start at least this far ahead
SCHEDULE_HORIZON = timedelta(days=90)  # ... and at most this far (the booking horizon)
FREE_CANCEL_BEFORE = timedelta(hours=24)  # a client may cancel an accepted scheduled reading until then
EARLY_START = timedelta(minutes=10)  # a scheduled reading may start this much early
JOIN_WINDOW_BEFORE = EARLY_START  # both parties may join a scheduled call or live video this early
NO_SHOW_AFTER = timedelta(minutes=15)  # either side may report a no-show this long after the start
REMIND_BEFORE = timedelta(hours=1)
REVIEW_WINDOW = timedelta(days=14)
DISPUTE_WINDOW = timedelta(days=14)

# Minutes; the catalog's time spans decide which durations exist, up to this. A scheduled
# booking writes one slot per 5 minutes in one transaction with the reading, the hold's
# postings and an event: 36 slots leave that well inside DynamoDB's 100 operations.
DURATION_MAX = 180
QUESTION_MAX = 1000
REASON_MIN, REASON_MAX = 3, 500
NOTE_MIN, NOTE_MAX = 3, 1000
COMMENT_MAX = 2000
RATING_MIN, RATING_MAX = 1, 5

# GET /readings tabs: each is one Query on a sparse GSI key ("<user>#<tab>").
TABS: dict[str, tuple[str, ...]] = {
    "requested": ("requested",),
    "accepted": ("accepted", "in_progress"),
    "archived": ("declined", "cancelled", "expired", "completed", "disputed", "refunded"),
}
_TAB_OF = {status: tab for tab, statuses in TABS.items() for status in statuses}
SLOTS_FREED = ("declined", "cancelled", "expired")  # states that give the reader's time back


def tab_of(status: str) -> str:
    return _TAB_OF[status]


def time_span_id(minutes: int) -> str:
    """The catalog id of the time span a booking of ``minutes`` uses: the quote looks the
    span up by it, so only a span with this id can be booked (and listed) at its duration."""
    return f"{minutes}-min"
