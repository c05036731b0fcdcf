"""DynamoDB's per-request atomicity for moto when the app is driven from several threads.

The adaptation lives in tools/strict_moto.py, shared with the moto server of ``make run``
and the e2e stack; tests/conftest.py installs it for the session. ``atomic_dynamodb`` only
names the dependency for the tests that drive the app from several threads.
"""

from __future__ import annotations

import pytest

from tools import strict_moto


@pytest.fixture()
def atomic_dynamodb(aws: None) -> None:
    strict_moto.install()  # idempotent: already done at session start
