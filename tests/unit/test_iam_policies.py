"""Least privilege (tools/iam): infra/iam/groups.json against the operations the functions
were recorded making (infra/iam/recorded.json, refreshed by `make iam-snapshot`), its resources
against infra/resources.json, and the roles it renders. Fast: no `chalice package` here. A full
run of the suite also compares groups.json with what this run recorded (tests/support/iam_recording.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools import iam
from tools.resources import load_template

GROUPS = iam.load_groups()
CONFIG = json.loads(iam.CHALICE_CONFIG.read_text())
CLOUD_STAGES = sorted(stage for stage in CONFIG["stages"] if stage != "local")
NAMING = iam.Naming(prefix="p", secret_id="auralumic/test/app", sender="notifications@example.com")
# Actions IAM cannot scope to a resource: the only ones a group may grant on "*".
UNSCOPED_ACTIONS = {"cloudwatch:PutMetricData", *iam.XRAY_ACTIONS}


def test_the_groups_grant_what_the_recorded_functions_need_and_nothing_more() -> None:
    comparison = iam.compare(iam.load_snapshot(), GROUPS)
    assert comparison.ok, "infra/iam/groups.json disagrees with infra/iam/recorded.json:\n" + "\n".join(
        comparison.lines()
    )


def test_every_function_of_the_app_is_in_exactly_one_group(chalice_app: Any) -> None:
    functions = (
        {iam.API_FUNCTION}
        | {source.name for source in chalice_app.event_sources}
        | {function.name for function in chalice_app.pure_lambda_functions}
    )
    named = [function for group in GROUPS.values() for function in group.functions]
    assert sorted(f for f in set(named) if named.count(f) > 1) == [], "a function in two groups"
    assert sorted(functions - set(named)) == [], "functions in no group of infra/iam/groups.json"
    assert sorted(set(named) - functions) == [], "groups.json names functions the app does not have"


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_every_granted_resource_is_one_infra_defines(stage: str) -> None:
    renderer = iam.Renderer(load_template()["Resources"], iam.Stage.from_config(stage))
    problems = []
    for group in GROUPS.values():
        for resource, actions in group.allowed().items():
            try:
                renderer.arns(resource)
            except ValueError as exc:
                problems.append(f"{group.name}: {exc}")
            if resource == "*":
                assert set(actions) <= UNSCOPED_ACTIONS, f"{group.name}: {sorted(actions)} on '*'"
            for action in actions:
                assert "*" not in action, f"{group.name}: wildcard action {action}"
    assert not problems, "\n".join(problems)


def _documents(rendered: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The role's policy documents: inline, then the managed policies attached to it."""
    properties = rendered[role]["Properties"]
    attached = [rendered[ref["Ref"]]["Properties"]["PolicyDocument"] for ref in properties.get("ManagedPolicyArns", [])]
    return [policy["PolicyDocument"] for policy in properties["Policies"]] + attached


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_each_role_grants_exactly_its_groups_actions_on_their_arns(stage: str) -> None:
    renderer = iam.Renderer(load_template()["Resources"], iam.Stage.from_config(stage))
    for group in GROUPS.values():
        rendered = renderer.role_resources(group)
        assert rendered[group.role]["Properties"]["AssumeRolePolicyDocument"] == iam.LAMBDA_TRUST_POLICY
        documents = _documents(rendered, group.role)
        assert len(rendered) == len(documents), "every resource rendered is the role or one of its policies"
        statements = [statement for document in documents for statement in document["Statement"]]
        assert all(statement["Effect"] == "Allow" and "Condition" not in statement for statement in statements)
        granted = {
            (action, json.dumps(arn, sort_keys=True))
            for statement in statements
            if statement.get("Sid") != "Tracing"
            for action in statement["Action"]
            for arn in statement["Resource"]
        }
        expected = {
            (action, json.dumps(arn, sort_keys=True))
            for resource, actions in group.allowed().items()
            for action in actions
            for arn in renderer.arns(resource)
        }
        assert granted == expected, group.name
        inline = iam.resolved_size(rendered[group.role]["Properties"]["Policies"], f"auralumic-{stage}")
        assert inline <= iam.INLINE_POLICY_LIMIT, f"{group.name}: ~{inline} characters of inline policy"
        for document in documents[1:]:
            assert iam.resolved_size(document, f"auralumic-{stage}") <= iam.MANAGED_POLICY_LIMIT, group.name


