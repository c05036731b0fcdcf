"""Joining a live session (a phone call or a live video): the join window, and each
party's own join details, the meeting made on the first join.

The window opens 10 minutes before a scheduled start (at acceptance for an immediate
reading) and lasts while the reading is accepted or in progress.

The meeting is recorded on the reading (``meeting``: provider, meetingId, mediaRegion,
joinUrl, createdAt and ``attendees`` by user id) by a write conditional on
``attribute_not_exists(meeting)``: of two first joins at once, one records its meeting and
the other reads the winner's and adds only its own attendee, again by a write conditional
on that attendee not existing yet (and on the meeting being the same). The adapter's calls
are idempotent per reading and per party where the provider allows it (Chime:
ClientRequestToken, ExternalUserId), so a lost race leaves no second meeting behind.

A meeting the provider ended (Chime ends an empty one) is replaced on the next join by a
write conditional on the ended meeting's id: concurrent joins replace it once and all get
the replacement. A session delivered before POST /join existed (``delivery`` carrying the
join details) is adopted as the meeting instead of making a new one.

These writes go through ``ReadingMeeting`` (the same item without the version attribute):
the reading's version, which every transition is conditional on, moves only with the
transitions, so a start racing the first join is not refused as a change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.readings import JOIN_WINDOW_BEFORE, LIVE_TYPES
from chalicelib.errors import BusinessRuleViolation, Conflict, DomainError, NotFound
from chalicelib.models.base import iso, plain
from chalicelib.models.readings import Reading, ReadingMeeting
from chalicelib.services import outbox
from chalicelib.services.readings import common
from chalicelib.services.readings.table import STATUS_PHRASE, sentence
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

LIVE_STATES = ("accepted", "in_progress")


def opens_at(reading: Reading) -> datetime | None:
    """When the parties may join: 10 minutes before a scheduled start, at acceptance for
    an immediate reading (None before acceptance)."""
    scheduled = common.parse(reading.scheduled_start)
    if scheduled is not None:
        return scheduled - JOIN_WINDOW_BEFORE
    return common.parse(reading.accepted_at)


def joinable(reading: Reading, now: datetime) -> bool:
    """A call or live video, accepted or in progress, inside its join window."""
    if common.reading_type(reading) not in LIVE_TYPES or reading.status not in LIVE_STATES:
        return False
    opens = opens_at(reading)
    return opens is not None and now >= opens


def join(reading_id: str, user_id: str, *, sessions: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """The caller's own join details (the caller is the client or the reader; anyone else
    gets 404), making the meeting on the first join. Calling again returns the same."""
    reading = common.get(reading_id)
    if common.party_role(reading, user_id) is None:
        raise NotFound("reading")
    moment = common.now_or(now)
    _check(reading, moment)
    reading = ensure(reading, [user_id], sessions, moment)
    return {"readingId": reading.reading_id, **details(reading, user_id)}


def _check(reading: Reading, moment: datetime) -> None:
    kind = common.reading_type(reading)
    if kind not in LIVE_TYPES:
        raise BusinessRuleViolation("A video message has no live session to join.", code="not_live",
                                    details={"type": kind, "action": "join"})
    if reading.status not in LIVE_STATES:
        raise closed(reading)
    opens = opens_at(reading)
    if opens is not None and moment < opens:
        at = iso(opens)
        raise BusinessRuleViolation(
            f"The session opens at {at}, 10 minutes before the scheduled start; join again then.",
            code="join_window_not_open", details={"opensAt": at})


def closed(reading: Reading) -> DomainError:
    """Said when the reading is not (or no longer) accepted or in progress."""
    if reading.status == "requested":
        message = "A requested reading has no live session yet; it opens once the reader accepts."
    else:
        message = sentence(f"{STATUS_PHRASE[reading.status]} has no live session to join.")
    return Conflict(message, code="invalid_transition", details={"status": reading.status, "action": "join"})


def ensure(reading: Reading, user_ids: list[str], sessions: Any, moment: datetime) -> Reading:
    """The reading with a live meeting and an attendee in it for each of ``user_ids``, made
    and recorded where missing (safe to call concurrently). Returns the reading as stored.

    A session the reader delivered before POST /join existed (``delivery`` with its join
    details) is adopted as the meeting; a meeting the provider has ended is replaced."""
    from chalicelib.integrations import live_sessions

    adapter = sessions or live_sessions.adapter()
    if reading.meeting is None and _delivered_session(reading):
        reading = _adopt(reading)
    if reading.meeting is None:
        reading = _first(reading, user_ids, adapter, moment)
    elif not adapter.meeting_exists(_meeting(reading)):
        reading = _replace(reading, user_ids, adapter, moment)
    try:
        return _with_attendees(reading, user_ids, adapter)
    except live_sessions.MeetingEnded:  # it ended between the check and the attendee
        return _with_attendees(_replace(reading, user_ids, adapter, moment), user_ids, adapter)


def _meeting_write(tx: Transaction, reading: Reading, actions: list[Any], condition: Any, label: str) -> None:
    """A write of the meeting alone, through ``ReadingMeeting`` (no version): a join never
    makes a concurrent start or completion fail on a version it moved."""
    tx.update(ReadingMeeting(reading_id=reading.reading_id), actions=actions,
              condition=condition & ReadingMeeting.status.is_in(*LIVE_STATES), label=label)


def _first(reading: Reading, user_ids: list[str], adapter: Any, moment: datetime) -> Reading:
    made = adapter.create_meeting(reading.reading_id, media_type=common.reading_type(reading))
    at = iso(moment)
    record = {**made, "createdAt": at, "attendees": {uid: adapter.add_attendee(made, uid) for uid in user_ids}}

    def work(tx: Transaction) -> None:
        _meeting_write(tx, reading, [ReadingMeeting.meeting.set(record), ReadingMeeting.updated_at.set(at)],
                       ReadingMeeting.meeting.does_not_exist(), "meeting")
        outbox.emit(tx, "reading.session_ready", **common.event_data(reading))

    _record(work)  # lost: another join recorded its meeting first (read below), or the reading closed
    return _recorded(reading.reading_id)


def _replace(reading: Reading, user_ids: list[str], adapter: Any, moment: datetime) -> Reading:
    """A new meeting in place of the ended one, conditional on the ended one's id: of
    concurrent joins, one replaces it and the others read and join the replacement."""
    ended = _meeting(reading).get("meetingId")
    made = adapter.create_meeting(reading.reading_id, media_type=common.reading_type(reading), replacing=ended)
    at = iso(moment)
    record = {**made, "createdAt": at, "attendees": {uid: adapter.add_attendee(made, uid) for uid in user_ids}}
    _record(lambda tx: _meeting_write(tx, reading, [ReadingMeeting.meeting.set(record),
                                                    ReadingMeeting.updated_at.set(at)],
                                      ReadingMeeting.meeting["meetingId"] == ended, "meeting"))
    stored = _recorded(reading.reading_id)
    if _meeting(stored).get("meetingId") == ended:  # not replaced: the reading closed meanwhile
        raise closed(stored)
    return stored


def _delivered_session(reading: Reading) -> dict[str, Any] | None:
    delivery = plain(reading.delivery) if reading.delivery is not None else {}
    return delivery if delivery.get("type") in LIVE_TYPES and delivery.get("meetingId") else None


def _adopt(reading: Reading) -> Reading:
    """The delivered session's meeting and attendees, recorded as the meeting (no new one)."""
    delivery = _delivered_session(reading) or {}
    record = {key: delivery.get(key) for key in ("provider", "meetingId", "mediaRegion", "joinUrl")}
    record["createdAt"] = delivery.get("createdAt") or delivery.get("deliveredAt") or reading.updated_at
    record["attendees"] = delivery.get("attendees") or {}
    _record(lambda tx: _meeting_write(tx, reading, [ReadingMeeting.meeting.set(record)],
                                      ReadingMeeting.meeting.does_not_exist(), "meeting"))
    return _recorded(reading.reading_id)


