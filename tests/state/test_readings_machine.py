"""Any sequence of requests, answers, cancellations, starts, completions, deliveries,
no-shows, expiries, disputes and their resolutions, by the right and the wrong people, at
the right and the wrong times, repeated and retried (the same action twice, the same
Idempotency-Key twice), across two clients and two readers, through the services with an
injected clock. Readings are also booked through a suggestion: a client posts a status, a
reader suggests a reading for it (at the listed price or a discount), the client accepts it
(``statuses.accept``); the reading then lives like any requested one, at the suggested price.

After every step: each reading is in the state a simple model predicts, so only
transitions of ``readings.TRANSITIONS`` happened, and every refused call raised the
predicted error and changed nothing; a client's held credits are exactly the prices of its
requested readings (a suggested reading's price when booked through a suggestion) and its
available credits never go below zero; a reader was paid at
most once per reading and its earnings are what it was paid minus what refunds took back;
no refund exceeds the price; and the whole ledger checks out (``ledger_check``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from tests.state.machine import STATE_SETTINGS, ApiStateMachine
from tests.support.readings import MONDAY, QUESTION, TOPIC, make_client, make_reader

GRANT = 150  # two or three readings: then too few credits
COST = {"phone_call": 57, "live_video": 72, "video_message": 40}  # the OPTIONS of tests/support/readings.py
DURATION = {"phone_call": 30, "live_video": 30, "video_message": 15}
# Inside the reader's schedule (Lisbon = UTC in winter): Monday 10:00, 10:15, 10:30 (10:00
# and 10:30 are adjacent, 10:15 overlaps both), Tuesday 10:00, Wednesday 10:00 and 10:15.
STARTS = [MONDAY + timedelta(hours=2), MONDAY + timedelta(hours=2, minutes=15),
          MONDAY + timedelta(hours=2, minutes=30), MONDAY + timedelta(hours=26), MONDAY + timedelta(hours=50),
          MONDAY + timedelta(hours=50, minutes=15)]
ACTIONS = ["accept", "decline", "cancel", "start", "complete", "deliver", "report_no_show", "expire", "dispute",
           "resolve"]
STEPS = ["request"] * 4 + ["progress"] * 4 + ["detour"] * 2 + ["run_timers"] + ["suggestion"] * 8 + ACTIONS
SIDE = {"accept": "reader", "decline": "reader", "start": "reader", "deliver": "reader", "dispute": "client",
        "cancel": "either", "complete": "either", "report_no_show": "either", "expire": "system",
        "resolve": "admin"}
WHO = st.sampled_from(["right"] * 4 + ["wrong", "stranger", "admin"])  # mostly the party the action is for
PICK = st.integers(0, 10_000)
WAITS = st.sampled_from([0] * 10 + [1, 9, 11, 30, 90, 240, 60 * 25])  # minutes passing before a step
FIT = st.sampled_from([True, True, True, False])  # pick among readings the action applies to
RARELY = st.sampled_from([False, False, False, True])
OUTCOMES = st.sampled_from(["reject", "full_refund", "partial_refund"])
AMOUNTS = st.sampled_from([1, 20, "price", "over"])
CATEGORIES = ["love", "career", "spiritual", "general"]  # the catalog's default status categories
ACTIVE_MAX = 3  # chalicelib.domain.statuses.ACTIVE_MAX: a client's active statuses at most
CONTENT = "I keep wondering whether to move abroad for love."
TITLE, DESCRIPTION = "A gentle three-card spread", "We look at the pattern, its root and the way out."


@dataclass
class Model:
    id: str
    client: str
    reader: str
    type: str
    cost: int
    start: datetime | None
    respond_by: datetime
    status: str = "requested"
    captured: bool = False
    accepted_at: datetime | None = None
    due: datetime | None = None  # a video message's delivery deadline
    completed_at: datetime | None = None
    paid: int = 0  # the reader's net payout
    fee: int = 0
    refunded: int = 0  # credits given back to the client after capture
    taken_back: int = 0  # the part of a refund taken from the reader's earnings
    timer: tuple[str, datetime] | None = None
    disputed: bool = False  # disputed once (a rejected dispute leaves it completed)
    version: int = 1  # every write to the reading adds one

    @property
    def end(self) -> datetime | None:
        return self.start + timedelta(minutes=DURATION[self.type]) if self.start else None


@dataclass
class Offer:
    """A suggested reading as the model knows it."""

    id: str
    reader: str
    type: str
    price: int  # what accepting it holds (the listed price or the reader's discount)
    start: datetime | None
    state: str = "active"  # active | accepted | closed (the status closed without it)


@dataclass
class StatusModel:
    id: str
    client: str
    created: datetime
    state: str = "active"  # active | accepted | closed | expired
    offers: list[Offer] = field(default_factory=list)
    accepted: str | None = None  # the accepted suggestion's id
    reading: str | None = None

    def close(self, state: str, accepted: str | None = None) -> None:
        self.state = state
        for offer in self.offers:
            if offer.state == "active":
                offer.state = "accepted" if offer.id == accepted else "closed"


class Refused(Exception):
    """The model's prediction: the call raises ``expected``."""

    def __init__(self, expected: type[Exception], why: str) -> None:
        super().__init__(why)
        self.expected = expected


