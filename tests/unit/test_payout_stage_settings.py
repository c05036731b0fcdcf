"""Each cloud stage states its reader payout settings (issue 18) in .chalice/config.json, and they
are what the stage's settings load: no stage pays readers by a default nobody chose."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
PAYOUT_SETTINGS = ("PAYOUT_MINOR_PER_CREDIT", "PAYOUT_CURRENCY", "PAYOUT_MINIMUM_CREDITS", "PAYOUT_SCHEDULE")


@pytest.fixture()
def fresh_settings() -> Iterator[None]:
    from chalicelib import config

    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_cloud_stage_states_its_payout_settings_and_loads_them(
    stage: str, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    from chalicelib import config
    from tools.local_env import stage_environment

    stated = CONFIG["stages"][stage]["environment_variables"]
    assert set(PAYOUT_SETTINGS) <= set(stated), f"{stage} leaves a payout setting to its default"
    for name, value in stage_environment(stage).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")

    settings = config.get_settings()

    assert (
        settings.payout_minor_per_credit,
        settings.payout_currency,
        settings.payout_minimum_credits,
        settings.payout_schedule,
    ) == (
        int(stated["PAYOUT_MINOR_PER_CREDIT"]),
        stated["PAYOUT_CURRENCY"],
        int(stated["PAYOUT_MINIMUM_CREDITS"]),
        stated["PAYOUT_SCHEDULE"],
    )
