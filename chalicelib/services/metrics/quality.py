"""Reader quality: the window's rates, profile completeness and activity, a status, and the
warnings the ``reader_insights`` job opens and resolves (rules and thresholds:
chalicelib/domain/quality.py).

Inputs, per reader (``measure``): the day buckets of the last ``WINDOW_DAYS`` local days
(services/metrics/reader.py's counters, one Query), the profile (one projected GetItem) and
the reader's ``quality`` item (the last evaluation). From the counters:

- response time: ``responseSeconds / responses`` (request -> accept or decline), minutes;
- cancellation rate: ``cancelledByReader / accepted``;
- dispute rate: ``disputes / completed``;
- no-show rate: ``noShows / accepted``. ``noShows`` counts only the reader's own no-shows
  (the client reported the reader absent and was refunded; a client's no-show reported by
  the reader completes and pays the reading instead). ``accepted`` counts every accepted
  reading, video messages included (the counters do not split them by type), so for a
  reader who also records messages the rate reads low;
- late-start rate (punctuality): ``lateStarts / scheduledStarts``. Only scheduled live
  readings count (``reading.started`` carries the scheduled time, the start and
  ``lateSeconds``; an immediate reading has none and is not counted), on the local day of
  the start; a start more than ``rules.LATE_AFTER`` after its time is late. A scheduled
  reading never started is not in it: it is a no-show or a cancellation, judged there.
  Starts before the event carried its scheduled time (older events) are not counted.

Items in the metrics table, under ``reader#<readerId>``:
- ``quality``: the last evaluation (status and since when, the metrics as shown, the last
  completed day seen, the pending recheck);
- ``warning#<kind>``: one per kind, ``open`` -> ``acknowledged`` -> ``resolved``; a new
  episode reuses the item (new ``warningId``) and moves the previous one to ``history``.
And ``quality#<status>`` / ``<readerId>`` for the listed statuses (at_risk,
needs_improvement): the admins' list, one Query per page (moved in the evaluation's
transaction); ``quality#recheck`` / ``<date>#<readerId>``: the day the result can change
without any event (the oldest counted day leaves the window, an inactivity limit passes);
the daily ``reader_quality_recheck`` job marks those readers for the insights job.

An evaluation writes only what changed, in one transaction conditional on what it read, so a
second run on the same tick (or a concurrent one) changes nothing and each warning opens,
resolves and notifies once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import quality as rules
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.metrics import MetricItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.services import outbox
from chalicelib.services.metrics import reader, store
from chalicelib.services.metrics.periods import local_date
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

if TYPE_CHECKING:
    from chalicelib.services.metrics.insights import ReaderInsight

OPENED = "quality.warning_opened"
RESOLVED = "quality.warning_resolved"
OPEN, ACKNOWLEDGED, CLOSED = "open", "acknowledged", "resolved"
ACTIVE = (OPEN, ACKNOWLEDGED)
RECHECK = "quality#recheck"
HISTORY = 10  # past episodes kept on a warning item
PROFILE_FIELDS = ["readerId", "displayName", "profileImage", "tagline", "bio", "readingOptions", "availability",
                  "attributes", "lastSeenAt"]
METRIC = {rules.RESPONSE_TIME: "responseTime", rules.CANCELLATION: "cancellationRate",
          rules.DISPUTE: "disputeRate", rules.NO_SHOW: "noShowRate", rules.LATE_START: "lateStartRate"}
JUDGED = ("accepted", "completed", "responses", "disputes", "cancelledByReader", "noShows", "scheduledStarts",
          "lateStarts")


class Snapshot(MetricItem):
    """``quality``: the reader's last evaluation."""

    status = UnicodeAttribute(null=True)
    since = UnicodeAttribute(null=True)
    metrics = UnicodeAttribute(null=True)  # JSON: the metrics as GET /reader/quality shows them
    last_completed_on = UnicodeAttribute(null=True, attr_name="lastCompletedOn")
    recheck_sk = UnicodeAttribute(null=True, attr_name="recheckSk")
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")


class Listed(MetricItem):
    """``quality#<status>`` / ``<readerId>``: one line of the admins' list."""

    reader_id = UnicodeAttribute(null=True, attr_name="readerId")
    display_name = UnicodeAttribute(null=True, attr_name="displayName")
    status = UnicodeAttribute(null=True)
    since = UnicodeAttribute(null=True)
    metrics = UnicodeAttribute(null=True)
    warnings: ListAttribute[Any] = ListAttribute(null=True)  # kinds of the open warnings
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")