class Readings(ApiStateMachine):
    def __init__(self) -> None:
        from chalicelib.models.base import iso, utcnow
        from chalicelib.models.users import User

        super().__init__()
        _catalog_ready()
        self.clock = MONDAY
        self.ids = {handle: f"u{self.namespace}{handle}" for handle in ("c1", "c2", "r1", "r2", "adm")}
        for handle in ("c1", "c2"):
            make_client(self.ids[handle], GRANT)
        make_reader(self.ids["r1"], online=True)
        make_reader(self.ids["r2"], online=False)
        User(user_id=self.ids["adm"], role="admin", status="active", created_at=iso(utcnow()),
             updated_at=iso(utcnow())).save()
        self.readings: dict[str, Model] = {}
        self.keys: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}
        self.statuses: dict[str, StatusModel] = {}
        self.moved = False  # credits moved since the ledger was last checked

    # --- the model ----------------------------------------------------------------------

    def pick(self, n: int, action: str, fit: bool = False) -> Model:
        """A reading; with ``fit``, one the action applies to (if there is any)."""
        from chalicelib.services.readings import TRANSITIONS

        candidates = list(self.readings.values())
        if fit:
            candidates = [m for m in candidates if m.status in TRANSITIONS[action].sources] or candidates
        return candidates[n % len(candidates)]

    def who(self, m: Model, actor: str) -> str:
        other_client = self.ids["c2"] if m.client == self.ids["c1"] else self.ids["c1"]
        other_reader = self.ids["r2"] if m.reader == self.ids["r1"] else self.ids["r1"]
        return {"client": m.client, "reader": m.reader, "other_client": other_client, "other_reader": other_reader,
                "admin": self.ids["adm"]}[actor]

    def role(self, user_id: str) -> str:
        return {self.ids["adm"]: "admin", self.ids["r1"]: "reader", self.ids["r2"]: "reader"}.get(user_id, "client")

    def party(self, m: Model, user_id: str) -> str:
        """Who the caller is to the reading, as the service decides (404 for strangers)."""
        from chalicelib.errors import NotFound

        if user_id == m.client:
            return "client"
        if user_id == m.reader:
            return "reader"
        if self.role(user_id) == "admin":
            return "admin"
        raise Refused(NotFound, "not a party")

    @staticmethod
    def legal(m: Model, action: str, actor: str) -> None:
        """TRANSITIONS decides: a forbidden actor is 403, a wrong state 409."""
        from chalicelib.errors import Conflict, Forbidden
        from chalicelib.services.readings import TRANSITIONS

        allowed = TRANSITIONS[action]
        if actor not in allowed.actors:
            raise Refused(Forbidden, f"the {actor} may not {action}")
        if m.status not in allowed.sources:
            raise Refused(Conflict, f"cannot {action} a {m.status} reading")

    @staticmethod
    def answered_in_time(m: Model, now: datetime) -> None:
        """A request past its respond-by time cannot be accepted or declined, job or not."""
        from chalicelib.errors import Conflict

        if m.status == "requested" and now >= m.respond_by:
            raise Refused(Conflict, "the request expired")

    def held(self, client: str) -> int:
        return sum(m.cost for m in self.readings.values() if m.client == client and m.status == "requested")

    def available(self, client: str) -> int:
        mine = [m for m in self.readings.values() if m.client == client]
        return GRANT - self.held(client) - sum(m.cost for m in mine if m.captured) + sum(m.refunded for m in mine)

    def earnings(self, reader: str) -> int:
        return sum(m.paid - m.taken_back for m in self.readings.values() if m.reader == reader)

    def overlaps(self, reader: str, start: datetime, end: datetime) -> bool:
        return any(m.reader == reader and m.start is not None and m.end is not None
                   and m.status not in ("declined", "cancelled", "expired")
                   and m.start < end and start < m.end for m in self.readings.values())

    def close(self, m: Model, status: str, refund: bool = False) -> None:
        m.status, m.timer = status, None
        if refund:
            m.refunded = m.cost

    def paid(self, m: Model, now: datetime) -> None:
        from chalicelib.services import ledger

        m.status, m.completed_at, m.timer = "completed", now, None
        m.fee = ledger.platform_fee(m.cost)
        m.paid = m.cost - m.fee

    # --- a call against its prediction --------------------------------------------------

    def attempt(self, label: str, m: Model | None, predict: Callable[[], Any], call: Callable[[], Any],
                apply: Callable[[Any, Any], None] | None = None, *, moves_credits: bool = True) -> None:
        """``predict()`` returns the expected outcome or raises Refused. A refused call must
        raise exactly the predicted error (and change nothing: the invariants compare every
        reading, its version included, and every balance with the model); an allowed one
        must make a transition of TRANSITIONS, and the model follows it (``apply``)."""
        from chalicelib.errors import DomainError

        source = m.status if m is not None else None
        try:
            expected = predict()
        except Refused as refused:
            try:
                outcome = call()
            except DomainError as exc:
                assert type(exc) is refused.expected, (
                    f"{label}: {refused}: expected {refused.expected.__name__}, got {type(exc).__name__}: {exc}")
            else:
                raise AssertionError(f"{label}: {refused}, yet it succeeded: {outcome!r}") from None
            event(f"{label}: refused ({refused.expected.__name__})")
            return
        outcome = call()
        if m is not None and outcome is not None:
            _check_transition(label, source, outcome.status)  # type: ignore[arg-type]
            m.version += 1
        if apply is not None:
            apply(outcome, expected)
        self.moved = self.moved or moves_credits
        event(f"{label}: ok")

    # --- requests -----------------------------------------------------------------------

    @initialize(kind=st.sampled_from(["phone_call", "live_video", "video_message"]), when=st.sampled_from([None, 0, 4]))
    def a_first_request(self, kind, when):
        start = None if kind == "video_message" or when is None else STARTS[when]
        self.request_as(self.ids["c1"], self.ids["r1"], kind, start, None, QUESTION)

    @rule(what=st.sampled_from(STEPS), wait=WAITS, n=PICK, client=st.sampled_from(["c1", "c2"]),
          reader=st.sampled_from(["r1", "r2"]), kind=st.sampled_from(["phone_call", "live_video", "video_message"]),
          when=st.sampled_from([None, 0, 1, 2, 3, 4, 5]), key=st.sampled_from([None, None, "k1", "k2"]),
          question=st.sampled_from([QUESTION, QUESTION, QUESTION, None]), again=RARELY, fit=FIT, who=WHO,
          flag=st.booleans(), twice=RARELY, outcome=OUTCOMES, amount=AMOUNTS, choice=st.integers(0, 5))
    def step(self, what, wait, n, client, reader, kind, when, key, question, again, fit, who, flag, twice, outcome,
             amount, choice):
        """After ``wait`` minutes: a request, one action, the next step of a reading's happy
        path or another way out of it. (One rule rather than one per action: Hypothesis
        turns whole rules off at random in each example, "swarm testing", which would leave
        most examples without some of the steps a lifecycle needs.)"""
        self.clock += timedelta(minutes=wait)
        if what == "request":
            self.request(client, reader, kind, when, key, question, again, n)
        elif what == "progress":
            self.progress(n, outcome, amount)
        elif what == "detour":
            self.detour(n, choice)
        elif what == "run_timers":
            self.timers_run()
        elif what == "suggestion":
            self.through_a_status(client, reader, kind, when, n, choice, who, twice, again, amount)
        else:
            self.act(what, n, fit, who, flag, twice, outcome, amount)

    def request(self, client: str, reader: str, kind: str, when: int | None, key: str | None,
                question: str | None, again: bool, n: int) -> None:
        """``again``: exactly one made before with an Idempotency-Key (a client's retry), if
        there is one."""
        if again and self.keys:
            (client_id, key), (_, payload) = sorted(self.keys.items())[n % len(self.keys)]
            reader_id, kind, _, start, _, question = payload
            self.request_as(client_id, reader_id, kind, start, key, question)
            return
        start = None if kind == "video_message" or when is None else STARTS[when]
        self.request_as(self.ids[client], self.ids[reader], kind, start, key, question)

    def request_as(self, client: str, reader: str, kind: str, start: datetime | None, key: str | None,
                   question: str | None) -> None:
        from chalicelib.errors import Conflict, InsufficientCredits, ValidationFailed
        from chalicelib.models.users import User
        from chalicelib.services import readings

        now = self.clock
        payload = (reader, kind, DURATION[kind], start, TOPIC, question)

        def predict():
            if key is not None and (client, key) in self.keys:
                reading_id, first = self.keys[(client, key)]
                if first != payload:
                    raise Refused(Conflict, "the key was used for another request")
                return reading_id  # a retry: the first reading, nothing new
            if start is not None and not now + timedelta(minutes=30) <= start <= now + timedelta(days=90):
                raise Refused(ValidationFailed, "too soon or past")
            if question is None:
                raise Refused(ValidationFailed, "no question")
            if start is None and kind != "video_message" and reader == self.ids["r2"]:
                raise Refused(Conflict, "the reader is offline")
            if start is not None and self.overlaps(reader, start, start + timedelta(minutes=DURATION[kind])):
                raise Refused(Conflict, "the slot is taken")
            if self.available(client) < COST[kind]:
                raise Refused(InsufficientCredits, "too few credits")
            return None

        def call():
            return readings.request(User.get(client, consistent_read=True), reader_id=reader, option_type=kind,
                                    option_id=None, duration=DURATION[kind], scheduled_at=start, topic_id=TOPIC,
                                    question=question, idempotency_key=key, now=now)

        def apply(outcome, replayed):
            reading, created = outcome
            if replayed is not None:
                assert (created, reading.reading_id) == (False, replayed)
                return
            assert created and reading.status == "requested" and int(reading.credits_cost) == COST[kind]
            respond_by = _respond_by(kind, start, now)
            m = Model(reading.reading_id, client, reader, kind, COST[kind], start, respond_by,
                      timer=("expire", respond_by))
            self.readings[m.id] = m
            if key is not None:
                self.keys[(client, key)] = (m.id, payload)

        self.attempt("request", None, predict, call, apply)

    # --- booking through a suggestion ---------------------------------------------------

    def other_client(self, client_id: str) -> str:
        return self.ids["c2"] if client_id == self.ids["c1"] else self.ids["c1"]

    def through_a_status(self, client: str, reader: str, kind: str, when: int | None, n: int, choice: int,
                         who: str, twice: bool, again: bool, amount: int | str) -> None:
        """The next step of one of ``client``'s statuses: with none active, post one; else
        accept an active suggestion (``twice``: the same accept again at once; ``again``: at
        a time the client picks), accept any suggestion of theirs (most of closed statuses:
        409), a reader suggests a reading for an active status, the client posts another
        (``twice``: until the limit of active ones refuses one) or closes one, or the expiry
        job runs (``again``: once the oldest active status is past its time). ``who``: the
        right caller or not (for half the accepts and, ``again``, the suggestions: mostly the
        path goes on)."""
        client_id = self.ids[client]
        mine = [s for s in self.statuses.values() if s.client == client_id]
        active = [s for s in mine if s.state == "active"]
        open_offers = [(s, o) for s in active for o in s.offers if o.state == "active"]
        if choice == 5 and (n % 3 == 0 or not active):
            self.expire_statuses(late=again)
        elif choice == 5:
            self.close_status(active[n % len(active)], who)
        elif not active or choice == 4:
            for _ in range(1 + (ACTIVE_MAX - len(active) if twice else 0)):
                self.post_status(client_id, CATEGORIES[n % len(CATEGORIES)])
        elif choice <= 2 and open_offers:
            s, o = open_offers[n % len(open_offers)]
            for _ in range(1 + twice):
                self.accept_suggestion(s, o, who if n % 2 else "right",
                                       STARTS[when] if again and when is not None else None)
        elif choice == 3 and any(s.offers for s in mine):
            s, o = [(s, o) for s in mine for o in s.offers][n % sum(len(s.offers) for s in mine)]
            self.accept_suggestion(s, o, who if n % 2 else "right", None)
        else:
            fresh = [s for s in active if not any(o.reader == self.ids[reader] and o.state == "active"
                                                  for o in s.offers)] or active
            self.suggest_as(fresh[n % len(fresh)], reader, kind, when, amount, who if again else "right")

    def post_status(self, client_id: str, category: str) -> None:
        from chalicelib.errors import BusinessRuleViolation
        from chalicelib.models.statuses import Status
        from chalicelib.models.users import User
        from chalicelib.services import statuses

        now = self.clock

        def predict():
            if sum(1 for s in self.statuses.values() if s.client == client_id and s.state == "active") >= ACTIVE_MAX:
                raise Refused(BusinessRuleViolation, f"{ACTIVE_MAX} active statuses already")

        def apply(outcome, _):
            assert (outcome.state, outcome.user_id) == ("active", client_id)
            self.statuses[outcome.status_id] = StatusModel(outcome.status_id, client_id, now)

        self.attempt("post_status", None, predict,
                     lambda: statuses.create(User.get(client_id), content=CONTENT, mood="hopeful", category=category,
                                             now=now), apply, moves_credits=False)
        stored = {row.status_id for row in Status.by_client.query(client_id)}
        assert stored == {s.id for s in self.statuses.values() if s.client == client_id}  # a refused post wrote none
        self.counted(client_id)

    def suggest_as(self, s: StatusModel, reader: str, kind: str, when: int | None, amount: int | str,
                   who: str) -> None:
        """``amount``: the listed price (by default or sent), a discount, or above it (422);
        ``when``: mostly an immediate reading, else one of the later STARTS (Tuesday, Wednesday:
        they stay ahead of the clock longest, and requests book them too)."""
        from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden, ValidationFailed
        from chalicelib.services import statuses

        caller = {"wrong": s.client, "stranger": self.other_client(s.client)}.get(who, self.ids[reader])
        start = STARTS[when] if kind != "video_message" and when in (3, 4, 5) else None
        price = {"price": None, 1: COST[kind], 20: COST[kind] - 20, "over": COST[kind] + 1}[amount]
        now = self.clock

        def predict():
            if caller == s.client:
                raise Refused(BusinessRuleViolation, "a client does not suggest for their own status")
            if s.state != "active":
                raise Refused(Conflict, "the status is closed")
            if any(o.reader == caller and o.state == "active" for o in s.offers):
                raise Refused(Conflict, "one active suggestion per reader")
            if self.role(caller) != "reader":
                raise Refused(Forbidden, "only approved readers suggest")
            if start is not None and not now + timedelta(minutes=30) <= start <= now + timedelta(days=90):
                raise Refused(ValidationFailed, "too soon or past")
            if start is not None and self.overlaps(caller, start, start + timedelta(minutes=DURATION[kind])):
                raise Refused(Conflict, "the slot is taken")
            if price is not None and price > COST[kind]:
                raise Refused(BusinessRuleViolation, "above the reader's listed price")
            return COST[kind] if price is None else price

        def apply(outcome, offered):
            _, stored = outcome
            assert (stored["readerId"], stored["suggestedPrice"], stored["listedPrice"]) == (
                caller, offered, COST[kind]), stored
            s.offers.append(Offer(stored["id"], caller, kind, offered, start))

        self.attempt("suggest", None, predict,
                     lambda: statuses.suggest(caller, s.id, title=TITLE, description=DESCRIPTION, suggested_type=kind,
                                              option_id=None, duration=DURATION[kind], suggested_price=price,
                                              message="I would love to help.", scheduled_at=start, now=now),
                     apply, moves_credits=False)
        self.status_stored(s)

    def accept_suggestion(self, s: StatusModel, o: Offer, who: str, scheduled_at: datetime | None) -> None:
        """The client books the suggestion: a reading request at its price, exactly as
        ``request_as`` predicts one, and the status closes (its other suggestions too)."""
        from chalicelib.errors import Conflict, InsufficientCredits, NotFound, ValidationFailed
        from chalicelib.models.users import User
        from chalicelib.services import statuses
        from chalicelib.services.statuses.accepting import reading_id_for

        caller = {"wrong": o.reader, "stranger": self.other_client(s.client)}.get(who, s.client)
        start = scheduled_at if scheduled_at is not None else o.start
        now = self.clock

        def predict():
            if caller != s.client:
                raise Refused(NotFound, "not the caller's status")
            if s.state != "active":
                raise Refused(Conflict, "the status is closed")
            if start is not None and o.type == "video_message":
                raise Refused(ValidationFailed, "a video message is not scheduled")
            if start is not None and not now + timedelta(minutes=30) <= start <= now + timedelta(days=90):
                raise Refused(ValidationFailed, "too soon or past")
            if start is None and o.type != "video_message" and o.reader == self.ids["r2"]:
                raise Refused(Conflict, "the reader is offline")
            if start is not None and self.overlaps(o.reader, start, start + timedelta(minutes=DURATION[o.type])):
                raise Refused(Conflict, "the slot is taken")
            if self.available(s.client) < o.price:
                raise Refused(InsufficientCredits, "too few credits")
            return reading_id_for(o.id)

        def apply(outcome, reading_id):
            status, reading = outcome.status, outcome.reading
            assert (reading.reading_id, reading.status, int(reading.credits_cost), reading.client_id) == (
                reading_id, "requested", o.price, s.client)
            assert (status.state, status.reading_id) == ("accepted", reading_id)
            respond_by = _respond_by(o.type, start, now)
            self.readings[reading_id] = Model(reading_id, s.client, o.reader, o.type, o.price, start, respond_by,
                                              timer=("expire", respond_by))
            s.close("accepted", o.id)
            s.accepted, s.reading = o.id, reading_id

        self.attempt("accept_suggestion", None, predict,
                     lambda: statuses.accept(User.get(caller, consistent_read=True), s.id, o.id,
                                             scheduled_at=scheduled_at, now=now), apply)
        self.status_stored(s)

    def close_status(self, s: StatusModel, who: str) -> None:
        from chalicelib.errors import NotFound
        from chalicelib.services import statuses

        caller = self.other_client(s.client) if who == "stranger" else s.client
        now = self.clock

        def predict():
            if caller != s.client:
                raise Refused(NotFound, "not the caller's status")
            return s.state  # closing a closed status changes nothing

        def apply(outcome, state):
            assert outcome.state == ("closed" if state == "active" else state)
            s.close(outcome.state)

        self.attempt("close_status", None, predict, lambda: statuses.close(caller, s.id, now=now), apply,
                     moves_credits=False)
        self.status_stored(s)

    def expire_statuses(self, late: bool) -> None:
        """The expiry job closes exactly the active statuses past their time (no reading)."""
        from chalicelib.services import statuses
        from chalicelib.services.statuses.common import ttl

        waiting = [s.created for s in self.statuses.values() if s.state == "active"]
        if late and waiting:
            self.clock = max(self.clock, min(waiting) + ttl())
        now = self.clock
        due = [s for s in self.statuses.values() if s.state == "active" and s.created <= now - ttl()]
        assert statuses.expire_due(now=now) == len(due)
        for s in due:
            s.close("expired")
        for s in due:
            self.status_stored(s)
        event("status expiry: closed some" if due else "status expiry: nothing due")

    def status_stored(self, s: StatusModel) -> None:
        """The stored status is what the model says (a refused call changed nothing), and
        so is its client's count of active statuses."""
        from chalicelib.models.statuses import Status

        stored = Status.get(s.id, consistent_read=True)
        offers = {x["id"]: x["state"] for x in stored.suggestion_list()}
        assert (stored.state, offers, stored.accepted_suggestion_id, stored.reading_id) == (
            s.state, {o.id: o.state for o in s.offers}, s.accepted, s.reading), s
        assert (stored.feed_category is not None) == (s.state == "active"), s  # in the readers' feed while active
        self.counted(s.client)

    def counted(self, client_id: str) -> None:
        from chalicelib.models.statuses import StatusCounter, counter_key

        try:
            active = int(StatusCounter.get(counter_key(client_id), consistent_read=True).active)
        except StatusCounter.DoesNotExist:
            active = 0
        expected = sum(1 for s in self.statuses.values() if s.client == client_id and s.state == "active")
        assert active == expected <= ACTIVE_MAX, (active, expected)

    # --- the lifecycle ------------------------------------------------------------------

    def act(self, action: str, n: int, fit: bool, who: str, flag: bool, twice: bool, outcome: str,
            amount: int | str) -> None:
        """``action`` on a reading (with ``fit``, one in a state it applies to) by the party
        it is for, the other party, a stranger or an admin; ``flag``: on time / late, or
        which side for actions either side may take; ``twice``: the same call again at once."""
        m = self.pick(n, action, fit)
        right = SIDE[action] if SIDE[action] != "either" else ("client" if flag else "reader")
        actor = {"right": right, "wrong": "client" if right == "reader" else "reader",
                 "stranger": "other_client" if flag else "other_reader", "admin": "admin"}[who]
        for _ in range(1 + twice):
            if action == "accept":
                self.accept_as(m, actor)
            elif action == "decline":
                self.decline_as(m, actor)
            elif action == "cancel":
                self.cancel_as(m, actor)
            elif action == "start":
                self.start_as(m, actor, on_time=flag)
            elif action == "complete":
                self.complete_as(m, actor)
            elif action == "deliver":
                self.deliver_as(m, actor, own=n % 5 != 0, uploaded=n % 4 != 0)  # mostly a real upload of theirs
            elif action == "report_no_show":
                self.no_show_as(m, actor, late=n % 2 == 0)
            elif action == "expire":
                self.expire_now(m, late=flag)
            elif action == "dispute":
                self.dispute_as(m, actor, late=n % 5 == 0)
            else:
                self.resolve_as(m, outcome, amount)

    def progress(self, n: int, outcome: str, amount: int | str) -> None:
        """The next step of the happy path for one reading still moving (so that some get
        as far as a dispute's resolution within a short run)."""
        moving = [m for m in self.readings.values() if m.status not in (
            "declined", "cancelled", "expired", "refunded")] or list(self.readings.values())
        m = moving[n % len(moving)]
        if m.status == "requested":
            self.accept_as(m, "reader")
        elif m.status == "accepted" and m.type == "video_message":
            self.deliver_as(m, "reader", own=True, uploaded=True)
        elif m.status == "accepted":
            self.start_as(m, "reader", on_time=True)
        elif m.status == "in_progress":
            self.complete_as(m, "client")
        elif m.status == "completed":
            self.dispute_as(m, "client", late=False)
        elif m.status == "disputed":
            self.resolve_as(m, outcome, amount)

    def detour(self, n: int, choice: int) -> None:
        """Another way out for one reading still moving, by the party it is for."""
        moving = [m for m in self.readings.values() if m.status not in (
            "declined", "cancelled", "expired", "refunded")] or list(self.readings.values())
        m = moving[n % len(moving)]
        if m.status == "requested":
            [lambda: self.decline_as(m, "reader"), lambda: self.cancel_as(m, "client"),
             lambda: self.expire_now(m, late=True), lambda: self.cancel_as(m, "reader")][choice % 4]()
        elif m.status == "accepted" and choice < 4:  # the cancellation policy
            self.cancel_as(m, "reader" if choice == 3 else "client")
        elif m.status in ("accepted", "in_progress"):
            self.no_show_as(m, ["client", "reader"][choice % 2], late=choice != 4)
        elif m.status == "completed":
            self.dispute_as(m, "client", late=choice >= 4)
        elif m.status == "disputed":
            self.resolve_as(m, "partial_refund", ["over", 1, 20][choice % 3])

    def timers_run(self) -> None:
        from chalicelib.services import readings

        now = self.clock
        expiring = [m for m in self.readings.values() if m.status == "requested" and m.respond_by <= now]
        due = [m for m in self.readings.values() if m.timer and m.timer[0] != "expire" and m.timer[1] <= now]
        counts = readings.run_timers(now=now)
        kinds = Counter(m.timer[0] for m in due if m.timer)
        assert counts == {"expired": len(expiring), "reminded": kinds["remind"], "overdue": kinds["deliver_due"]}
        for m in expiring:
            self.close(m, "expired")
            m.version += 1
        for m in due:
            m.timer, m.version = None, m.version + 1  # each reminder and overdue flag once
        self.moved = self.moved or bool(expiring)
        event("timers: acted" if any(counts.values()) else "timers: nothing due")

    # --- the actions, predicted -----------------------------------------------------------

    def accept_as(self, m: Model, actor: str) -> None:
        from chalicelib.services import readings

        user_id, now = self.who(m, actor), self.clock

        def apply(outcome, _):
            m.status, m.captured, m.accepted_at = "accepted", True, now
            if m.type == "video_message":
                m.due = now + timedelta(hours=72)
                m.timer = ("deliver_due", m.due)
            elif m.start is not None:
                m.timer = ("remind", max(m.start - timedelta(hours=1), now))
            else:
                m.timer = None

        def predict():
            self.legal(m, "accept", self.party(m, user_id))
            self.answered_in_time(m, now)

        self.attempt("accept", m, predict, lambda: readings.accept(m.id, user_id, self.role(user_id), now=now), apply)

    def decline_as(self, m: Model, actor: str) -> None:
        from chalicelib.services import readings

        user_id, now = self.who(m, actor), self.clock
        def predict():
            self.legal(m, "decline", self.party(m, user_id))
            self.answered_in_time(m, now)

        self.attempt("decline", m, predict,
                     lambda: readings.decline(m.id, user_id, self.role(user_id), reason="Fully booked", now=now),
                     lambda outcome, _: self.close(m, "declined"))

    def cancel_as(self, m: Model, actor: str) -> None:
        from chalicelib.errors import BusinessRuleViolation
        from chalicelib.services import readings

        user_id, now = self.who(m, actor), self.clock

        def predict():
            party = self.party(m, user_id)
            self.legal(m, "cancel", party)
            if m.status == "requested":  # released; a reader "cancelling" a request declines it
                if party == "reader":
                    self.answered_in_time(m, now)
                return "declined" if party == "reader" else "cancelled"
            if party == "client":
                late_message = m.due is not None and now > m.due
                early = m.start is not None and m.start - now >= timedelta(hours=24)
                if not (late_message or early):
                    raise Refused(BusinessRuleViolation, "inside the cancellation window")
            return "cancelled"  # refunded in full

        def apply(outcome, target):
            assert outcome.status == target
            self.close(m, target, refund=m.status == "accepted")

        self.attempt("cancel", m, predict,
                     lambda: readings.cancel(m.id, user_id, self.role(user_id), reason=None, now=now), apply)

    def start_as(self, m: Model, actor: str, on_time: bool) -> None:
        from chalicelib.errors import BusinessRuleViolation
        from chalicelib.services import readings

        if on_time and m.start is not None and m.status == "accepted":
            self.clock = max(self.clock, m.start - timedelta(minutes=5))
        user_id, now = self.who(m, actor), self.clock

        def predict():
            self.legal(m, "start", self.party(m, user_id))
            if m.type == "video_message":
                raise Refused(BusinessRuleViolation, "a video message is not started")
            if m.start is not None and now < m.start - timedelta(minutes=10):
                raise Refused(BusinessRuleViolation, "too early")

        def apply(outcome, _):
            m.status, m.timer = "in_progress", None

        self.attempt("start", m, predict, lambda: readings.start(m.id, user_id, self.role(user_id), now=now), apply,
                     moves_credits=False)

    def complete_as(self, m: Model, actor: str) -> None:
        from chalicelib.services import readings

        user_id, now = self.who(m, actor), self.clock
        self.attempt("complete", m, lambda: self.legal(m, "complete", self.party(m, user_id)),
                     lambda: readings.complete(m.id, user_id, self.role(user_id), now=now),
                     lambda outcome, _: self.paid(m, now))

    def deliver_as(self, m: Model, actor: str, own: bool, uploaded: bool) -> None:
        from chalicelib.errors import Forbidden, ValidationFailed
        from chalicelib.ids import new_id
        from chalicelib.services import media, readings

        owner = m.reader if own else (self.ids["r2"] if m.reader == self.ids["r1"] else self.ids["r1"])
        key = f"media/{owner}/video_message/{new_id()}.mp4"
        if uploaded:
            boto3.client("s3").put_object(Bucket=media._bucket(), Key=key, Body=b"\x00\x00\x00\x18ftypmp42",
                                          ContentType="video/mp4")
        user_id, now = self.who(m, actor), self.clock

        def predict():
            if self.party(m, user_id) != "reader":
                raise Refused(Forbidden, "only the reader delivers")
            if m.type != "video_message":
                raise Refused(ValidationFailed, "a call is not delivered as a file")
            self.legal(m, "deliver", "reader")
            if not (own and uploaded):
                raise Refused(ValidationFailed, "not an upload of the reader's")

        self.attempt("deliver", m, predict,
                     lambda: readings.deliver(m.id, user_id, self.role(user_id), upload_key=key, now=now),
                     lambda outcome, _: self.paid(m, now))

    def no_show_as(self, m: Model, actor: str, late: bool) -> None:
        from chalicelib.errors import BusinessRuleViolation
        from chalicelib.services import readings

        begins = m.start or m.accepted_at
        if late and begins is not None and m.status in ("accepted", "in_progress"):
            self.clock = max(self.clock, begins + timedelta(minutes=15))
        user_id, now = self.who(m, actor), self.clock

        def predict():
            party = self.party(m, user_id)
            self.legal(m, "report_no_show", party)
            if m.type == "video_message":
                raise Refused(BusinessRuleViolation, "no appointment to miss")
            if begins is None or now < begins + timedelta(minutes=15):
                raise Refused(BusinessRuleViolation, "too early")
            return party

        def apply(outcome, party):
            if party == "client":  # the reader did not come: refunded in full
                self.close(m, "refunded", refund=True)
            else:  # the client did not come: the reader is paid
                self.paid(m, now)
            assert outcome.status == m.status

        self.attempt("no_show", m, predict,
                     lambda: readings.report_no_show(m.id, user_id, self.role(user_id), now=now), apply)

    def expire_now(self, m: Model, late: bool) -> None:
        from chalicelib.services import readings

        if late:
            self.clock = max(self.clock, m.respond_by + timedelta(seconds=1))
        now = self.clock

        def apply(outcome, expires):
            assert (outcome is not None) == expires, (outcome, m.status, now, m.respond_by)
            if expires:
                self.close(m, "expired")

        self.attempt("expire", m, lambda: m.status == "requested" and now >= m.respond_by,
                     lambda: readings.expire(m.id, now=now), apply)

    def dispute_as(self, m: Model, actor: str, late: bool) -> None:
        from chalicelib.errors import BusinessRuleViolation, Conflict
        from chalicelib.services import readings

        if late and m.completed_at is not None:
            self.clock = max(self.clock, m.completed_at + timedelta(days=14, minutes=1))
        user_id, now = self.who(m, actor), self.clock

        def predict():
            self.legal(m, "dispute", self.party(m, user_id))
            if m.disputed:
                raise Refused(Conflict, "disputed once already")
            if now - m.completed_at > timedelta(days=14):  # type: ignore[operator]
                raise Refused(BusinessRuleViolation, "the dispute window closed")

        def apply(outcome, _):
            m.status, m.disputed = "disputed", True

        self.attempt("dispute", m, predict,
                     lambda: readings.open_dispute(m.id, user_id, self.role(user_id), reason="Not as promised",
                                                   now=now), apply, moves_credits=False)

    def resolve_as(self, m: Model, outcome: str, amount: int | str) -> None:
        from chalicelib.errors import ValidationFailed
        from chalicelib.services import readings

        now = self.clock
        credits: int | None = None  # a partial refund's amount
        if outcome == "partial_refund":
            credits = m.cost if amount == "price" else m.cost + 1 if amount == "over" else int(amount)

        def predict():
            self.legal(m, "resolve", "admin")
            if outcome == "reject":
                return 0
            refund = m.cost if outcome == "full_refund" else int(credits or 0)
            if not 1 <= refund <= m.cost:
                raise Refused(ValidationFailed, "a refund is at most the price")
            return refund

        def apply(result, refund):
            if not refund:  # rejected: completed again
                m.status = "completed"
                return
            # Taken back in proportion: the platform's fee share, the rest from the reader
            # (never more than the reader was paid).
            fee_share = m.fee * refund // m.cost
            m.status, m.refunded, m.taken_back = "refunded", refund, min(refund - fee_share, m.paid)
            assert result.status == "refunded"

        self.attempt("resolve", m, predict,
                     lambda: readings.resolve_dispute(m.id, self.ids["adm"], outcome=outcome, amount=credits,
                                                      note="Reviewed", now=now), apply)

    # --- invariants ---------------------------------------------------------------------
    # Every example starts with empty tables (teardown), so a Scan reads only its own items.

    @invariant()
    def readings_are_where_the_model_says(self):
        from chalicelib.models.readings import Reading
        from chalicelib.services.readings import tab_of

        stored = {r.reading_id: r for r in Reading.scan(consistent_read=True)}
        assert set(stored) == set(self.readings)  # a refused request wrote no reading
        for reading_id, m in self.readings.items():
            r = stored[reading_id]
            assert (r.status, int(r.version), int(r.refunded or 0), int(r.paid_out or 0)) == (
                m.status, m.version, m.refunded, m.paid), m
            assert int(r.refunded or 0) <= int(r.credits_cost)
            assert (r.timer, r.timer_at) == ((m.timer[0], _iso(m.timer[1])) if m.timer else (None, None)), m
            tab = tab_of(m.status)  # the list (GET /readings) each side sees it in
            assert (r.client_tab, r.reader_tab) == (f"{m.client}#{tab}", f"{m.reader}#{tab}"), m

    @invariant()
    def balances_follow_the_readings(self):
        from chalicelib.models.users import User

        users = {u.user_id: u for u in User.batch_get([self.ids[h] for h in ("c1", "c2", "r1", "r2")])}
        for handle in ("c1", "c2"):
            user = users[self.ids[handle]]
            available, held = int(user.credits_available or 0), int(user.credits_held or 0)
            assert available >= 0
            assert held == self.held(user.user_id), handle
            assert available == self.available(user.user_id), handle
        for handle in ("r1", "r2"):
            earnings = int(users[self.ids[handle]].credits_earnings or 0)
            assert earnings == self.earnings(self.ids[handle]) >= 0, handle

    @invariant()
    def paid_at_most_once_and_refunds_within_the_price(self):
        from chalicelib.models.ledger import LedgerLine

        payouts: Counter[tuple[str, str]] = Counter()
        refunds: Counter[str] = Counter()
        for line in LedgerLine.scan(consistent_read=True):
            if line.kind == "payout":
                payouts[(line.owner, line.ref)] += 1
            elif line.kind == "refund" and line.owner in (self.ids["c1"], self.ids["c2"]):
                refunds[line.ref] += int(line.changes.as_dict()["available"])
        assert all(count == 1 for count in payouts.values()), payouts
        assert set(payouts) == {(m.reader, m.id) for m in self.readings.values() if m.paid}
        for reading_id, total in refunds.items():
            assert total == self.readings[reading_id].refunded <= self.readings[reading_id].cost

    @invariant()
    def the_ledger_checks_out(self):
        """After every step that moved credits. (A refused step is shown above to change no
        balance and no reading; and the check is cumulative: the next one, or teardown's,
        would still see anything it wrote.)"""
        if self.moved:
            self.moved = False
            _ledger_ok()

    def teardown(self):
        try:
            _ledger_ok()
        finally:
            _empty_tables()