def test_a_policy_over_the_inline_limit_continues_in_managed_policies_attached_to_the_role() -> None:
    """~3,000 characters per statement: three fit inline, the fourth goes to a managed policy."""
    tables = {f"table/users/index/{index}" for index in ("byRole", "byStatus", "byEmail", "byName")}
    grants = {
        table: frozenset({f"dynamodb:{verb}{n}" for n in range(130)})
        for table, verb in zip(sorted(tables), ("Query", "Scan", "GetItem", "PutItem"), strict=True)
    }
    group = iam.Group("big", "Big.", ("f",), grants, ())
    rendered = iam.Renderer(load_template()["Resources"], iam.Stage.from_config("prod")).role_resources(group)
    assert sorted(rendered) == ["BigRole", "BigRolePolicy2"]
    assert rendered["BigRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "BigRolePolicy2"}]
    assert rendered["BigRolePolicy2"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert [len(document["Statement"]) for document in _documents(rendered, "BigRole")] == [3, 1]


def test_tracing_stages_let_every_role_send_traces() -> None:
    renderer = iam.Renderer(
        load_template()["Resources"], iam.Stage("dev", "a@example.com", "s", xray=True, prefix="auralumic-dev")
    )
    for group in GROUPS.values():
        statements = renderer.policy(group)["Statement"]
        assert {"Sid": "Tracing", "Effect": "Allow", "Action": list(iam.XRAY_ACTIONS), "Resource": "*"} in statements


def test_every_cloud_only_grant_says_why_no_test_reaches_it() -> None:
    for group in GROUPS.values():
        for entry in group.cloud_only:
            assert entry.why[0].isupper() and entry.why.endswith("."), f"{group.name}: {entry.why!r}"
            overlap = set(entry.actions) & group.grants.get(entry.resource, frozenset())
            assert not overlap, f"{group.name}: {sorted(overlap)} on {entry.resource} is both granted and cloud-only"


def test_the_app_secret_and_the_sender_are_the_stages_own() -> None:
    renderer = iam.Renderer(load_template()["Resources"], iam.Stage.from_config("prod"))
    (secret,) = renderer.arns("secret/app")
    assert secret["Fn::Sub"].endswith(":secret:auralumic/prod/app-??????")
    identities = sorted(arn["Fn::Sub"].rsplit("identity/", 1)[1] for arn in renderer.arns("identity/sender"))
    assert identities == ["auralumic.example", "notifications@auralumic.example"]


@pytest.mark.parametrize(
    ("service", "operation", "params", "needs"),
    [
        (
            "dynamodb",
            "Query",
            {"TableName": "p-users", "IndexName": "byEmail"},
            [("dynamodb:Query", "table/users/index/byEmail")],
        ),
        ("dynamodb", "Query", {"TableName": "p-users"}, [("dynamodb:Query", "table/users")]),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "p-ledger-entries"}},
                    {"Update": {"TableName": "p-users"}},
                    {"ConditionCheck": {"TableName": "p-readings"}},
                    {"Delete": {"TableName": "p-reading-slots"}},
                ]
            },
            [
                ("dynamodb:PutItem", "table/ledger-entries"),
                ("dynamodb:UpdateItem", "table/users"),
                ("dynamodb:ConditionCheckItem", "table/readings"),
                ("dynamodb:DeleteItem", "table/reading-slots"),
            ],
        ),
        (
            "dynamodb",
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": "p-users"}}]},
            [("dynamodb:GetItem", "table/users")],
        ),
        (
            "dynamodb",
            "BatchGetItem",
            {"RequestItems": {"p-users": {}, "p-readers": {}}},
            [("dynamodb:BatchGetItem", "table/users"), ("dynamodb:BatchGetItem", "table/readers")],
        ),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/p-email"},
            [("sqs:SendMessage", "queue/email")],
        ),
        ("sqs", "GetQueueUrl", {"QueueName": "p-notifications"}, [("sqs:GetQueueUrl", "queue/notifications")]),
        (
            "s3",
            "HeadObject",
            {"Bucket": "p-media", "Key": "media/u1/profile_image/x.webp"},
            [("s3:GetObject", "bucket/media/media/*")],
        ),
        ("s3", "HeadBucket", {"Bucket": "p-media"}, [("s3:ListBucket", "bucket/media")]),
        (
            "s3",
            "DeleteObjects",
            {"Bucket": "p-media", "Delete": {"Objects": [{"Key": "exports/u1/e.json"}]}},
            [("s3:DeleteObject", "bucket/media/exports/*")],
        ),
        (
            "s3",
            "CopyObject",
            {"Bucket": "p-media", "Key": "media/b", "CopySource": {"Bucket": "p-media", "Key": "a/b"}},
            [("s3:GetObject", "bucket/media/a/*"), ("s3:PutObject", "bucket/media/media/*")],
        ),
        (
            "ses",
            "SendRawEmail",
            {"Source": "Auralumic <notifications@example.com>"},
            [("ses:SendRawEmail", "identity/sender")],
        ),
        (
            "secretsmanager",
            "GetSecretValue",
            {"SecretId": "auralumic/test/app"},
            [("secretsmanager:GetSecretValue", "secret/app")],
        ),
        ("chime-sdk-meetings", "CreateMeeting", {}, [("chime:CreateMeeting", "meeting/*")]),
        ("sts", "GetCallerIdentity", {}, []),
        ("kinesis", "PutRecord", {}, [("kinesis:PutRecord", "kinesis/*")]),  # unknown: no group grants it
    ],
)
def test_what_an_operation_needs(
    service: str, operation: str, params: dict[str, Any], needs: list[tuple[str, str]]
) -> None:
    assert iam.permissions(service, operation, params, NAMING) == needs


