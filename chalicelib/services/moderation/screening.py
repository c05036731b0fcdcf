"""The screen every piece of public text passes before it is stored.

``screen(content_type, fields, author_id=..., role=...)`` assesses the text of one request
against the active rules of its content type and the contact-details detector
(``domain.moderation.assess``) and returns a ``Verdict``, or raises:

* ``auto_reject``: a 422 ``content_rejected`` with a sentence per field
  (``details.fields[]``); the caller has written nothing.

The caller then writes the text with the verdict in its own transaction:

* ``verdict.state``: ``held`` when the text must wait for a moderator before the public sees it
  (contact details, an ``escalate`` rule), else None (visible);
* ``verdict.record(tx, content_id)``: the queue item (a new one, or the content's open one
  joined), only when something was flagged. Retry the transaction on ``conflicted``.

``auto_approve`` short-circuits: the field is neither rejected nor flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain import moderation as policy
from chalicelib.domain.moderation import HELD, Assessment
from chalicelib.errors import BusinessRuleViolation
from chalicelib.services.moderation import queue, rules
from chalicelib.services.tx import Transaction


@dataclass(frozen=True)
class Verdict:
    content_type: str
    author_id: str
    fields: tuple[str, ...] = ()  # every field screened, cleared ones (None) included
    texts: dict[str, str] = field(default_factory=dict)
    assessment: Assessment = field(default_factory=Assessment)

    @property
    def flagged(self) -> bool:
        return self.assessment.flagged

    @property
    def held_fields(self) -> tuple[str, ...]:
        return self.assessment.held_fields

    @property
    def state(self) -> str | None:
        """``held`` while a moderator has to look before the public sees the text."""
        return HELD if self.assessment.held_fields else None

    def record(
        self, tx: Transaction, content_id: str, *, parent_id: str | None = None, now: datetime | None = None
    ) -> str | None:
        """Queue what was flagged (nothing when nothing was); returns the item's id."""
        found = self.assessment
        if not found.flagged:
            return None
        flag = queue.Flag(
            content_type=self.content_type,
            content_id=content_id,
            parent_id=parent_id,
            author_id=self.author_id,
            flagged_by="auto",
            reason=found.reason,
            priority=found.priority,
            escalate=found.status == "escalated",
            held=bool(found.held_fields),
            score=found.score,
            fields=found.fields,
            excerpts={name: self.texts[name] for name in found.fields if name in self.texts},
            findings=[finding.dump() for finding in found.findings],
        )
        return queue.enqueue(tx, flag, now=now)


def screen(
    content_type: str,
    fields: Mapping[str, str | None],
    *,
    author_id: str,
    role: str,
    paths: Mapping[str, str] | None = None,
) -> Verdict:
    """Assess ``{field name (as on the wire): text}`` before it is published (see the module).
    ``paths``: where a field sits in the request, when its name says something else (a reading
    option's text is named by the option's id, and refused at its index in the list)."""
    texts = {name: text for name, text in fields.items() if text}
    if not texts:
        return Verdict(content_type, author_id, tuple(fields))
    found = policy.assess(texts, rules.active_for(content_type), role)
    if found.rejections:
        raise BusinessRuleViolation(
            "This text cannot be published as it is; change what each field's message says.",
            code="content_rejected",
            details={
                "fields": [
                    {"path": (paths or {}).get(name, name), "message": sentence, "type": "content_rejected"}
                    for name, sentence in found.rejections.items()
                ]
            },
        )
    return Verdict(content_type, author_id, tuple(fields), texts, found)
