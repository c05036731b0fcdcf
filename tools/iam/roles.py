"""The roles of infra/iam/groups.json as CloudFormation: one ``AWS::IAM::Role`` per group, added
to a packaged template, each function's ``Role`` pointing at its group's (tools/iam/__init__.py)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from tools.iam.groups import API_FUNCTION, ROOT, Group, group_of

CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
SECRET_ID = "auralumic/{stage}/app"  # a stage's app secret unless it sets APP_SECRET_ID (README, "Deploying a stage")
# What a function needs to send traces, in a stage that enables X-Ray ("xray": true in its
# .chalice/config.json); the tests never trace. IAM cannot scope these to a resource.
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
# IAM's size limits, whitespace excluded: a role's inline policies together; one managed
# policy; managed policies per role (the default quota). POLICY_ENVELOPE: room kept for a
# document's own keys and name.
INLINE_POLICY_LIMIT = 10_240
MANAGED_POLICY_LIMIT = 6_144
MANAGED_POLICIES_PER_ROLE = 10
POLICY_ENVELOPE = 200
LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def logical_id(function: str) -> str:
    """The function's logical id in the template Chalice packages."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function == API_FUNCTION else to_cfn_resource_name(function)


def _short_names(resources: Mapping[str, Any], kind: str, name_property: str) -> dict[str, str]:
    """short name -> logical id, for the template's resources of ``kind``."""
    found = {}
    for logical, resource in resources.items():
        if resource.get("Type") != kind:
            continue
        name = resource.get("Properties", {}).get(name_property)
        if (
            isinstance(name, dict)
            and isinstance(name.get("Fn::Sub"), str)
            and name["Fn::Sub"].startswith("${ResourcePrefix}-")
        ):
            found[name["Fn::Sub"][len("${ResourcePrefix}-") :]] = logical
    return found