def test_a_grant_missing_or_unused_is_named_with_its_group_and_fix() -> None:
    groups = {
        "jobs": iam.Group(
            "jobs", "Jobs.", ("job_a",), {"table/users": frozenset({"dynamodb:GetItem", "dynamodb:PutItem"})}, ()
        )
    }
    comparison = iam.compare(
        {
            "job_a": {"table/users": {"dynamodb:GetItem", "dynamodb:Query"}},
            "job_b": {"queue/email": {"sqs:SendMessage"}},
        },
        groups,
    )
    assert comparison.missing == [
        "function job_a calls dynamodb:Query on table/users, which group jobs does not grant"
        ': add "table/users": ["dynamodb:Query"] to groups.jobs.grants'
    ]
    assert comparison.unused[0].startswith("group jobs grants dynamodb:PutItem on table/users, which none of its")
    assert comparison.unknown[0].startswith("function job_b is in no group")


def test_packaging_gives_each_function_its_groups_role_and_refuses_one_in_no_group() -> None:
    functions = {iam.logical_id(f): f for group in GROUPS.values() for f in group.functions}
    resources = {**load_template()["Resources"], "NewJob": {"Type": "AWS::Serverless::Function", "Properties": {}}}
    for logical in functions:
        resources.setdefault(logical, {"Type": "AWS::Serverless::Function", "Properties": {}})
    template = {"Resources": resources}
    problems = iam.apply(template, GROUPS, iam.Stage.from_config("dev"))
    assert problems == [
        "function NewJob is in no group of infra/iam/groups.json (add its Chalice name to the functions of "
        "the group whose permissions it needs)"
    ]
    owners = iam.group_of(GROUPS)
    for logical, function in functions.items():
        assert resources[logical]["Properties"]["Role"] == {"Fn::GetAtt": [owners[function].role, "Arn"]}
    assert {name for name, res in resources.items() if res["Type"] == "AWS::IAM::Role"} == {
        group.role for group in GROUPS.values()
    }
