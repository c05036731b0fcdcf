"""Moderation as plain values: the vocabulary of the queue (the product's
ContentModerationQueue and ModerationRule), what a rule's conditions mean, and what one
piece of text gets (``assess``): rejected (a sentence per field), held from the public until a
moderator looks, flagged while it stays visible, or approved.

The order, per field:

1. an active ``auto_approve`` rule that matches approves the field: nothing else applies to it
   (e.g. "admins' text is approved");
2. an ``auto_reject`` rule that matches refuses the whole request, with a sentence per field
   saying what to change (nothing is stored);
3. an ``escalate`` rule queues it as ``escalated``, ``urgent``, and holds the text;
4. contact details (``contact_details.find``) queue it ``high`` and hold the text: once a phone
   number is public the client is gone, so it waits for a moderator;
5. a ``flag`` rule queues it ``medium``; the text stays visible meanwhile.

A rule's conditions all have to hold (those it has): one of its keywords (whole words or
phrases, case and accents ignored), the text's ``sentiment`` label (``domain.sentiment``:
negative, positive or neutral), a length within ``[min, max]``, the author's role among
``userRole``. A rule with no condition matches nothing: ``auto_approve`` of everything is not a
rule anybody means to write. A finding of a rule with a sentiment condition carries the text's
label and score, and weighs in the item's ``autoModerationScore`` with the label's confidence
(alone, it is that confidence). No I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.domain import contact_details, sentiment

# --- vocabulary (the product's names) ----------------------------------------------------------

CONTENT_TYPES = ("review", "profile", "status", "suggestion")
RULE_CONTENT_TYPES = ("any", *CONTENT_TYPES)  # a rule may apply to every kind of text
REASONS = ("inappropriate", "spam", "harassment", "false_claims", "copyright", "other")
FLAGGED_BY = ("auto", "user", "admin")
PRIORITIES = ("low", "medium", "high", "urgent")
STATUSES = ("pending", "approved", "rejected", "escalated")
OPEN_STATUSES = ("pending", "escalated")  # still waiting for a decision
ACTIONS = ("flag", "auto_approve", "auto_reject", "escalate")
DECISIONS = ("approve", "reject", "escalate")
ROLES = ("client", "reader", "admin")
SENTIMENTS = sentiment.LABELS  # negative | positive | neutral

# What the public sees of a piece of content while it is queued or after a decision.
HELD, HIDDEN = "held", "hidden"  # held: until a moderator decides; hidden: a moderator rejected it

# Limits the rule schemas share.
NAME_MAX, DESCRIPTION_MAX = 100, 500
KEYWORDS_MAX, KEYWORD_MAX = 200, 100
NOTE_MAX = 1000
EXCERPT_MAX = 500  # the text kept on a queue item per field, for the moderator

# The fields of each content type whose text is public (as on the wire).
PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "status": ("content", "mood"),
    "suggestion": ("title", "description", "message"),
    "review": ("comment",),
    "profile": ("displayName", "tagline", "bio", "location"),
}


def rank(priority: str) -> int:
    """0 for urgent ... 3 for low: a queue sorted by rank ascending shows urgent first."""
    return len(PRIORITIES) - 1 - PRIORITIES.index(priority)


def higher(a: str | None, b: str) -> str:
    return b if a is None or PRIORITIES.index(b) > PRIORITIES.index(a) else a


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    content_type: str  # one of RULE_CONTENT_TYPES
    keywords: tuple[str, ...]
    length_min: int | None
    length_max: int | None
    user_roles: tuple[str, ...]
    action: str
    flagged_reason: str  # what a queue item it makes says (ours: the product's rule has none)
    active: bool
    sentiment: str | None = None  # one of SENTIMENTS: the text's label must be this one

    @property
    def has_conditions(self) -> bool:
        return (
            bool(self.keywords)
            or self.sentiment is not None
            or self.length_min is not None
            or self.length_max is not None
            or bool(self.user_roles)
        )

    def applies_to(self, content_type: str) -> bool:
        return self.active and self.content_type in ("any", content_type)


def fold(text: str) -> str:
    """Compared text: compatibility forms, no accents, case-folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in fold(keyword).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def matched_keywords(rule: Rule, text: str) -> list[str]:
    folded = fold(text)
    return [keyword for keyword in rule.keywords if keyword.strip() and _keyword_pattern(keyword).search(folded)]