def _recorded(reading_id: str) -> Reading:
    """The reading as stored, which must have a meeting (none: it closed meanwhile)."""
    reading = common.get(reading_id)
    if reading.meeting is None:
        raise closed(reading)
    return reading


def _with_attendees(reading: Reading, user_ids: list[str], adapter: Any, *, follow: bool = True) -> Reading:
    """Each party's attendee added to the recorded meeting, conditional on the attendee not
    existing yet and on the meeting still being that one (replaced meanwhile: once more,
    in the replacement)."""
    meeting = _meeting(reading)
    missing = [uid for uid in user_ids if uid not in _attendees(reading)]
    for uid in missing:
        own = adapter.add_attendee(meeting, uid)
        path = ReadingMeeting.meeting["attendees"][uid]
        same = path.does_not_exist() & (ReadingMeeting.meeting["meetingId"] == meeting.get("meetingId"))

        def add(tx: Transaction, path: Any = path, own: dict[str, Any] = own, same: Any = same) -> None:
            _meeting_write(tx, reading, [path.set(own)], same, "attendee")

        _record(add)  # lost: the same party joined at the same moment, or the meeting was replaced
    if not missing:
        return reading
    stored = _recorded(reading.reading_id)
    if any(uid not in _attendees(stored) for uid in user_ids):
        if follow and _meeting(stored).get("meetingId") != meeting.get("meetingId"):
            return _with_attendees(stored, user_ids, adapter, follow=False)
        raise closed(stored)
    return stored


def _record(work: Callable[[Transaction], None]) -> None:
    """Commit a conditional write; a failed condition is an outcome the caller reads back."""
    with contextlib.suppress(ConditionsFailed):
        atomically(work, busy="This reading is busy right now; try again in a moment.")


def _meeting(reading: Reading) -> dict[str, Any]:
    return plain(reading.meeting) if reading.meeting is not None else {}


def _attendees(reading: Reading) -> dict[str, Any]:
    return _meeting(reading).get("attendees") or {}


def details(reading: Reading, user_id: str) -> dict[str, Any]:
    """The session as the caller sees it: the meeting and the caller's own attendee only
    (a join token is that party's secret); no attendee before the caller has joined."""
    meeting = _meeting(reading)
    return {"type": common.reading_type(reading), "provider": meeting.get("provider"),
            "meetingId": meeting.get("meetingId"), "mediaRegion": meeting.get("mediaRegion"),
            "joinUrl": meeting.get("joinUrl"), "attendee": _attendees(reading).get(user_id),
            "createdAt": meeting.get("createdAt")}