def _check_transition(label: str, source: str, target: str) -> None:
    from chalicelib.services.readings import TRANSITIONS

    action = {"no_show": "report_no_show"}.get(label, label)
    if label == "cancel" and source == "requested" and target == "declined":
        action = "decline"  # a reader cancelling a request declines it
    allowed = TRANSITIONS[action]
    assert source in allowed.sources and target in allowed.targets, (label, source, target)


def _respond_by(kind: str, start: datetime | None, now: datetime) -> datetime:
    """When a new request expires unanswered: a day for a video message, 10 minutes for an
    immediate call, a day at most for a scheduled one (and never after its start)."""
    if kind == "video_message":
        return now + timedelta(hours=24)
    if start is None:
        return now + timedelta(minutes=10)
    return min(now + timedelta(hours=24), start)


def _iso(moment: datetime) -> str:
    from chalicelib.models.base import iso

    return iso(moment)


def _catalog_ready() -> None:
    from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
    from chalicelib.services import catalog, catalog_defaults

    try:
        CatalogItem.get(CATALOG_PARTITION, "time_span#30-min")
    except CatalogItem.DoesNotExist:
        catalog.upsert(catalog_defaults.default_items())


def _ledger_ok() -> None:
    from chalicelib.services import ledger_check

    report = ledger_check.run()
    assert report.ok, report.lines()


def _empty_tables() -> None:
    """Delete every item an example wrote (all but the catalog): moto copies the whole of
    each table a transaction touches, so small tables keep the run fast."""
    from chalicelib.models.audit import AuditRecord
    from chalicelib.models.ledger import LedgerEntry, LedgerLine, SystemAccount
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.readings import Reading, ReadingSlot
    from chalicelib.models.statuses import Status
    from chalicelib.models.users import User

    for model in (Reading, ReadingSlot, User, ReaderProfile, LedgerEntry, LedgerLine, SystemAccount, OutboxEvent,
                  AuditRecord, Status):  # Status: the statuses and the clients' counters (one table)
        items = list(model.scan())
        if items:
            with model.batch_write() as batch:
                for item in items:
                    batch.delete(item)


Readings.TestCase.settings = settings(STATE_SETTINGS, max_examples=12, stateful_step_count=30)
TestReadings = Readings.TestCase