def _length_ok(rule: Rule, text: str) -> bool:
    size = len(text.strip())
    return (rule.length_min is None or size >= rule.length_min) and (rule.length_max is None or size <= rule.length_max)


def matches(rule: Rule, text: str, role: str) -> bool:
    """Every condition the rule has holds for ``text`` written by an author of ``role``."""
    if not rule.has_conditions:
        return False
    if rule.keywords and not matched_keywords(rule, text):
        return False
    if rule.sentiment is not None and sentiment.analyse(text).label != rule.sentiment:
        return False
    if (rule.length_min is not None or rule.length_max is not None) and not _length_ok(rule, text):
        return False
    return not rule.user_roles or role in rule.user_roles


def rejection_sentence(rule: Rule, text: str) -> str:
    """What the author reads for a field an ``auto_reject`` rule refused."""
    words = matched_keywords(rule, text)
    if words:
        quoted = ", ".join(f"\u201c{word}\u201d" for word in words[:3])
        return f"This text contains {quoted}, which cannot be published here; rephrase it."
    if rule.sentiment is not None:
        return f"This text reads as {rule.sentiment}, which cannot be published here as it is; rephrase it."
    size = len(text.strip())
    if rule.length_min is not None and size < rule.length_min:
        return f"This text is too short to publish: write at least {rule.length_min} characters."
    if rule.length_max is not None and size > rule.length_max:
        return f"This text is too long to publish: keep it to {rule.length_max} characters."
    return "This text cannot be published here; rephrase it."


# --- assessing one piece of text --------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Why a field was queued: a rule (``rule_id``) or contact details (``kind``)."""

    field: str
    source: str  # "rule" | "contact_details"
    action: str  # flag | escalate (contact details: flag, held)
    rule_id: str | None = None
    kind: str | None = None
    match: str | None = None
    sentiment: str | None = None  # a rule with a sentiment condition: the text's label ...
    sentiment_score: float | None = None  # ... and its score, -1..1

    def dump(self) -> dict[str, str | float]:
        found = {
            "field": self.field,
            "source": self.source,
            "action": self.action,
            "ruleId": self.rule_id,
            "kind": self.kind,
            "match": self.match,
            "sentiment": self.sentiment,
            "sentimentScore": self.sentiment_score,
        }
        return {k: v for k, v in found.items() if v is not None}

    @property
    def weight(self) -> float:
        """How sure this finding is that the text breaks a rule (see ``score``)."""
        if self.sentiment is not None and self.sentiment_score is not None:
            return sentiment.confidence(self.sentiment, self.sentiment_score)
        return _WEIGHTS.get(self.kind or self.action, 0.5)


@dataclass(frozen=True)
class Assessment:
    rejections: dict[str, str] = field(default_factory=dict)  # field -> sentence
    findings: tuple[Finding, ...] = ()
    held_fields: tuple[str, ...] = ()
    priority: str = "low"
    reason: str = "other"
    status: str = "pending"
    score: float | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(finding.field for finding in self.findings))


# How sure each finding is that the text breaks a rule: the item's ``autoModerationScore`` is
# 1 - the product of (1 - weight) over its findings (a sentiment rule's finding: its confidence).
_WEIGHTS = {
    "escalate": 0.95,
    "flag": 0.8,
    contact_details.PHONE: 0.9,
    contact_details.EMAIL: 0.9,
    contact_details.MESSAGING: 0.75,
    contact_details.LINK: 0.6,
}


def score(findings: tuple[Finding, ...]) -> float | None:
    if not findings:
        return None
    remaining = 1.0
    for finding in findings:
        remaining *= 1 - finding.weight
    return round(1 - remaining, 3)