class Warning(MetricItem):
    """``warning#<kind>``: the reader's current (or last) warning of that kind."""

    warning_id = UnicodeAttribute(null=True, attr_name="warningId")
    kind = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    value = NumberAttribute(null=True)
    threshold = NumberAttribute(null=True)
    title = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    opened_at = UnicodeAttribute(null=True, attr_name="openedAt")
    acknowledged_at = UnicodeAttribute(null=True, attr_name="acknowledgedAt")
    resolved_at = UnicodeAttribute(null=True, attr_name="resolvedAt")
    episode = NumberAttribute(null=True)  # 1 for the first warning of this kind, then 2, 3...
    history: ListAttribute[Any] = ListAttribute(null=True)  # past episodes, newest first

    def document(self) -> dict[str, Any]:
        return {"id": self.warning_id, "kind": self.kind, "state": self.state, "value": _number(self.value),
                "threshold": _number(self.threshold), "title": self.title, "message": self.message,
                "openedAt": self.opened_at, "acknowledgedAt": self.acknowledged_at, "resolvedAt": self.resolved_at}


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    status: str
    metrics: dict[str, Any]
    rates: dict[str, rules.Judged]
    last_completed_on: date | None
    recheck_on: date | None


def completeness(profile: ReaderProfile) -> tuple[float, list[str]]:
    """The share of ``rules.PROFILE_PARTS`` the profile has, and the missing ones: a picture, a
    tagline, a bio, an active reading option, availability (a timezone and a weekly slot or
    instant booking), attributes (a tool, an ability and a style)."""
    availability = plain(profile.availability) or {}
    attributes = plain(profile.attributes) or {}
    options = plain(profile.reading_options) or []
    has = {
        "picture": bool(profile.profile_image),
        "tagline": bool((profile.tagline or "").strip()),
        "bio": bool((profile.bio or "").strip()),
        "readingOptions": any(option.get("isActive", True) for option in options),
        "availability": bool(availability.get("timezone")) and (
            any((availability.get("schedule") or {}).values()) or bool(availability.get("instantBooking"))),
        "attributes": all(attributes.get(part) for part in ("tools", "abilities", "style")),
    }
    missing = [part for part in rules.PROFILE_PARTS if not has[part]]
    return round(1 - len(missing) / len(rules.PROFILE_PARTS), 4), missing


def measure(profile: ReaderProfile, days: list[dict[str, Any]], today: date, *,
            last_completed_before: date | None) -> Measured:
    """The metrics and status from the window's day buckets (no I/O)."""
    first = today - timedelta(days=rules.WINDOW_DAYS - 1)
    inside = [b for b in days if first <= date.fromisoformat(b["sk"][4:]) <= today]

    def n(name: str) -> int | float:
        return sum(b.get(name, 0) for b in inside)

    rates = {rules.RESPONSE_TIME: rules.average_minutes(n("responseSeconds"), n("responses")),
             rules.CANCELLATION: rules.rate(n("cancelledByReader"), n("accepted")),
             rules.DISPUTE: rules.rate(n("disputes"), n("completed")),
             rules.NO_SHOW: rules.rate(n("noShows"), n("accepted")),
             rules.LATE_START: rules.rate(n("lateStarts"), n("scheduledStarts"))}
    score, missing = completeness(profile)
    completed_days = [date.fromisoformat(b["sk"][4:]) for b in inside if b.get("completed", 0) > 0]
    last_completed = max(completed_days, default=last_completed_before)
    seen = local_date(reader.parse(profile.last_seen_at), _timezone(profile)) if profile.last_seen_at else None
    # A heartbeat stamped after ``today`` (the clock of a late run) counts as today.
    last_active = min(max((d for d in (last_completed, seen) if d is not None), default=today), today) \
        if (last_completed or seen) else None
    inactive = (today - last_active).days if last_active else None
    status = rules.status(rates, score, inactive, int(n("completed")))
    metrics = {
        "window": {"from": first.isoformat(), "to": today.isoformat(), "days": rules.WINDOW_DAYS},
        **{METRIC[kind]: shown_rate(kind, judged) for kind, judged in rates.items()},
        "profileCompleteness": {"value": score, "missing": missing},
        "activity": {"lastCompletedOn": last_completed.isoformat() if last_completed else None,
                     "lastSeenAt": profile.last_seen_at, "daysInactive": inactive},
        "completedReadings": int(n("completed")),
    }
    return Measured(status, metrics, rates, last_completed, _recheck_on(inside, last_active, today))


