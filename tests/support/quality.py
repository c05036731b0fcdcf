"""A quality warning for a reader, as the quality job opens it (for the authorization matrix)."""

from __future__ import annotations


def open_warning(reader_id: str, kind: str = "cancellation_rate") -> str:
    """The id of the reader's open warning of ``kind``, put once (later calls return the same id)."""
    from chalicelib.domain import quality as rules
    from chalicelib.services.metrics import quality

    try:
        return str(quality.Warning.get(f"reader#{reader_id}", f"warning#{kind}").warning_id)
    except quality.Warning.DoesNotExist:
        pass
    at = "2026-06-15T12:00:00.000Z"
    warning_id = quality.warning_id(kind, 1)
    quality.Warning(pk=f"reader#{reader_id}", sk=f"warning#{kind}", warning_id=warning_id, kind=kind,
                    state=quality.OPEN, value=0.25, threshold=rules.WARN[kind], title=rules.TITLE[kind],
                    message=rules.advice(kind, 0.25, rules.WARN[kind]), opened_at=at, episode=1).save()
    return warning_id
