import pytest


@pytest.fixture(autouse=True, scope="module")
def _stop_shared_environment():
    yield
    from tests.state.machine import ApiStateMachine

    ApiStateMachine.stop_environment()