def shown_rate(kind: str, judged: rules.Judged) -> dict[str, Any]:
    """One rate as GET /reader/quality shows it: value, sample and thresholds."""
    return {"value": judged.value, "sample": judged.sample, "minimumSample": rules.MIN_SAMPLE,
            "threshold": rules.WARN[kind], "atRiskAbove": rules.AT_RISK_ABOVE[kind]}


def _recheck_on(inside: list[dict[str, Any]], last_active: date | None, today: date) -> date | None:
    """The first day after today on which the result can change without an event: the
    oldest counted day leaves the window, or an inactivity limit passes."""
    counted = [date.fromisoformat(b["sk"][4:]) for b in inside if any(b.get(name) for name in JUDGED)]
    candidates = [min(counted) + timedelta(days=rules.WINDOW_DAYS)] if counted else []
    if last_active is not None:
        candidates += [last_active + timedelta(days=limit + 1)
                       for limit in (rules.EXCELLENT_ACTIVE_WITHIN_DAYS, rules.INACTIVE_AFTER_DAYS)]
    return min((d for d in candidates if d > today), default=None)


def _timezone(profile: ReaderProfile) -> str | None:
    return (plain(profile.availability) or {}).get("timezone")


def _profile(reader_id: str) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(reader_id, attributes_to_get=PROFILE_FIELDS)
    except ReaderProfile.DoesNotExist:
        return None


def _snapshot(reader_id: str) -> Snapshot | None:
    try:
        return Snapshot.get(reader.pk(reader_id), "quality", consistent_read=True)
    except DoesNotExist:
        return None


def warnings_of(reader_id: str) -> dict[str, Warning]:
    """The reader's warning items by kind (one Query)."""
    return {item.kind: item for item in Warning.query(reader.pk(reader_id), Warning.sk.startswith("warning#"),
                                                      consistent_read=True) if item.kind}


@dataclass(frozen=True)
class Current:
    measured: Measured
    snapshot: Snapshot | None
    display_name: str | None


def current(reader_id: str, *, now: datetime | None = None) -> Current | None:
    """The reader's metrics and status now (None without a profile): the profile, the
    window's day buckets (one Query), the last evaluation: three reads."""
    profile = _profile(reader_id)
    if profile is None:
        return None
    today = local_date(now or utcnow(), _timezone(profile))
    first = today - timedelta(days=rules.WINDOW_DAYS - 1)
    days = store.between(reader.pk(reader_id), reader.day_sk(first), reader.day_sk(today))
    snapshot = _snapshot(reader_id)
    before = date.fromisoformat(snapshot.last_completed_on) if snapshot and snapshot.last_completed_on else None
    return Current(measure(profile, days, today, last_completed_before=before), snapshot, profile.display_name)


# --- the job's evaluation ------------------------------------------------------------------


def evaluate(insight: ReaderInsight) -> int:
    """Open, refresh and resolve the reader's warnings and store their status; returns how
    many warnings opened or resolved plus one when the status changed."""
    return evaluate_reader(insight.reader_id, now=insight.now)