def _indexes(table: Mapping[str, Any]) -> set[str]:
    props = table.get("Properties", {})
    return {i["IndexName"] for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes") for i in props.get(kind, [])}


@dataclass(frozen=True)
class Stage:
    name: str
    sender: str  # the address of the stage's EMAIL_SENDER
    secret_id: str  # the stage's APP_SECRET_ID
    xray: bool = False  # "xray": true for the stage: its functions send traces
    prefix: str = "auralumic"  # the stage's RESOURCE_PREFIX (sizes policies once resolved)

    @classmethod
    def from_config(cls, stage: str, config_path: Path = CHALICE_CONFIG) -> Stage:
        config = json.loads(config_path.read_text())
        stage_config = config["stages"][stage]
        variables = {**config.get("environment_variables", {}), **stage_config.get("environment_variables", {})}
        xray = stage_config.get("xray", config.get("xray", False)) or any(
            f.get("xray") for f in stage_config.get("lambda_functions", {}).values()
        )
        return cls(
            stage,
            parseaddr(variables.get("EMAIL_SENDER", ""))[1],
            variables.get("APP_SECRET_ID") or SECRET_ID.format(stage=stage),
            bool(xray),
            variables.get("RESOURCE_PREFIX") or f"auralumic-{stage}",
        )


class Renderer:
    """groups.json resources -> CloudFormation ARNs, against one template's resources."""

    def __init__(self, resources: Mapping[str, Any], stage: Stage):
        self.resources = resources
        self.stage = stage
        self.tables = _short_names(resources, "AWS::DynamoDB::Table", "TableName")
        self.queues = _short_names(resources, "AWS::SQS::Queue", "QueueName")
        self.buckets = _short_names(resources, "AWS::S3::Bucket", "BucketName")

    def arns(self, resource: str) -> list[Any]:
        """The ARNs ``resource`` stands for; ValueError when it names nothing in the template."""
        kind, _, rest = resource.partition("/")
        partition_region_account = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
        if kind == "table":
            name, _, sub = rest.partition("/")
            logical = self._logical(self.tables, name, resource)
            if not sub:
                return [{"Fn::GetAtt": [logical, "Arn"]}]
            if sub == "stream/*" and self.resources[logical]["Properties"].get("StreamSpecification"):
                return [{"Fn::Sub": f"${{{logical}.Arn}}/stream/*"}]
            index = sub.removeprefix("index/")
            if sub.startswith("index/") and index in _indexes(self.resources[logical]):
                return [{"Fn::Sub": f"${{{logical}.Arn}}/index/{index}"}]
            raise ValueError(f"{resource}: table {name} has no such index or stream")
        if kind == "queue":
            return [{"Fn::GetAtt": [self._logical(self.queues, rest, resource), "Arn"]}]
        if kind == "bucket":
            name, slash, objects = rest.partition("/")
            logical = self._logical(self.buckets, name, resource)
            return [{"Fn::Sub": f"${{{logical}.Arn}}/{objects}"}] if slash else [{"Fn::GetAtt": [logical, "Arn"]}]
        if resource == "secret/app":  # Secrets Manager appends 6 random characters to a secret's ARN
            return [{"Fn::Sub": partition_region_account % ("secretsmanager", f"secret:{self.stage.secret_id}-??????")}]
        if resource == "identity/sender":
            if not self.stage.sender:
                raise ValueError(f"{resource}: stage {self.stage.name} sets no EMAIL_SENDER")
            domain = self.stage.sender.rsplit("@", 1)[1]
            return [
                {"Fn::Sub": partition_region_account % ("ses", f"identity/{identity}")}
                for identity in (domain, self.stage.sender)
            ]
        if resource == "meeting/*":
            return [{"Fn::Sub": partition_region_account % ("chime", "meeting/*")}]
        if resource == "log-group/lambda":
            return [{"Fn::Sub": partition_region_account % ("logs", "log-group:/aws/lambda/*")}]
        if resource == "*":
            return ["*"]
        raise ValueError(f"{resource}: not a resource groups.json can name (see tools/iam/__init__.py)")

    @staticmethod
    def _logical(names: Mapping[str, str], name: str, resource: str) -> str:
        if name not in names:
            raise ValueError(f"{resource}: infra/resources.json defines no {name!r} (known: {sorted(names)})")
        return names[name]

    def policy(self, group: Group) -> dict[str, Any]:
        """The group's policy document: one statement per set of actions, naming every
        resource that set applies to."""
        by_actions: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for resource, granted in sorted(group.allowed().items()):
            by_actions[tuple(sorted(granted))].append(resource)
        statements = []
        counts: dict[str, int] = defaultdict(int)
        for actions, resources in sorted(by_actions.items(), key=lambda item: (item[1][0], item[0])):
            service = actions[0].split(":")[0]
            counts[service] += 1
            arns = [arn for resource in resources for arn in self.arns(resource)]
            statements.append(
                {
                    "Sid": f"{service.capitalize()}{counts[service]}",
                    "Effect": "Allow",
                    "Action": list(actions),
                    "Resource": arns,
                }
            )
        if self.stage.xray:  # the stage traces (its "xray" setting): every function sends its segments
            statements.append({"Sid": "Tracing", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"})
        return {"Version": "2012-10-17", "Statement": statements}

    def role_resources(self, group: Group) -> dict[str, dict[str, Any]]:
        """The group's role (logical id ``group.role``) with its policy inline, and, when the
        policy outgrows IAM's inline limit, the rest in managed policies attached to the role
        (``<role>Policy2``...)."""
        chunks: list[list[dict[str, Any]]] = [[]]
        room = INLINE_POLICY_LIMIT - POLICY_ENVELOPE
        for statement in self.policy(group)["Statement"]:
            size = resolved_size(statement, self.stage.prefix)
            if size > room and chunks[-1]:
                chunks.append([])
                room = MANAGED_POLICY_LIMIT - POLICY_ENVELOPE
            if size > room:
                raise ValueError(f"statement {statement['Sid']} alone is ~{size} characters: split its resources")
            chunks[-1].append(statement)
            room -= size
        if len(chunks) - 1 > MANAGED_POLICIES_PER_ROLE:
            raise ValueError(
                f"its policy needs {len(chunks) - 1} managed policies, over IAM's {MANAGED_POLICIES_PER_ROLE}"
            )
        role: dict[str, Any] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"{group.about} (infra/iam/groups.json: {group.name})"[:1000],
                "AssumeRolePolicyDocument": LAMBDA_TRUST_POLICY,
                "Policies": [{"PolicyName": group.name, "PolicyDocument": _document(chunks[0])}],
            },
        }
        found = {group.role: role}
        for number, chunk in enumerate(chunks[1:], start=2):
            name = f"{group.role}Policy{number}"
            found[name] = {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Description": f"Part {number} of the policy of {group.role} (infra/iam/groups.json: {group.name})",
                    "PolicyDocument": _document(chunk),
                },
            }
            role["Properties"].setdefault("ManagedPolicyArns", []).append({"Ref": name})
        return found


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def resolved_size(document: Any, prefix: str) -> int:
    """The policy's size as IAM counts it (no whitespace) once CloudFormation has resolved
    it, with long stand-ins for the region and account (and ARNs of the longest shape)."""
    text = json.dumps(document, separators=(",", ":"))
    stand_ins = {
        "${AWS::Partition}": "aws-us-gov",
        "${AWS::Region}": "ap-southeast-2",
        "${AWS::AccountId}": "123456789012",
        "${ResourcePrefix}": prefix,
    }
    for key, value in stand_ins.items():
        text = text.replace(key, value)
    arn = f"arn:aws-us-gov:dynamodb:ap-southeast-2:123456789012:table/{prefix}-"
    text = re.sub(r'\{"Fn::GetAtt":\["(\w+)","Arn"\]\}', lambda m: f'"{arn}{m.group(1).lower()}"', text)
    text = re.sub(r"\$\{(\w+)\.Arn\}", lambda m: f"{arn}{m.group(1).lower()}", text)
    return len(re.sub(r"\s", "", text))


