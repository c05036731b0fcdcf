"""infra/resources.json: the properties that cfn-lint cannot judge (it sees one template,
not .chalice/config.json or the app). Fast: no ``chalice package`` here; tools/package.sh
packages and lints the merged template."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from chalice.app import SQSEventConfig
from chalice.utils import to_cfn_resource_name

from tools.iam import group_of, load_groups
from tools.resources import load_template, resolve, resources_of

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
CLOUD_STAGES = sorted(stage for stage in CONFIG["stages"] if stage != "local")
CHALICE_DEFAULT_TIMEOUT = 60  # what Chalice deploys when config.json sets no lambda_timeout
PREFIX = os.environ["RESOURCE_PREFIX"]
TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
QUEUES = resources_of("AWS::SQS::Queue", TEMPLATE)


def lambda_timeout(stage: str, function: str) -> int:
    """The timeout Chalice gives ``function`` in ``stage``: the most specific setting wins."""
    stage_config = CONFIG["stages"][stage]
    for scope in (stage_config.get("lambda_functions", {}).get(function, {}), stage_config, CONFIG):
        if "lambda_timeout" in scope:
            return int(scope["lambda_timeout"])
    return CHALICE_DEFAULT_TIMEOUT


def queue_named(name: str) -> str | None:
    for logical, queue in QUEUES.items():
        if resolve(queue["Properties"]["QueueName"], PREFIX, {}) == name:
            return logical
    return None


def sqs_consumers(app: Any) -> list[SQSEventConfig]:
    return [source for source in app.event_sources if isinstance(source, SQSEventConfig)]


def test_the_app_consumes_at_least_one_queue(chalice_app: Any) -> None:
    # Guards the parametrised checks below against silently checking nothing.
    assert sqs_consumers(chalice_app)


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_consumed_queue_visibility_exceeds_six_times_the_consumer_timeout(stage: str, chalice_app: Any) -> None:
    """AWS: a queue's visibility timeout must be at least 6x its Lambda consumer's timeout, or
    messages being processed become visible again and are delivered twice."""
    for consumer in sqs_consumers(chalice_app):
        logical = queue_named(consumer.queue)
        assert logical, (f"{consumer.name} consumes {consumer.queue!r}, which infra/resources.json does not "
                         f"define (queues: {sorted(QUEUES)})")
        visibility = QUEUES[logical]["Properties"].get("VisibilityTimeout", 30)
        timeout = lambda_timeout(stage, consumer.name)
        assert visibility > 6 * timeout, (
            f"{logical} VisibilityTimeout {visibility}s must exceed 6 x lambda_timeout of {consumer.name} "
            f"in stage {stage} ({timeout}s) = {6 * timeout}s")


def test_notifications_queue_visibility_exceeds_six_times_every_configured_timeout() -> None:
    # "" is no function: the stage's (or the global) setting.
    timeouts = [lambda_timeout(stage, function) for stage in CLOUD_STAGES
                for function in ("", *CONFIG["stages"][stage].get("lambda_functions", {}))]
    visibility = QUEUES["NotificationsQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility > 6 * max(timeouts), (f"NotificationsQueue VisibilityTimeout {visibility}s must exceed "
                                            f"6 x the largest lambda_timeout in .chalice/config.json "
                                            f"({max(timeouts)}s)")


def _target(arn: Any) -> str | None:
    """The logical id behind ``{"Fn::GetAtt": [id, "Arn"]}``."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][1] == "Arn":
        return str(arn["Fn::GetAtt"][0])
    return None


