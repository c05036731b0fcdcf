"""The generated part of infra/resources.json's observability, from the app itself:

- ``<Function>FailedAlarm`` for every scheduled function (AWS/Lambda Errors; a job that runs
  every few minutes alarms when it fails for 10 minutes, a 15-minute job two runs in a row, an
  hourly or daily job on one failed run), ``LedgerCheck`` aside (``LedgerCheckFailedAlarm``);
- ``ApiServerErrorRateAlarm`` (the 5xx rate of the declared routes, ``ServerErrors`` /
  ``Requests`` of chalicelib/telemetry.py) and ``WebhookFailuresAlarm``;
- the ``OperationsDashboard`` (every alarm's state, the app's metrics, API Gateway, Lambda
  errors, duration and invocations of every function, dead-letter depths, the relay's lag) and
  its URL as the output ``OperationsDashboardUrl``.

    python -m tools.observability_infra          # rewrite them in infra/resources.json
    python -m tools.observability_infra --check  # exit 1 when they are stale

Run it after adding or removing a function, a job or an alarm (tests/unit/test_runbook.py fails
until then); every alarm needs its section in docs/runbook.md as well.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from tools.resources import TEMPLATE, load_template, resources_of

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE, SERVICE = "Auralumic", "auralumic"  # chalicelib/telemetry.py
TOPIC = [{"Ref": "AlarmTopic"}]
DIMENSIONS = [{"Name": "service", "Value": SERVICE}, {"Name": "stage", "Value": {"Ref": "ResourcePrefix"}}]
# 5xx as a percentage of the requests, counted over at least 20 (a quiet period's single 500 is no rate).
RATE = "100 * FILL(errors, 0) / IF(FILL(requests, 0) < 20, 20, FILL(requests, 0))"
# Jobs whose failure alarm is written by hand (its own wording): function -> alarm.
OWN_ALARMS = {"LedgerCheck": "LedgerCheckFailedAlarm"}
OUTPUT = "OperationsDashboardUrl"


def cfn_name(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return str(to_cfn_resource_name(name))


def schedules(app: Any) -> dict[str, str]:
    """Scheduled function (logical id) -> its schedule expression."""
    from chalice.app import ScheduledEventConfig

    found = {}
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            found[cfn_name(source.name)] = (
                expression.to_string() if hasattr(expression, "to_string") else str(expression)
            )
    return dict(sorted(found.items()))


def functions(app: Any) -> list[str]:
    """Every function the app deploys, by logical id: the API, then the others by name."""
    names = {source.name for source in app.event_sources} | {f.name for f in app.pure_lambda_functions}
    return ["APIHandler", *sorted(cfn_name(name) for name in names)]


def _minutes(expression: str) -> int:
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate is None:
        return 1440  # a cron: at most daily here
    return int(rate.group(1)) * {"m": 1, "h": 60, "d": 1440}[rate.group(2)[0]]


def job_alarm(function: str, expression: str) -> dict[str, Any]:
    minutes = _minutes(expression)
    if minutes <= 5:
        period, evaluations, when = 300, 2, "in two 5-minute periods in a row"
    elif minutes <= 15:
        period, evaluations, when = 900, 2, "in two runs in a row"
    else:
        period, evaluations, when = 3600, 1, "in its last run"
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {
                "Fn::Sub": "${ResourcePrefix}-job-" + re.sub(r"(?<!^)(?=[A-Z])", "-", function).lower() + "-failed"
            },
            "AlarmDescription": f"The scheduled job {function} ({expression}) failed {when}: see docs/runbook.md, "
            f"{function}FailedAlarm.",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
            "Statistic": "Sum",
            "Period": period,
            "EvaluationPeriods": evaluations,
            "DatapointsToAlarm": evaluations,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": TOPIC,
            "OKActions": TOPIC,
        },
    }


def _stat(metric: str) -> dict[str, Any]:
    return {
        "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": DIMENSIONS},
        "Period": 300,
        "Stat": "Sum",
    }


def app_alarms() -> dict[str, Any]:
    return {
        "ApiServerErrorRateAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": "${ResourcePrefix}-api-5xx-rate"},
                "AlarmDescription": "More than 5% of API requests answered 5xx (counted over at least 20 requests) in "
                "two of three 5-minute periods: the ServerErrors/Requests metrics every declared "
                "route emits. See docs/runbook.md, ApiServerErrorRateAlarm.",
                "Metrics": [
                    {"Id": "requests", "MetricStat": _stat("Requests"), "ReturnData": False},
                    {"Id": "errors", "MetricStat": _stat("ServerErrors"), "ReturnData": False},
                    {"Id": "rate", "Expression": RATE, "Label": "5xx % of API requests", "ReturnData": True},
                ],
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": 5,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": TOPIC,
                "OKActions": TOPIC,
            },
        },
        "WebhookFailuresAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": "${ResourcePrefix}-webhook-failures"},
                "AlarmDescription": "Three or more Stripe or Clerk webhook deliveries were rejected (bad signature or "
                "body) or failed (5xx) within 15 minutes: the WebhookFailures metric. See "
                "docs/runbook.md, WebhookFailuresAlarm.",
                "Namespace": NAMESPACE,
                "MetricName": "WebhookFailures",
                "Dimensions": DIMENSIONS,
                "Statistic": "Sum",
                "Period": 900,
                "EvaluationPeriods": 1,
                "Threshold": 3,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": TOPIC,
                "OKActions": TOPIC,
            },
        },
    }


def _search(schema: str, metric: str, stat: str) -> dict[str, str]:
    return {
        "expression": f'SEARCH(\'{{{NAMESPACE},{schema}}} MetricName="{metric}" stage="${{ResourcePrefix}}"\', '
        f"'{stat}', 300)"
    }


def _widget(title: str, x: int, y: int, w: int, metrics: list[Any], *, h: int = 6, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": stat,
            "period": 300,
            "metrics": metrics,
        },
    }


def dashboard(
    all_functions: list[str], alarms: list[str], dead_letter_queues: list[str], api: tuple[str, str]
) -> dict[str, Any]:
    def per_function(metric: str, stat: str) -> list[Any]:
        return [
            ["AWS/Lambda", metric, "FunctionName", f"${{{fn}}}", {"label": fn, "stat": stat}] for fn in all_functions
        ]

    gateway = ["ApiName", api[0], "Stage", api[1]]
    emf = ["service", SERVICE, "stage", "${ResourcePrefix}"]
    widgets = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 5,
            "properties": {
                "title": "Alarms (docs/runbook.md has a section per alarm)",
                "alarms": [f"${{{a}.Arn}}" for a in sorted(alarms)],
                "sortBy": "stateUpdatedTimestamp",
            },
        },
        _widget(
            "API requests by route class (Requests)",
            0,
            5,
            12,
            [[_search("routeClass,service,stage", "Requests", "Sum")]],
        ),
        _widget(
            "API errors by route class (ServerErrors = 5xx, ClientErrors = 4xx)",
            12,
            5,
            12,
            [
                [_search("routeClass,service,stage", "ServerErrors", "Sum")],
                [_search("routeClass,service,stage", "ClientErrors", "Sum")],
            ],
        ),
        _widget(
            "API Gateway: requests, 4xx, 5xx",
            0,
            11,
            8,
            [["AWS/ApiGateway", metric, *gateway] for metric in ("Count", "4XXError", "5XXError")],
        ),
        _widget(
            "API Gateway latency (ms)",
            8,
            11,
            8,
            [["AWS/ApiGateway", "Latency", *gateway, {"stat": p}] for p in ("p50", "p90", "p99")],
            stat="p90",
        ),
        _widget(
            "API 5xx rate, % (ApiServerErrorRateAlarm above 5)",
            16,
            11,
            8,
            [
                [NAMESPACE, "Requests", *emf, {"id": "requests", "visible": False}],
                [NAMESPACE, "ServerErrors", *emf, {"id": "errors", "visible": False}],
                [{"expression": RATE, "label": "5xx %", "id": "rate"}],
            ],
        ),
        _widget("Lambda errors per function", 0, 17, 12, per_function("Errors", "Sum"), h=8),
        _widget("Lambda duration per function, p95 (ms)", 12, 17, 12, per_function("Duration", "p95"), h=8, stat="p95"),
        _widget(
            "Dead-letter queues: messages waiting (SQS)",
            0,
            25,
            8,
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{q}.QueueName}}", {"label": q}]
                for q in dead_letter_queues
            ],
            stat="Maximum",
        ),
        _widget(
            "Dead-letter depth (DeadLetterMessages, dead_letter_depths job)",
            8,
            25,
            8,
            [[_search("queue,service,stage", "DeadLetterMessages", "Maximum")]],
            stat="Maximum",
        ),
        _widget(
            "Outbox relay iterator age (ms; OutboxRelayIteratorAgeAlarm above 120000)",
            16,
            25,
            8,
            [["AWS/Lambda", "IteratorAge", "FunctionName", "${OutboxRelay}", {"stat": "Maximum"}]],
            stat="Maximum",
        ),
        _widget(
            "Credits granted (CreditsGranted by source)",
            0,
            31,
            8,
            [[_search("service,source,stage", "CreditsGranted", "Sum")]],
        ),
        _widget(
            "Readings by transition (ReadingTransitions)",
            8,
            31,
            8,
            [[_search("action,service,stage,state", "ReadingTransitions", "Sum")]],
        ),
        _widget(
            "Notification latency p95, event to delivery (ms)",
            16,
            31,
            8,
            [[_search("channel,service,stage", "NotificationLatency", "p95")]],
            stat="p95",
        ),
        _widget(
            "Webhook failures (WebhookFailures by webhook)",
            0,
            37,
            12,
            [[_search("service,stage,webhook", "WebhookFailures", "Sum")]],
        ),
        _widget("Invocations per function", 12, 37, 12, per_function("Invocations", "Sum")),
    ]
    body = {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "${ResourcePrefix}-operations"},
            "DashboardBody": {"Fn::Sub": json.dumps(body, separators=(",", ":"))},
        },
    }


def managed(app: Any, template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(resources, outputs) this tool owns, for ``app`` and the rest of ``template``."""
    resources: dict[str, Any] = dict(app_alarms())
    for function, expression in schedules(app).items():
        if function not in OWN_ALARMS:
            resources[f"{function}FailedAlarm"] = job_alarm(function, expression)
    alarms = set(resources) | set(resources_of("AWS::CloudWatch::Alarm", template))
    queues = resources_of("AWS::SQS::Queue", template)
    failure_queues = [q for q, props in queues.items() if "RedrivePolicy" not in props["Properties"]]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    resources["OperationsDashboard"] = dashboard(
        functions(app), sorted(alarms), failure_queues, (config["app_name"], config.get("api_gateway_stage", "api"))
    )
    outputs = {
        OUTPUT: {
            "Description": "The stage's CloudWatch dashboard (docs/runbook.md starts there)",
            "Value": {
                "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${OperationsDashboard}"
            },
        }
    }
    return resources, outputs


