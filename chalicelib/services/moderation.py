"""The moderation hook every piece of public text passes before it is stored.

Public text is what other users read: a client's status, a reader's suggestion (title,
description, message). ``screen(fields)`` is called with the text of one request before any
write; it raises a 422 (``ValidationFailed``, details per field) for text that may not be
published, and returns nothing otherwise.

Today it lets everything through: the rules (contact details, banned words, links, spam
scores) and the reports that feed them are trust and safety's (a later capability), which
fills this one function in. Callers need no change then.
"""

from __future__ import annotations


def screen(fields: dict[str, str | None]) -> None:
    """Check ``{field name (as on the wire): text}`` before it is published."""
    del fields  # no rule yet: trust and safety adds them here