def apply(template: dict[str, Any], groups: Mapping[str, Group], stage: Stage) -> list[str]:
    """Give every function of the packaged ``template`` its group's role (added to the
    template); returns the problems (the template is then not to be deployed)."""
    resources = template["Resources"]
    problems = []
    renderer = Renderer(resources, stage)
    owners = group_of(groups)
    functions = {
        logical: res
        for logical, res in resources.items()
        if res.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    by_logical = {logical_id(function): function for function in owners}
    for logical in sorted(functions):
        if logical not in by_logical:
            problems.append(
                f"function {logical} is in no group of infra/iam/groups.json (add its Chalice name "
                f"to the functions of the group whose permissions it needs)"
            )
    for function in sorted(owners):
        if logical_id(function) not in functions:
            problems.append(
                f"infra/iam/groups.json: group {owners[function].name} names function {function}, "
                f"which the template does not have"
            )
    ours: set[str] = set()
    for group in groups.values():
        if group.role in resources:
            problems.append(f"{group.role}: the template already has a resource of that name")
            continue
        try:
            rendered = renderer.role_resources(group)
        except ValueError as exc:
            problems.append(f"infra/iam/groups.json, group {group.name}: {exc}")
            continue
        resources.update(rendered)
        ours |= set(rendered)
    for logical, function in functions.items():
        if logical in by_logical:
            function.setdefault("Properties", {})["Role"] = {"Fn::GetAtt": [owners[by_logical[logical]].role, "Arn"]}
    stray = sorted(
        name
        for name, res in resources.items()
        if res.get("Type") in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and name not in ours
    )
    if stray:
        problems.append(
            f"IAM resources outside infra/iam/groups.json: {stray} (every function's permissions "
            f"come from its group's role)"
        )
    return problems
