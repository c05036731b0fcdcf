"""The recorder behind the IAM check (tests/support/iam_recording.py): a call is counted for the
function that makes it, and what a test does around a function is nobody's."""

from __future__ import annotations

from typing import Any

from tests.support import iam_recording
from tools import iam


def test_the_recorder_counts_a_functions_calls_and_ignores_the_tests_own(api: Any, make_user: Any) -> None:
    """What a route does is the API's; what the test does around it is nobody's."""
    with iam_recording.watching() as seen:
        make_user("u_1")  # set-up: outside every function
        assert api.get("/me", as_user="u_1").status_code == 200
    assert (None, "dynamodb:PutItem", "table/users") in seen
    assert (iam.API_FUNCTION, "dynamodb:GetItem", "table/users") in seen
    assert not any(function is None and action == "dynamodb:GetItem" for function, action, _ in seen)


def test_the_recorder_names_the_job_a_test_runs_without_its_handler(aws: None) -> None:
    from chalicelib.services import presence

    with iam_recording.watching() as seen:
        presence.expire_stale()
    assert seen and {function for function, _, _ in seen} == {"reader_presence"}


def test_every_service_entry_the_recorder_wraps_still_exists() -> None:
    """A renamed entry point would leave the tests calling it without its function."""
    assert iam_recording.MISSING == []
