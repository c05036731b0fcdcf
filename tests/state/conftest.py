import pytest
from hypothesis import HealthCheck, settings

# What every state machine runs with (tests/state/machine.py's STATE_SETTINGS builds on it and
# each machine sizes its own examples and steps): no per-example deadline, since an example's
# time depends on the machine's load and says nothing about correctness; examples of tens of
# HTTP requests are slow by design; a failure prints the blob that replays it
# (``@reproduce_failure``), so a failure seen once on CI can be replayed exactly.
settings.register_profile(
    "state",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)


@pytest.fixture(autouse=True, scope="module")
def _stop_shared_environment():
    yield
    from tests.state.machine import ApiStateMachine

    ApiStateMachine.stop_environment()
