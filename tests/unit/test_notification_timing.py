"""Quiet hours and digest times in the user's timezone: across midnight and across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.notifications import preferences
from chalicelib.services.notifications.preferences import Settings, TypePreference, decide_one
from chalicelib.services.notifications.timing import QuietHours, digest_release, is_quiet, quiet_ends

NY = "America/New_York"
NIGHT = QuietHours.parse("22:00", "07:00", NY)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "quiet"), [
    (utc(2026, 6, 10, 1, 59), False),   # 21:59 EDT
    (utc(2026, 6, 10, 2, 0), True),     # 22:00 EDT: quiet starts
    (utc(2026, 6, 10, 4, 0), True),     # midnight local
    (utc(2026, 6, 10, 10, 59), True),   # 06:59 EDT
    (utc(2026, 6, 10, 11, 0), False),   # 07:00 EDT: over
])
def test_quiet_hours_run_across_midnight(moment, quiet):
    assert is_quiet(NIGHT, moment) is quiet


def test_daytime_quiet_hours_do_not_wrap():
    lunch = QuietHours.parse("12:00", "13:00", "Europe/Paris")
    assert is_quiet(lunch, utc(2026, 6, 10, 10, 30))  # 12:30 CEST
    assert not is_quiet(lunch, utc(2026, 6, 10, 23, 30))


def test_quiet_hours_ending_after_the_spring_forward_end_at_local_seven():
    # 2026-03-08: clocks go 02:00 EST -> 03:00 EDT. Quiet from 22:00 EST on the 7th.
    at = utc(2026, 3, 8, 4, 0)  # 23:00 EST on the 7th
    assert is_quiet(NIGHT, at)
    assert quiet_ends(NIGHT, at) == utc(2026, 3, 8, 11, 0)  # 07:00 EDT, not 12:00 UTC (07:00 EST)
    assert not is_quiet(NIGHT, utc(2026, 3, 8, 11, 0))
    assert is_quiet(NIGHT, utc(2026, 3, 8, 10, 59))


def test_quiet_hours_ending_after_the_fall_back_end_at_local_seven():
    # 2026-11-01: clocks go 02:00 EDT -> 01:00 EST.
    at = utc(2026, 11, 1, 3, 0)  # 23:00 EDT on Oct 31
    assert quiet_ends(NIGHT, at) == utc(2026, 11, 1, 12, 0)  # 07:00 EST
    assert is_quiet(NIGHT, utc(2026, 11, 1, 11, 30))  # 06:30 EST: an hour later in UTC than in summer


def test_an_end_inside_the_spring_forward_gap_is_the_moment_the_clocks_jump():
    quiet = QuietHours.parse("23:00", "02:30", NY)
    at = utc(2026, 3, 8, 5, 0)  # 00:00 EST
    assert quiet_ends(quiet, at) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT: 02:30 never happens


def test_an_end_in_the_repeated_hour_is_its_next_occurrence():
    quiet = QuietHours.parse("23:00", "01:30", NY)
    # 01:10 EST, the second pass through 01:xx (the first 01:30, EDT, is already behind).
    at = utc(2026, 11, 1, 6, 10)
    assert is_quiet(quiet, at)
    assert quiet_ends(quiet, at) == utc(2026, 11, 1, 6, 30)


def test_digests_go_at_the_next_hour_the_next_local_eight_and_next_monday():
    at = utc(2026, 3, 7, 15, 20)  # Saturday 10:20 EST
    assert digest_release("hourly", at, NY) == utc(2026, 3, 7, 16, 0)
    assert digest_release("daily", at, NY) == utc(2026, 3, 8, 12, 0)   # Sunday 08:00 EDT (after the change)
    assert digest_release("weekly", at, NY) == utc(2026, 3, 9, 12, 0)  # Monday 08:00 EDT


def _settings(**types: TypePreference) -> Settings:
    base = {name: preferences.default_for(name) for name in preferences.NOTIFICATION_TYPES}
    return Settings(types={**base, **types})


def test_defaults_in_app_and_push_for_all_email_for_transactional_only():
    now = utc(2026, 6, 10, 15, 0)
    assert decide_one(_settings(), "reading_accepted", now).channels == {"in_app", "push", "email"}
    assert decide_one(_settings(), "reading_reminder", now).channels == {"in_app", "push", "email"}
    assert decide_one(_settings(), "suggested_reading", now).channels == {"in_app", "push"}  # marketing: no email
    assert decide_one(_settings(), "badge_awarded", now).channels == {"in_app", "push"}


def test_quiet_hours_hold_push_and_email_never_in_app():
    pref = TypePreference(in_app=True, push=True, email=True, quiet_hours=NIGHT)
    decision = decide_one(_settings(reading_accepted=pref), "reading_accepted", utc(2026, 6, 10, 3, 0))
    assert decision.channels == {"in_app"}
    assert decision.held == {"push", "email"}
    assert decision.release_at == utc(2026, 6, 10, 11, 0) and decision.digest is None


def test_a_daily_digest_holds_push_and_email_until_eight_local():
    pref = TypePreference(in_app=True, push=False, email=True, frequency="daily")
    settings = Settings(types={**_settings().types, "badge_awarded": pref}, timezone="Europe/Paris")
    decision = decide_one(settings, "badge_awarded", utc(2026, 6, 10, 15, 0))
    assert (decision.channels, decision.held, decision.digest) == ({"in_app"}, {"email"}, "daily")
    assert decision.release_at == utc(2026, 6, 11, 6, 0)  # 08:00 CEST


def test_never_sends_nothing_and_master_switches_win():
    never = TypePreference(in_app=True, push=True, email=True, frequency="never")
    assert decide_one(_settings(reading_request=never), "reading_request", utc(2026, 6, 10)).channels == frozenset()
    no_email = Settings(types=_settings().types, master={"email": False, "readingReminders": False})
    assert decide_one(no_email, "reading_accepted", utc(2026, 6, 10)).channels == {"in_app", "push"}
    assert decide_one(no_email, "reading_reminder", utc(2026, 6, 10)).channels == frozenset()