def _rule_finding(name: str, rule: Rule, action: str, text: str) -> Finding:
    if rule.sentiment is None:
        return Finding(name, "rule", action, rule_id=rule.id)
    found = sentiment.analyse(text)
    return Finding(name, "rule", action, rule_id=rule.id, sentiment=found.label, sentiment_score=found.score)


def assess(fields: Mapping[str, str | None], rules: list[Rule], role: str) -> Assessment:
    """``fields``: {wire name: text} of one request (None and empty texts are skipped);
    ``rules``: the active rules of this content type."""
    by_action: dict[str, list[Rule]] = {action: [r for r in rules if r.action == action] for action in ACTIONS}
    rejections: dict[str, str] = {}
    findings: list[Finding] = []
    held: list[str] = []
    priority: str | None = None
    reason: str | None = None
    status = "pending"
    for name, text in fields.items():
        if not text or not text.strip():
            continue
        if any(matches(rule, text, role) for rule in by_action["auto_approve"]):
            continue
        rejecting = next((rule for rule in by_action["auto_reject"] if matches(rule, text, role)), None)
        if rejecting is not None:
            rejections[name] = rejection_sentence(rejecting, text)
            continue
        for rule in by_action["escalate"]:
            if matches(rule, text, role):
                findings.append(_rule_finding(name, rule, "escalate", text))
                held.append(name)
                priority, status = "urgent", "escalated"
                reason = reason or rule.flagged_reason
        for hit in contact_details.find(text):
            findings.append(Finding(name, "contact_details", "flag", kind=hit.kind, match=hit.match[:100]))
            held.append(name)
            priority = higher(priority, "high")
            reason = reason or "spam"
        for rule in by_action["flag"]:
            if matches(rule, text, role):
                findings.append(_rule_finding(name, rule, "flag", text))
                priority = higher(priority, "medium")
                reason = reason or rule.flagged_reason
    if rejections:
        return Assessment(rejections=rejections)
    found = tuple(findings)
    return Assessment(
        findings=found,
        held_fields=tuple(dict.fromkeys(held)),
        priority=priority or "low",
        reason=reason or "other",
        status=status,
        score=score(found),
    )


# --- reports -----------------------------------------------------------------------------------

# A single report's priority by its reason: harassment is a person being hurt now.
_REPORT_BASE = {
    "harassment": "high",
    "inappropriate": "medium",
    "false_claims": "medium",
    "copyright": "medium",
    "spam": "low",
    "other": "low",
}


def report_priority(reports: int, reason: str, *, current: str | None) -> str:
    """The priority of an item once it has ``reports`` reports, the newest for ``reason``:
    2 reports are at least medium, 3 high, 5 urgent; never lower than it was."""
    by_count = "urgent" if reports >= 5 else "high" if reports >= 3 else "medium" if reports >= 2 else "low"
    return higher(higher(current, _REPORT_BASE.get(reason, "low")), by_count)


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_MAX else flat[: EXCERPT_MAX - 1].rstrip() + "\u2026"


# --- what the author reads about their own moderated text ---------------------------------------

STATE_MESSAGES = {
    HELD: "Only you can see this for now: a moderator will look at it before others can, because it seems to "
    "contain contact details or words that need a second look. Keep contact on the platform.",
    HIDDEN: "A moderator hid this: only you can see it. Change it to publish new text.",
}


def marked(state: str, item_id: str) -> str:
    """The value a profile field's moderation attribute stores: ``<state>:<itemId>``, so a
    decision releases only what its own item held or hid."""
    return f"{state}:{item_id}"


def state_of(value: str | None) -> str | None:
    """``held`` / ``hidden`` from a stored value (plain or ``marked``); None: public."""
    if not value:
        return None
    state = value.split(":", 1)[0]
    return state if state in (HELD, HIDDEN) else None


def item_of(value: str | None) -> str | None:
    return value.split(":", 1)[1] if value and ":" in value else None


def state_document(value: str | None) -> dict[str, str] | None:
    """``{state, message}`` for the author's own view; None when the text is public."""
    state = state_of(value)
    return None if state is None else {"state": state, "message": STATE_MESSAGES[state]}
