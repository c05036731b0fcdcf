"""Held push/email: released when quiet hours end, digests combined into one per user per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.notifications import Delivery

NIGHT = {"start": "22:00", "end": "07:00", "timezone": "America/New_York"}


class Outbox:
    def __init__(self):
        self.push: list[Delivery] = []
        self.email: list[Delivery] = []


@pytest.fixture()
def sent():
    return Outbox()


def _release(at: datetime, sent: Outbox) -> dict[str, int]:
    from chalicelib.services.notifications import held

    return held.release_due(at, push=sent.push.extend, send_email=sent.email.extend)


def _notify(user_id: str, type_: str, n: int, now: datetime, event: str) -> None:
    """What fan-out does with one delivery: decide, then hold what is held."""
    from chalicelib.services.notifications import held, preferences

    delivery = Delivery(user_id=user_id, type=type_, title=f"Title {n}", message=f"Message {n}.",
                        related_id=f"r{n}")
    decision = preferences.decide([user_id], type_, now)[user_id]
    assert decision.channels == {"in_app"}  # in-app is never held
    held.hold_many([(delivery, decision)], key=event, occurred_at=now.isoformat())


def _set(user_id: str, **pref) -> None:
    from chalicelib.services.notifications import preferences
    from chalicelib.services.notifications.timing import QuietHours

    quiet = pref.pop("quiet", None)
    preferences.put(user_id, {pref.pop("type"): preferences.TypePreference(
        in_app=True, push=pref.pop("push", True), email=pref.pop("email", True),
        frequency=pref.pop("frequency", "immediate"),
        quiet_hours=QuietHours.parse(**quiet) if quiet else None)})


def test_quiet_hours_holds_are_sent_one_by_one_when_they_end_across_dst(aws, make_user, sent):
    make_user("ann")
    _set("ann", type="reading_request", quiet=NIGHT)
    night = datetime(2026, 3, 8, 4, 0, tzinfo=UTC)  # 23:00 EST; clocks spring forward at 02:00
    _notify("ann", "reading_request", 1, night, "e1")
    _notify("ann", "reading_request", 2, night + timedelta(hours=3), "e2")
    _notify("ann", "reading_request", 2, night + timedelta(hours=3), "e2")  # a redelivery holds nothing more

    assert _release(datetime(2026, 3, 8, 10, 59, tzinfo=UTC), sent)["released"] == 0  # 06:59 EDT
    assert _release(datetime(2026, 3, 8, 11, 0, tzinfo=UTC), sent) == {"released": 2, "digests": 0}  # 07:00 EDT
    assert [d.title for d in sent.push] == ["Title 1", "Title 2"]
    assert [d.title for d in sent.email] == ["Title 1", "Title 2"]
    assert [d.data["eventId"] for d in sent.email] == ["e1", "e2"]  # email's idempotency key: the event
    assert _release(datetime(2026, 3, 8, 11, 5, tzinfo=UTC), sent)["released"] == 0  # released once
    assert len(sent.email) == 2


def test_a_daily_digest_combines_every_item_into_one_email_per_user(aws, make_user, sent):
    for user in ("ann", "bob"):
        make_user(user)
        _set(user, type="badge_awarded", frequency="daily", push=False)
    day = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
    for n in range(5):
        _notify("ann", "badge_awarded", n, day + timedelta(minutes=n), f"a{n}")
    for n in range(2):
        _notify("bob", "badge_awarded", n, day + timedelta(minutes=n), f"b{n}")

    # The next 08:00 UTC (the users' timezone: UTC by default).
    assert _release(datetime(2026, 6, 11, 7, 55, tzinfo=UTC), sent)["released"] == 0
    assert _release(datetime(2026, 6, 11, 8, 0, tzinfo=UTC), sent) == {"released": 7, "digests": 2}
    assert sent.push == []
    emails = {d.user_id: d for d in sent.email}
    assert len(sent.email) == 2
    assert emails["ann"].title == "Your daily summary: 5 notifications"
    assert [item["title"] for item in emails["ann"].data["digest"]] == [f"Title {n}" for n in range(5)]
    assert emails["ann"].data["template"] == "digest"
    assert len(emails["bob"].data["digest"]) == 2
    assert _release(datetime(2026, 6, 11, 8, 5, tzinfo=UTC), sent)["released"] == 0


def test_a_concurrent_release_sends_each_held_item_once(aws, make_user, sent):
    from tests.support.threads import all_at_once

    make_user("ann")
    _set("ann", type="reading_request", quiet=NIGHT)
    night = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    for n in range(6):
        _notify("ann", "reading_request", n, night, f"e{n}")
    results = all_at_once(3, lambda _: _release(datetime(2026, 6, 10, 11, 0, tzinfo=UTC), sent))
    assert sum(r["released"] for r in results) == 6
    assert sorted(d.title for d in sent.email) == [f"Title {n}" for n in range(6)]


def test_a_reminder_held_past_the_readings_start_is_dropped_not_sent_late(aws, make_user, sent):
    from chalicelib.services.notifications import held, preferences, rules

    make_user("ann")
    _set("ann", type="reading_reminder", quiet=NIGHT)
    night = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 00:00 EDT: quiet until 07:00 EDT (11:00 UTC)
    for start, event in ((night + timedelta(hours=2), "soon"), (night + timedelta(hours=10), "later")):
        [client_note, _] = rules.targets(rules.Event(event, "reading.reminder_due", night.isoformat(), {
            "readingId": f"r_{event}", "clientId": "ann", "readerId": "rdr", "type": "phone_call",
            "minutesBefore": 15, "scheduledStart": start.isoformat().replace("+00:00", "Z")}), _NoNames())
        delivery = client_note.note.to("ann")
        decision = preferences.decide(["ann"], "reading_reminder", night)["ann"]
        held.hold_many([(delivery, decision)], key=event, occurred_at=night.isoformat())

    released = _release(datetime(2026, 3, 10, 11, 0, tzinfo=UTC), sent)
    assert released == {"released": 1, "digests": 0, "stale": 1}
    assert [d.related_id for d in sent.push] == ["r_later"]  # the 06:00 reading's reminder is not sent at 07:00


class _NoNames:
    def client(self, user_id):
        return None

    def reader(self, reader_id):
        return None