def stale(app: Any, template: dict[str, Any]) -> list[str]:
    """What differs between the template and what this tool would write (logical ids)."""
    resources, outputs = managed(app, template)
    ours = {name for name in template["Resources"] if name.endswith("FailedAlarm")} - set(OWN_ALARMS.values())
    differ = [name for name, value in resources.items() if template["Resources"].get(name) != value]
    differ += sorted(ours - set(resources))  # a job alarm whose job is gone
    differ += [name for name, value in outputs.items() if template.get("Outputs", {}).get(name) != value]
    return differ


def write(app: Any) -> list[str]:
    template = load_template()
    changed = stale(app, template)
    resources, outputs = managed(app, template)
    for name in changed:
        if name in resources:
            template["Resources"][name] = resources[name]
        elif name in outputs:
            template.setdefault("Outputs", {})[name] = outputs[name]
        else:
            template["Resources"].pop(name, None)
    TEMPLATE.write_text(json.dumps(template, indent=2) + "\n")
    return changed


def _app() -> Any:
    """The app with the local stage's settings (nothing is called: the app is only read)."""
    from tools.local_env import stage_environment

    for key, value in stage_environment("local").items():
        os.environ.setdefault(key, value)
    sys.path.insert(0, str(ROOT))
    from app import app

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.observability_infra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when infra/resources.json is stale")
    args = parser.parse_args(argv)
    app = _app()
    if args.check:
        differ = stale(app, load_template())
        if differ:
            print(f"stale in infra/resources.json: {', '.join(differ)} (python -m tools.observability_infra)")
            return 1
        print("infra/resources.json: observability up to date")
        return 0
    changed = write(app)
    print(f"infra/resources.json: {', '.join(changed) if changed else 'nothing'} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
