"""The readings' transition table: consistent as data, and every refusal built from it is
a correct English sentence ("cannot be completeed", "a accepted reading" were bugs)."""

from __future__ import annotations

import re

import pytest

from chalicelib.domain.readings import READING_TYPES, TABS
from chalicelib.services.readings.table import (
    ACTORS,
    MONEY,
    STATUS_PHRASE,
    TRANSITIONS,
    Action,
)

STATUSES = sorted(STATUS_PHRASE)
ACTIONS = sorted(TRANSITIONS)
BAD = [
    re.compile(r"eed\b"),  # "completeed", "resolveed"
    re.compile(r"\b[Aa] [aeiouAEIOU]"),  # "a accepted", "a attribute"
    re.compile(r"\b[Aa]n [^aeiouAEIOU\W]"),  # "an requested"
    re.compile(r"_"),  # a code, not a word ("report_no_show", "in_progress")
    re.compile(r"\s{2,}"),
]


def _well_formed(message: str) -> None:
    assert message[0].isupper() and message.endswith("."), message
    for pattern in BAD:
        assert not pattern.search(message), (pattern.pattern, message)


def test_the_table_is_consistent():
    every_status = {s for statuses in TABS.values() for s in statuses}
    assert set(STATUS_PHRASE) == every_status
    for name, action in TRANSITIONS.items():
        assert action.name == name and action.steps
        assert action.types and action.types <= set(READING_TYPES)
        for step in action.steps:
            assert step.sources <= every_status and step.target in every_status
            assert step.actors and step.actors <= set(ACTORS)
            assert step.money is None or step.money in MONEY
            assert re.fullmatch(r"[a-z_]+\.[a-z_]+", step.event)
            assert (step.memo is None) == (step.money is None), (name, step)  # a ledger line says why
        # Every (source, actor) pair the action allows has exactly one step (per outcome).
        for source in action.sources:
            for actor in action.actors:
                outcomes = {s.outcome for s in action.steps if source in s.sources and actor in s.actors}
                matching = [s for s in action.steps if source in s.sources and actor in s.actors]
                assert len(matching) == len(outcomes), (name, source, actor)


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_s_refusals_are_sentences(name):
    action: Action = TRANSITIONS[name]
    _well_formed(action.forbidden())
    _well_formed(action.expired("2026-11-30T08:10:00.000Z"))
    for status in STATUSES:
        _well_formed(action.wrong_state(status))
    for kind in READING_TYPES:
        _well_formed(action.wrong_type(kind))


@pytest.mark.parametrize(("name", "status", "message"), [
    ("complete", "requested", "A requested reading cannot be completed."),
    ("accept", "accepted", "An accepted reading cannot be accepted."),
    ("accept", "in_progress", "A reading in progress cannot be accepted."),
    ("cancel", "expired", "An expired reading cannot be cancelled."),
    ("start", "completed", "A completed reading cannot be started."),
    ("report_no_show", "completed", "A completed reading cannot be reported as a no-show."),
    ("dispute", "requested", "A requested reading cannot be disputed."),
    ("resolve", "completed", "A completed reading has no open dispute to resolve."),
    ("resolve", "accepted", "An accepted reading has no open dispute to resolve."),
    ("deliver", "in_progress", "A reading in progress cannot be delivered."),
])
def test_a_refusal_in_the_wrong_state_names_the_state_and_the_action(name, status, message):
    assert TRANSITIONS[name].wrong_state(status) == message


@pytest.mark.parametrize(("name", "message"), [
    ("accept", "Only the reader can accept a reading."),
    ("complete", "Only the client or the reader can complete a reading."),
    ("report_no_show", "Only the client or the reader can report a no-show on a reading."),
    ("dispute", "Only the client can dispute a reading."),
    ("resolve", "Only an admin can resolve the dispute about a reading."),
])
def test_a_refusal_to_the_wrong_party_says_who_may(name, message):
    assert TRANSITIONS[name].forbidden() == message


def test_refusals_for_the_reading_type_and_an_expired_request():
    assert TRANSITIONS["start"].wrong_type("video_message") == "A video message cannot be started."
    assert TRANSITIONS["accept"].expired("2026-11-30T08:10:00.000Z") == (
        "This request expired at 2026-11-30T08:10:00.000Z; it can no longer be accepted.")
