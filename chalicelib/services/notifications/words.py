"""The small words notification sentences share: a reading's kind, credit counts, a
reminder's lead time, dispute outcomes, system alerts (rules.py composes them into titles and messages)."""

from __future__ import annotations

from typing import Any

_KIND = {"phone_call": "phone reading", "video_message": "video message reading", "live_video": "live video reading"}


def kind(data: dict[str, Any]) -> str:
    return _KIND.get(str(data.get("type")), "reading")


def credits(count: Any) -> str:
    n = int(count or 0)
    return f"{n} credit" if n == 1 else f"{n} credits"


def were_added(count: Any) -> str:
    return f"{credits(count)} {'was' if int(count or 0) == 1 else 'were'} added"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def stars(rating: Any) -> str:
    n = int(rating or 0)
    return "1 star" if n == 1 else f"{n} stars"


def lead(data: dict[str, Any]) -> str:
    """'in 24 hours', 'in 15 minutes' from the reminder's lead time (minutes or a label)."""
    minutes = data.get("minutesBefore")
    if minutes is None:
        label = str(data.get("reminder") or data.get("lead") or "")
        minutes = {"24h": 1440, "15m": 15, "1h": 60}.get(label)
    if not minutes:
        return "soon"
    minutes = int(minutes)
    if minutes % 60 == 0:
        hours = minutes // 60
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    return "in 1 minute" if minutes == 1 else f"in {minutes} minutes"


def dispute_outcome(data: dict[str, Any], *, for_client: bool) -> str:
    """What the resolution of a dispute means for the client or the reader: one sentence."""
    outcome = str(data.get("outcome") or "")
    refunded = int(data.get("refunded") or 0)
    if outcome == "reject" or not refunded:
        return ("The dispute was rejected: the reading stands as completed." if for_client
                else "The dispute was rejected: the reading stands as completed and your earnings are unchanged.")
    how = "in full" if outcome == "full_refund" else "in part"
    if for_client:
        return f"The reading was refunded {how}: {were_added(refunded)} back to your balance."
    return f"The reading was refunded {how}: {credits(refunded)} went back to the client."


def day_of(moment: Any) -> str | None:
    """An ISO 8601 time as a day a person reads ("8 December 2026 (UTC)"); None for no time."""
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00")) if moment else None
    except ValueError:
        return None
    return f"{parsed.day} {parsed:%B %Y} (UTC)" if parsed else None


_ALERT_TITLES = {"ledger_mismatch": "Ledger check failed"}


def alert_title(kind_: str) -> str:
    return _ALERT_TITLES.get(kind_, "System alert")


def alert_message(data: dict[str, Any]) -> str:
    """The producer's sentence, or a generic one when it sent none."""
    message = " ".join(str(data.get("message") or "").split())
    if not message:
        return "An automated check found a problem. The logs have the details."
    message = cap(message)
    return message if message.endswith((".", "!", "?")) else f"{message}."