def evaluate_reader(reader_id: str, *, now: datetime) -> int:
    found = current(reader_id, now=now)
    if found is None:
        return 0
    measured, snapshot, profile_name = found.measured, found.snapshot, found.display_name
    warnings = warnings_of(reader_id)
    at = iso(now)
    plan = _plan(measured, warnings, at)
    doc = json.dumps(measured.metrics, sort_keys=True)
    recheck_sk = f"{measured.recheck_on.isoformat()}#{reader_id}" if measured.recheck_on else None
    old_status = snapshot.status if snapshot else None
    status_changed = old_status != measured.status
    unchanged = (snapshot is not None and not status_changed and snapshot.metrics == doc
                 and snapshot.recheck_sk == recheck_sk
                 and snapshot.last_completed_on == _iso_date(measured.last_completed_on))
    if unchanged and not plan:
        return 0
    since = at if status_changed or snapshot is None or not snapshot.since else snapshot.since
    open_kinds = sorted(kind for kind, judged in measured.rates.items() if rules.over(kind, judged, rules.WARN))

    def work(tx: Transaction) -> None:
        for kind, (action, judged) in sorted(plan.items()):
            _write_warning(tx, reader_id, kind, action, judged, warnings.get(kind), at)
        condition = (Snapshot.updated_at == snapshot.updated_at) if snapshot and snapshot.updated_at \
            else Snapshot.sk.does_not_exist()
        tx.save(Snapshot(pk=reader.pk(reader_id), sk="quality", status=measured.status, since=since, metrics=doc,
                         last_completed_on=_iso_date(measured.last_completed_on), recheck_sk=recheck_sk,
                         updated_at=at), condition=condition, label="snapshot")
        if old_status in rules.LISTED and status_changed:
            tx.delete(Listed(pk=f"quality#{old_status}", sk=reader_id), label="unlisted")
        if measured.status in rules.LISTED:
            tx.save(Listed(pk=f"quality#{measured.status}", sk=reader_id, reader_id=reader_id,
                           display_name=profile_name, status=measured.status, since=since, metrics=doc,
                           warnings=open_kinds, updated_at=at), label="listed")
        old_recheck = snapshot.recheck_sk if snapshot else None
        if old_recheck != recheck_sk:
            if old_recheck:
                tx.delete(MetricItem(pk=RECHECK, sk=old_recheck), label="recheck")
            if recheck_sk:
                tx.save(MetricItem(pk=RECHECK, sk=recheck_sk), label="recheck")

    try:
        atomically(work, busy="The quality evaluation is busy; the next run tries again.")
    except ConditionsFailed:
        return 0  # another run evaluated the reader meanwhile: its result stands
    return sum(action in ("open", "resolve") for action, _ in plan.values()) + int(status_changed)


def _iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _plan(measured: Measured, warnings: dict[str, Warning], at: str) -> dict[str, tuple[str, rules.Judged]]:
    """Per kind that changes: ``open`` (above the threshold, no active warning), ``refresh``
    (still above, a new value), ``resolve`` (an active warning, no longer above)."""
    plan: dict[str, tuple[str, rules.Judged]] = {}
    for kind, judged in measured.rates.items():
        item = warnings.get(kind)
        active = item is not None and item.state in ACTIVE
        if rules.over(kind, judged, rules.WARN):
            if not active:
                plan[kind] = ("open", judged)
            elif item is not None and _number(item.value) != judged.value:
                plan[kind] = ("refresh", judged)
        elif active:
            plan[kind] = ("resolve", judged)
    return plan


def warning_id(kind: str, episode: int) -> str:
    """``<kind>.<episode>``: one id per episode of the reader's warning of that kind (a
    reopened warning has a new id; the reader's id scopes it)."""
    return f"{kind}.{episode}"


def _write_warning(tx: Transaction, reader_id: str, kind: str, action: str, judged: rules.Judged,
                   item: Warning | None, at: str) -> None:
    key = Warning(pk=reader.pk(reader_id), sk=f"warning#{kind}")
    label = f"warning:{kind}"
    value, threshold = judged.value, rules.WARN[kind]
    if action == "open":
        assert value is not None
        history = list(plain(item.history) or []) if item is not None else []
        if item is not None and item.warning_id:
            history = [{"id": item.warning_id, "value": _number(item.value), "openedAt": item.opened_at,
                        "acknowledgedAt": item.acknowledged_at, "resolvedAt": item.resolved_at}, *history]
        episode = int(item.episode or 0) + 1 if item is not None else 1
        new_id = warning_id(kind, episode)
        message = rules.advice(kind, value, threshold)
        tx.save(Warning(pk=key.pk, sk=key.sk, warning_id=new_id, kind=kind, state=OPEN, value=value,
                        threshold=threshold, title=rules.TITLE[kind], message=message, opened_at=at,
                        episode=episode, history=history[:HISTORY]),
                condition=Warning.sk.does_not_exist() if item is None
                else (Warning.warning_id == item.warning_id) & (Warning.state == CLOSED), label=label)
        outbox.emit(tx, OPENED, readerId=reader_id, warningId=new_id, kind=kind, title=rules.TITLE[kind],
                    value=value, threshold=threshold, message=message)
        return
    assert item is not None
    same = (Warning.warning_id == item.warning_id) & Warning.state.is_in(*ACTIVE)
    if action == "refresh":
        assert value is not None
        tx.update(key, actions=[Warning.value.set(value), Warning.message.set(rules.advice(kind, value, threshold))],
                  condition=same & (Warning.value == item.value), label=label)
        return
    tx.update(key, actions=[Warning.state.set(CLOSED), Warning.resolved_at.set(at)], condition=same, label=label)
    outbox.emit(tx, RESOLVED, readerId=reader_id, warningId=item.warning_id, kind=kind, value=value,
                threshold=threshold)
