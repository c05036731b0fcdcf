"""The readings' transitions, as data: who may do what, from which states, to which, for
which reading types, with which money movement and event, and the words every refusal is
built from. ``lifecycle.execute`` is the one function that carries a step out.

An action has one or more steps; the step is chosen by the reading's state, the actor and
(for a dispute's resolution) the outcome. Money per step (shared/DESIGN.md):

  capture     held -> platform revenue (the reader accepted)
  release     held -> available (declined, cancelled or expired before acceptance)
  refund      back to the client: from revenue, or (a resolved dispute) from the reader's
              earnings and the platform fee in proportion
  pay_reader  revenue -> the reader's earnings minus the platform fee
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.readings import LIVE_TYPES, READING_TYPES

ACTORS = ("client", "reader", "admin", "system")
MONEY = ("capture", "release", "refund", "pay_reader")

# The words of refusals: a status as a noun phrase with its article, an actor, a type.
STATUS_PHRASE = {
    "requested": "a requested reading", "accepted": "an accepted reading", "declined": "a declined reading",
    "in_progress": "a reading in progress", "completed": "a completed reading", "disputed": "a disputed reading",
    "refunded": "a refunded reading", "cancelled": "a cancelled reading", "expired": "an expired reading",
}
ACTOR_PHRASE = {"client": "the client", "reader": "the reader", "admin": "an admin", "system": "the system"}
TYPE_PHRASE = {"phone_call": "a phone call", "video_message": "a video message", "live_video": "a live video"}

ALL = frozenset(READING_TYPES)
LIVE = frozenset(LIVE_TYPES)
MESSAGE = frozenset({"video_message"})


@dataclass(frozen=True)
class Step:
    """One way an action moves a reading: from ``sources``, by ``actors``, to ``target``."""

    sources: frozenset[str]
    actors: frozenset[str]
    target: str
    money: str | None  # one of MONEY, or None
    event: str
    memo: str | None = None  # the ledger line's memo (what the parties see in GET /credits)
    outcome: str | None = None  # resolve: the outcome this step carries out


@dataclass(frozen=True)
class Action:
    name: str
    verb: str  # "Only the reader can {verb} a reading."
    past: str  # "A requested reading cannot be {past}."
    types: frozenset[str]
    steps: tuple[Step, ...]
    refusal: str = "{reading} cannot be {past}."

    @property
    def actors(self) -> frozenset[str]:
        return frozenset().union(*(step.actors for step in self.steps))

    @property
    def sources(self) -> frozenset[str]:
        return frozenset().union(*(step.sources for step in self.steps))

    @property
    def targets(self) -> frozenset[str]:
        return frozenset(step.target for step in self.steps)

    def step(self, source: str, actor: str, outcome: str | None = None) -> Step:
        for step in self.steps:
            if source in step.sources and actor in step.actors and step.outcome == outcome:
                return step
        raise LookupError(f"{self.name}: no step from {source} by {actor} ({outcome})")

    # --- messages -----------------------------------------------------------------------

    def forbidden(self) -> str:
        """Said to a party the action is not for."""
        who = sorted(self.actors, key=ACTORS.index)
        return sentence(f"only {' or '.join(ACTOR_PHRASE[a] for a in who)} can {self.verb} a reading.")

    def wrong_state(self, status: str) -> str:
        """Said when the reading's state does not allow it."""
        return sentence(self.refusal.format(reading=STATUS_PHRASE[status], past=self.past))

    def wrong_type(self, reading_type: str) -> str:
        return sentence(f"{TYPE_PHRASE[reading_type]} cannot be {self.past}.")

    def expired(self, respond_by: str) -> str:
        """Said when a request is answered after its deadline (the timers job has not run yet)."""
        return f"This request expired at {respond_by}; it can no longer be {self.past}."


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _step(sources: set[str], actors: set[str], target: str, money: str | None, event: str, memo: str | None = None,
          outcome: str | None = None) -> Step:
    return Step(frozenset(sources), frozenset(actors), target, money, event, memo, outcome)


_LIVE_STATES = {"accepted", "in_progress"}

TRANSITIONS: dict[str, Action] = {action.name: action for action in (
    Action("accept", "accept", "accepted", ALL, (
        _step({"requested"}, {"reader"}, "accepted", "capture", "reading.accepted", "Reading accepted"),)),
    Action("decline", "decline", "declined", ALL, (
        _step({"requested"}, {"reader"}, "declined", "release", "reading.declined", "Reading declined"),)),
    Action("cancel", "cancel", "cancelled", ALL, (
        _step({"requested"}, {"client"}, "cancelled", "release", "reading.cancelled", "Reading cancelled"),
        # A reader "cancelling" a request declines it.
        _step({"requested"}, {"reader"}, "declined", "release", "reading.declined", "Reading declined"),
        _step({"accepted"}, {"client", "reader"}, "cancelled", "refund", "reading.cancelled",
              "Accepted reading cancelled"))),
    Action("start", "start", "started", LIVE, (
        _step({"accepted"}, {"reader"}, "in_progress", None, "reading.started"),)),
    Action("complete", "complete", "completed", LIVE, (
        _step({"in_progress"}, {"client", "reader"}, "completed", "pay_reader", "reading.completed",
              "Reading completed"),)),
    Action("deliver", "deliver", "delivered", MESSAGE, (
        _step({"accepted"}, {"reader"}, "completed", "pay_reader", "reading.delivered", "Video message delivered"),)),
    Action("report_no_show", "report a no-show on", "reported as a no-show", LIVE, (
        _step(_LIVE_STATES, {"client"}, "refunded", "refund", "reading.no_show", "Reader did not show up"),
        _step(_LIVE_STATES, {"reader"}, "completed", "pay_reader", "reading.no_show", "Client did not show up"))),
    Action("expire", "expire", "expired", ALL, (
        _step({"requested"}, {"system"}, "expired", "release", "reading.expired", "Reading expired"),)),
    Action("dispute", "dispute", "disputed", ALL, (
        _step({"completed"}, {"client"}, "disputed", None, "dispute.filed"),)),
    Action("resolve", "resolve the dispute about", "resolved", ALL, (
        _step({"disputed"}, {"admin"}, "refunded", "refund", "dispute.resolved", "Dispute resolved: full refund",
              outcome="full_refund"),
        _step({"disputed"}, {"admin"}, "refunded", "refund", "dispute.resolved", "Dispute resolved: partial refund",
              outcome="partial_refund"),
        _step({"disputed"}, {"admin"}, "completed", None, "dispute.resolved", outcome="reject")),
        refusal="{reading} has no open dispute to resolve."),
)}
OUTCOMES = ("full_refund", "partial_refund", "reject")