def test_every_queue_without_redrive_is_a_failure_destination() -> None:
    """A queue with no RedrivePolicy is where failures land: the dead-letter target of a queue
    that has one, or the on-failure destination of a stream mapping. Nothing else."""
    dead_letter_targets = {_target(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]): source
                           for source, q in QUEUES.items() if "RedrivePolicy" in q["Properties"]}
    on_failure = {_target(m["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
                  for m in resources_of("AWS::Lambda::EventSourceMapping", TEMPLATE).values()}
    for logical, queue in QUEUES.items():
        if "RedrivePolicy" in queue["Properties"]:
            continue
        assert logical in dead_letter_targets or logical in on_failure, (
            f"{logical} has no RedrivePolicy and is not the deadLetterTargetArn of any queue nor an "
            f"event source mapping's on-failure destination (a queue either redrives its failures or receives them)")
    for target, source in dead_letter_targets.items():
        assert target in QUEUES, f"{source} RedrivePolicy targets {target!r}, which is not a queue in the template"
        assert "RedrivePolicy" not in QUEUES[target]["Properties"], f"dead-letter queue {target} must not redrive"
        source_props = QUEUES[source]["Properties"]
        assert 1 <= source_props["RedrivePolicy"]["maxReceiveCount"] <= 10, source
        # A message keeps its original enqueue time in the DLQ: the DLQ must keep it longer.
        assert QUEUES[target]["Properties"].get("MessageRetentionPeriod", 345600) > source_props.get(
            "MessageRetentionPeriod", 345600), f"{target} must retain messages longer than {source}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The functions' permissions: one role per function group, rendered from infra/iam/groups.json
# into the packaged template (tools/iam; tests/unit/test_iam_policies.py checks them).


def test_outbox_stream_mapping_retries_only_failed_records() -> None:
    mapping = RESOURCES["OutboxRelayStreamMapping"]
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    assert props["FunctionName"] == {"Ref": to_cfn_resource_name("outbox_relay")}
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert _target(props["DestinationConfig"]["OnFailure"]["Destination"]) in QUEUES
    # Lambda checks the role can read the stream when the mapping is created: the role of the
    # relay's group (tools/iam adds it to the packaged template).
    assert group_of(load_groups())["outbox_relay"].role in _as_list(mapping["DependsOn"])


def test_sqs_consumers_report_partial_batch_failures(chalice_app: Any) -> None:
    """Chalice cannot set FunctionResponseTypes: infra/resources.json merges it into the SQS
    event Chalice generates (logical ids follow Chalice's naming), for every consumer."""
    for consumer in sqs_consumers(chalice_app):
        function = to_cfn_resource_name(consumer.name)
        event = to_cfn_resource_name(f"{consumer.name}-sqs-event-source")
        merged = RESOURCES.get(function, {})
        assert merged.get("Type") == "AWS::Serverless::Function", f"no {function} override in infra/resources.json"
        properties = merged["Properties"]["Events"][event]["Properties"]
        assert properties.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], (
            f"{function}.Events.{event} must set FunctionResponseTypes [ReportBatchItemFailures]")
        # The SQS event names its queue by ARN string, which gives CloudFormation no order:
        # the function (which the mapping refers to) waits for the queue.
        queue = queue_named(consumer.queue)
        assert queue in _as_list(merged.get("DependsOn", [])), (
            f"{function} in infra/resources.json must have DependsOn {queue} (the queue {consumer.name} consumes)")


@pytest.mark.parametrize(("alarm", "namespace", "metric", "dimension"), [
    ("NotificationsDeadLetterAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
     {"Name": "QueueName", "Value": {"Fn::GetAtt": ["NotificationsDeadLetterQueue", "QueueName"]}}),
    ("APIHandlerErrorsAlarm", "AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}),
    ("OutboxRelayIteratorAgeAlarm", "AWS/Lambda", "IteratorAge",
     {"Name": "FunctionName", "Value": {"Ref": "OutboxRelay"}}),
])
def test_alarms_watch_the_failure_signals(alarm: str, namespace: str, metric: str, dimension: dict[str, Any]) -> None:
    props = RESOURCES[alarm]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == (namespace, metric)
    assert props["Dimensions"] == [dimension]
    assert props["AlarmActions"], f"{alarm} notifies no one"


def test_every_dead_letter_queue_is_alarmed() -> None:
    alarmed = {dimension["Value"]["Fn::GetAtt"][0]
               for alarm in resources_of("AWS::CloudWatch::Alarm", TEMPLATE).values()
               if alarm["Properties"].get("Namespace") == "AWS/SQS"  # (metric-math alarms have none)
               for dimension in alarm["Properties"]["Dimensions"] if dimension["Name"] == "QueueName"}
    silent = sorted(q for q, queue in QUEUES.items() if "RedrivePolicy" not in queue["Properties"] and q not in alarmed)
    assert not silent, f"failure queues without an alarm: {silent}"


GATEWAY_RESPONSES = resources_of("AWS::ApiGateway::GatewayResponse", TEMPLATE)


@pytest.mark.parametrize(("response_type", "status", "code"), [
    ("MISSING_AUTHENTICATION_TOKEN", "404", "not_found"),  # what API Gateway answers for an unknown route
    ("REQUEST_TOO_LARGE", "413", "payload_too_large"),
    ("DEFAULT_4XX", None, "bad_request"),
    ("DEFAULT_5XX", None, "gateway_error"),
    ("THROTTLED", "429", "rate_limited"),  # the stage throttling below
])
def test_gateway_responses_answer_in_the_error_envelope(response_type: str, status: str | None, code: str) -> None:
    """What API Gateway answers before the app is reached has the app's envelope and JSON."""
    matching = [r["Properties"] for r in GATEWAY_RESPONSES.values() if r["Properties"]["ResponseType"] == response_type]
    assert len(matching) == 1, f"{response_type}: {len(matching)} gateway responses"
    props = matching[0]
    # Chalice names the API Gateway RestApi it generates RestAPI (tools/package.sh lints the merge).
    assert props["RestApiId"] == {"Ref": "RestAPI"}
    assert props.get("StatusCode") == status
    assert set(props["ResponseTemplates"]) == {"application/json"}
    body = json.loads(props["ResponseTemplates"]["application/json"])
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details", "requestId"}
    assert body["error"]["code"] == code and body["error"]["details"] == {}
    assert body["error"]["requestId"] == "$context.requestId"
    message = body["error"]["message"]
    assert message[0].isupper() and message.endswith("."), f"{response_type}: {message!r} is not a sentence"
    assert props["ResponseParameters"]["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"


def test_the_stage_throttles_every_method_and_path_with_the_templates_parameters() -> None:
    """The outer wall in front of the app's per-caller limits (chalicelib/services/rate_limits.py):
    merged into the RestAPI Chalice generates; its 429 says when to retry."""
    api = RESOURCES["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api" and set(api["Properties"]) == {"MethodSettings"}
    (setting,) = api["Properties"]["MethodSettings"]
    assert (setting["HttpMethod"], setting["ResourcePath"]) == ("*", "/*")
    for prop, parameter in (("ThrottlingRateLimit", "ApiThrottlingRateLimit"),
                            ("ThrottlingBurstLimit", "ApiThrottlingBurstLimit")):
        assert setting[prop] == {"Ref": parameter}
        declared = TEMPLATE["Parameters"][parameter]
        assert declared["Type"] == "Number" and declared["Default"] >= declared["MinValue"] >= 1
    assert TEMPLATE["Parameters"]["ApiThrottlingBurstLimit"]["Default"] >= TEMPLATE["Parameters"][
        "ApiThrottlingRateLimit"]["Default"]
    (throttled,) = [r["Properties"] for r in GATEWAY_RESPONSES.values()
                    if r["Properties"]["ResponseType"] == "THROTTLED"]
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_the_local_uri_limit_is_the_cloud_endpoint_types_quota() -> None:
    """make run answers 414 above API Gateway's URL quota for the endpoint type Chalice deploys
    (EDGE unless config.json says otherwise: 8192 characters; REGIONAL: 10240)."""
    from tools.local.server import MAX_URI_CHARS

    types = {CONFIG.get("api_gateway_endpoint_type", "EDGE")} | {
        CONFIG["stages"][stage].get("api_gateway_endpoint_type", CONFIG.get("api_gateway_endpoint_type", "EDGE"))
        for stage in CLOUD_STAGES}
    assert types == {"EDGE"} and MAX_URI_CHARS == 8192
