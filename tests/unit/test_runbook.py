"""docs/runbook.md and the observability of infra/resources.json stay in step with the code:
every alarm has its runbook section and notifies the alarm topic, every scheduled function has
a failure alarm, every function is charted, every command the runbook names exists (make
targets, their tools' options, job names, queues, files), and the stages' tracing switches
agree. Fast: reads files, imports the app, runs a few ``--help``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from chalice.app import ScheduledEventConfig
from chalice.utils import to_cfn_resource_name

from chalicelib import telemetry
from tools.resources import load_template, resources_of

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK_PATH = ROOT / "docs" / "runbook.md"
RUNBOOK = RUNBOOK_PATH.read_text()
TEMPLATE = load_template()
ALARMS = resources_of("AWS::CloudWatch::Alarm", TEMPLATE)
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()
SECTIONS = set(re.findall(r"^### (\S+)\s*$", RUNBOOK, re.M))
# Short-lived counters with nothing to restore (the runbook says so).
NOT_RESTORABLE = {"RateLimitsTable"}


def _functions(app: Any) -> list[str]:
    """Every function the app deploys, by logical id (Chalice's naming)."""
    names = [source.name for source in app.event_sources] + [f.name for f in app.pure_lambda_functions]
    return ["APIHandler", *(to_cfn_resource_name(name) for name in names)]


def _errors_alarm_of(function: str) -> str | None:
    for logical, alarm in ALARMS.items():
        props = alarm["Properties"]
        if (props.get("Namespace"), props.get("MetricName")) == ("AWS/Lambda", "Errors") and props.get(
            "Dimensions"
        ) == [{"Name": "FunctionName", "Value": {"Ref": function}}]:
            return logical
    return None


# --- alarms -------------------------------------------------------------------------------


def test_the_template_has_alarms() -> None:
    assert len(ALARMS) >= 10  # guards the parametrised checks below against checking nothing


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_has_a_runbook_section_named_as_its_logical_id(alarm: str) -> None:
    assert alarm in SECTIONS, f"docs/runbook.md has no '### {alarm}' section (what to do when it fires)"


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears(alarm: str) -> None:
    props = ALARMS[alarm]["Properties"]
    assert props.get("AlarmActions") == [{"Ref": "AlarmTopic"}], alarm
    assert props.get("OKActions") == [{"Ref": "AlarmTopic"}], alarm
    assert props.get("TreatMissingData") == "notBreaching", f"{alarm}: no data is no trouble"


def test_every_scheduled_function_has_a_failure_alarm(chalice_app: Any) -> None:
    schedules = [s.name for s in chalice_app.event_sources if isinstance(s, ScheduledEventConfig)]
    assert schedules
    missing = [name for name in schedules if _errors_alarm_of(to_cfn_resource_name(name)) is None]
    assert not missing, (
        f"scheduled functions without an AWS/Lambda Errors alarm in infra/resources.json: {missing} "
        "(add '<Function>FailedAlarm' and its runbook section)"
    )


def test_the_generated_alarms_and_dashboard_are_current(chalice_app: Any) -> None:
    from tools.observability_infra import stale

    differ = stale(chalice_app, TEMPLATE)
    assert not differ, f"stale in infra/resources.json: {differ}: run `python -m tools.observability_infra`"


def test_the_alarms_on_custom_metrics_read_what_the_code_emits() -> None:
    emitted = set(re.findall(r'"([A-Z][A-Za-z]+)": \(', Path(telemetry.__file__).read_text()))
    for logical, alarm in ALARMS.items():
        props = alarm["Properties"]
        stats = [props] + [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for metric in stats:
            if metric.get("Namespace") != telemetry.NAMESPACE:
                continue
            assert metric["MetricName"] in emitted, f"{logical} reads {metric['MetricName']}, which nothing emits"
            # The totals the code emits: exactly these two dimensions.
            assert metric["Dimensions"] == [
                {"Name": "service", "Value": telemetry.SERVICE},
                {"Name": "stage", "Value": {"Ref": "ResourcePrefix"}},
            ], logical


# --- the dashboard ------------------------------------------------------------------------


def _dashboard_body() -> str:
    dashboards = resources_of("AWS::CloudWatch::Dashboard", TEMPLATE)
    assert len(dashboards) == 1
    return str(next(iter(dashboards.values()))["Properties"]["DashboardBody"]["Fn::Sub"])


def test_the_dashboard_charts_every_function_every_alarm_and_every_metric(chalice_app: Any) -> None:
    body = _dashboard_body()
    widgets = json.loads(body)["widgets"]
    assert widgets
    for function in _functions(chalice_app):
        assert f"${{{function}}}" in body, f"the dashboard does not chart {function}"
    for alarm in ALARMS:
        assert f"${{{alarm}.Arn}}" in body, f"the dashboard's alarm widget lacks {alarm}"
    for metric in (
        "Requests",
        "ServerErrors",
        "ClientErrors",
        "WebhookFailures",
        "CreditsGranted",
        "ReadingTransitions",
        "NotificationLatency",
        "DeadLetterMessages",
    ):
        assert re.search(rf"\b{metric}\b", body), f"the dashboard does not chart {metric}"


def test_the_dashboards_api_gateway_widgets_name_the_api_chalice_deploys() -> None:
    body = _dashboard_body()
    apis = set(re.findall(r'"ApiName","([^"]+)","Stage","([^"]+)"', body))
    assert apis == {(CONFIG["app_name"], CONFIG["api_gateway_stage"])}


# --- what the runbook names ---------------------------------------------------------------


def _make_targets() -> dict[str, str]:
    """Target -> its recipe."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^([a-z][a-z-]*):[^\n]*\n((?:\t[^\n]*\n)+)", MAKEFILE, re.M)}


@cache
def _help(module: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"python -m {module} --help failed: {result.stderr}"
    return result.stdout


def _make_commands() -> list[tuple[str, str]]:
    """(target, ARGS) of every ``make <target> [NAME=..] [STAGE=..] [ARGS="..."]`` the runbook names."""
    command = re.compile(r'make ([a-z][a-z-]*)(?: NAME=\S+)?(?: STAGE=\S+)?(?: ARGS="([^"]*)")?')
    return [(m.group(1), m.group(2) or "") for m in command.finditer(RUNBOOK)]


def test_every_make_target_the_runbook_names_exists_and_takes_its_options() -> None:
    targets = _make_targets()
    commands = _make_commands()
    assert len(commands) > 10
    for target, args in commands:
        assert target in targets, f"the runbook names `make {target}`, which the Makefile lacks"
        module = re.search(r"-m (tools\.[a-z_]+)", targets[target])
        flags = re.findall(r"(--[a-z-]+)", args)
        if flags:
            assert module, f"make {target} runs no tools module, yet the runbook passes it {flags}"
            usage = _help(module.group(1))
            for flag in flags:
                assert flag in usage, f'`make {target} ARGS="{args}"`: {module.group(1)} has no {flag}'


def test_every_job_the_runbook_runs_is_a_scheduled_job() -> None:
    from tools.run_job import scheduled_jobs

    jobs = scheduled_jobs()
    named = set(re.findall(r"make job NAME=([a-z_]+)", RUNBOOK)) | set(re.findall(r"^\| `([a-z_]+)`", RUNBOOK, re.M))
    assert named
    assert not named - set(jobs), f"the runbook names jobs that do not exist: {sorted(named - set(jobs))}"
    assert not set(jobs) - named, f"the runbook does not say how to re-run: {sorted(set(jobs) - named)}"


def test_every_queue_the_runbook_redrives_has_a_dead_letter_queue() -> None:
    from tools.dlq import dead_letter_queues

    sources = {source.removeprefix("p-") for source, _ in dead_letter_queues("p")}
    named = set(re.findall(r"--queue ([a-z-]+)", RUNBOOK))
    assert named and not named - sources, f"no dead-letter queue for {sorted(named - sources)}"


def test_every_file_the_runbook_names_exists() -> None:
    paths = set(re.findall(r"`((?:chalicelib|tools|infra|tests|docs)/[\w./-]+)`", RUNBOOK))
    assert paths
    paths |= {f"{module.replace('.', '/')}.py" for module in re.findall(r"python -m (tools\.[a-z_]+)", RUNBOOK)}
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"the runbook names files that do not exist: {missing}"


def test_the_failure_queues_the_gauge_measures_are_those_infra_defines() -> None:
    """Each queue's dead-letter queue and the outbox stream's on-failure destination."""
    from chalicelib.services.dead_letters import FAILURE_QUEUES

    queues = resources_of("AWS::SQS::Queue", TEMPLATE)
    failure = {
        str(q["Properties"]["QueueName"]["Fn::Sub"]).removeprefix("${ResourcePrefix}-")
        for q in queues.values()
        if "RedrivePolicy" not in q["Properties"]
    }
    assert set(FAILURE_QUEUES) == failure


# --- restores and tracing -----------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(resources_of("AWS::DynamoDB::Table", TEMPLATE)))
def test_every_table_but_the_counters_can_be_restored_to_a_point_in_time(table: str) -> None:
    props = resources_of("AWS::DynamoDB::Table", TEMPLATE)[table]["Properties"]
    enabled = props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True
    assert enabled or table in NOT_RESTORABLE, f"{table} has no PointInTimeRecoverySpecification (docs/runbook.md)"


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_a_stage_traces_in_its_functions_and_in_its_code_or_in_neither(stage: str) -> None:
    """``xray`` (Chalice: Tracing Active on the stage's functions) and ``TRACING`` (the code
    builds the tracer) go together: one without the other traces nothing or pays for nothing."""
    stage_config = CONFIG["stages"][stage]
    xray = bool(stage_config.get("xray", CONFIG.get("xray", False)))
    env = {**CONFIG.get("environment_variables", {}), **stage_config.get("environment_variables", {})}
    assert xray == (env.get("TRACING", "false").strip().lower() == "true"), (
        f'stage {stage}: set both "xray": true and "TRACING": "true", or neither'
    )
