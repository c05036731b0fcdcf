"""``make deploy`` (tools/deploy.py): its checks' sentences, its steps in a dry run (nothing
changed), and a whole deploy against moto's CloudFormation: upload, change set with tags and
parameters, execution, the catalog seeded on the first deploy only, a review-only change set."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools import budgets, deploy, deploy_checks

ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"
STAGE = "dev"
ENV = deploy.stage_environment(STAGE)
PREFIX = ENV["RESOURCE_PREFIX"]
SECRET, KEYS = deploy_checks.app_secret(STAGE)
SENDER_DOMAIN = "dev.auralumic.example"
BUCKET = f"auralumic-artifacts-{ACCOUNT}-{REGION}"
SVIX = "whsec_dGVzdC1vbmx5LWNsZXJrLXdlYmhvb2stc2lnbmluZy1rZXk="
ROOT = Path(__file__).resolve().parents[2]

# What `make package STAGE=dev` writes, in small: a SAM template whose functions point at the
# local bundle, the catalog table the seed step looks at, and the custom domain parameters.
TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Transform": "AWS::Serverless-2016-10-31",
    "Parameters": {
        "ResourcePrefix": {"Type": "String", "Default": PREFIX, "AllowedValues": [PREFIX]},
        "DomainName": {"Type": "String", "Default": ""},
        "CertificateArn": {"Type": "String", "Default": ""},
    },
    "Resources": {
        "CatalogTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "${ResourcePrefix}-catalog"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            },
        },
        "APIHandler": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Runtime": "python3.11", "Handler": "app.app", "CodeUri": "./deployment.zip"},
        },
    },
}


class Commands:
    """The subprocesses the tool runs (package, seed): recorded; packaging writes ``out``."""

    def __init__(self, out_root: Path) -> None:
        self.out_root = out_root
        self.ran: list[list[str]] = []

    def __call__(self, command: list[str], env: dict[str, str]) -> int:
        self.ran.append(command)
        if command[:2] == ["bash", "tools/package.sh"]:
            out = self.out_root / command[2]
            out.mkdir(parents=True, exist_ok=True)
            (out / "sam.json").write_text(json.dumps(TEMPLATE))
            with zipfile.ZipFile(out / "deployment.zip", "w") as bundle:
                bundle.writestr("app.py", "app = None\n")
        return 0


def session() -> Any:
    return boto3.session.Session(region_name=REGION)


def secret_values(**overrides: str) -> dict[str, str]:
    return dict.fromkeys(KEYS, "x") | {"clerkWebhookSecret": SVIX} | overrides


def ready_account(secret: dict[str, str] | None = None) -> None:
    """The prerequisites a newcomer sets up once: the app secret and a verified SES domain."""
    values = secret_values() if secret is None else secret
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET, SecretString=json.dumps(values))
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=SENDER_DOMAIN)


def run(tmp_path: Path, **options: Any) -> tuple[int, list[str], Commands]:
    lines: list[str] = []
    commands = Commands(tmp_path)
    tool = deploy.Deploy(deploy.Options(stage=STAGE, out_root=tmp_path, **options), session(), commands, lines.append)
    return tool.run(), lines, commands


def text(lines: list[str]) -> str:
    return "\n".join(lines)


def stacks() -> list[dict[str, Any]]:
    return boto3.client("cloudformation", region_name=REGION).describe_stacks()["Stacks"]


def test_the_secret_keys_are_the_ones_the_app_requires() -> None:
    from chalicelib.config import SECRETS

    required = {key for _env, key, needed in SECRETS.values() if needed}
    assert SECRET == ENV["APP_SECRET_ID"] == "auralumic/dev/app"
    assert required <= set(KEYS)
    assert "pusherCluster" in KEYS  # the dev stage has no PUSHER_HOST


def test_a_dry_run_prints_every_step_and_changes_nothing(aws: None, tmp_path: Path) -> None:
    ready_account()
    code, lines, commands = run(tmp_path, dry_run=True)
    output = text(lines)
    assert code == 0, output
    steps = [line for line in lines if line.startswith("[")]
    assert [s.split("] ", 1)[1].split(":")[0].split(" (")[0] for s in steps] == [
        f"checks for stage {STAGE}, stack auralumic-{STAGE}",
        "package",
        "upload",
        "change set",
        "deploy",
        "seed the catalog",
        "URLs",
    ]
    assert f"ok   AWS account {ACCOUNT} in {REGION}" in output
    assert f"ok   the secret {SECRET} holds every key" in output
    assert "(dry run) would run bash tools/package.sh dev" in output
    assert f"(dry run) would create the artifact bucket {BUCKET} (named per account and region" in output
    assert "CAPABILITY_AUTO_EXPAND" in output and f"ResourcePrefix={PREFIX}" in output
    assert "tags app=auralumic, stage=dev" in output
    assert "(dry run) would seed the default catalog (first deploy)" in output
    assert commands.ran == []  # neither packaged nor seeded
    assert BUCKET not in {b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}
    assert stacks() == []


def test_a_missing_secret_key_is_named_and_nothing_is_deployed(aws: None, tmp_path: Path) -> None:
    values = secret_values()
    del values["pusherSecret"]
    ready_account(values)
    code, lines, commands = run(tmp_path)
    output = text(lines)
    assert code == 1
    assert f"FAIL The secret {SECRET} lacks the key pusherSecret: add it" in output
    assert "a prerequisite is missing (FAIL above); nothing was changed." in output
    assert commands.ran == [] and stacks() == []


def test_a_malformed_webhook_secret_is_refused_as_the_app_would(aws: None, tmp_path: Path) -> None:
    ready_account(secret_values(clerkWebhookSecret="not-a-svix-secret"))
    code, lines, _ = run(tmp_path, dry_run=True)
    assert code == 1
    assert f"FAIL The app would refuse to start: setting clerkWebhookSecret in secret {SECRET} must be" in text(lines)


def test_a_missing_secret_and_an_unverified_sender_are_each_one_sentence(aws: None, tmp_path: Path) -> None:
    code, lines, _ = run(tmp_path)
    output = text(lines)
    assert code == 1
    assert f"FAIL The secret {SECRET} does not exist in {REGION}: create it with `aws secretsmanager create-secret" in (
        output
    )
    assert (
        "FAIL The sender notifications@dev.auralumic.example (EMAIL_SENDER of .chalice/config.json) is not a "
        f"verified SES identity in {REGION}: verify the domain dev.auralumic.example (with DKIM)" in output
    )


def test_a_custom_domain_needs_a_certificate_in_us_east_1(aws: None, tmp_path: Path) -> None:
    ready_account()
    code, lines, _ = run(tmp_path, dry_run=True, parameters={"DomainName": "api.example.com"})
    assert code == 1
    assert "FAIL The custom domain api.example.com needs CertificateArn" in text(lines)
    arn = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/abc"
    code, lines, _ = run(tmp_path, dry_run=True, parameters={"DomainName": "api.example.com", "CertificateArn": arn})
    assert code == 1
    assert f"FAIL CertificateArn {arn} must be an ACM certificate in us-east-1" in text(lines)


def test_the_certificate_must_be_issued_and_cover_the_domains(aws: None) -> None:
    acm = boto3.client("acm", region_name="us-east-1")
    arn = acm.request_certificate(DomainName="*.example.com", ValidationMethod="DNS")["CertificateArn"]
    parameters = {"DomainName": "api.example.com", "MediaDomainName": "media.other.com", "CertificateArn": arn}
    messages = [f.message for f in deploy_checks.check_domains(session(), parameters)]
    assert messages == [
        f"The certificate {arn} is PENDING_VALIDATION, not ISSUED: finish its DNS validation, then deploy again.",
        f"The certificate {arn} does not cover media.other.com (it covers *.example.com).",
    ]


def test_a_deploy_uploads_creates_the_stack_and_seeds_the_catalog_once(aws: None, tmp_path: Path) -> None:
    ready_account()
    code, lines, commands = run(tmp_path)
    output = text(lines)
    assert code == 0, output
    assert commands.ran[0] == ["bash", "tools/package.sh", STAGE]
    assert commands.ran[1][1:] == ["-m", "tools.seed_catalog", "--stage", STAGE]
    assert f"artifact bucket {BUCKET} (named per account and region): created" in output
    keys = [o["Key"] for o in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(k.startswith(f"auralumic-{STAGE}/") and k.endswith(".zip") for k in keys)
    packaged = json.loads((tmp_path / STAGE / "packaged.json").read_text())
    assert packaged["Resources"]["APIHandler"]["Properties"]["CodeUri"].startswith(f"s3://{BUCKET}/auralumic-dev/")
    [stack] = stacks()
    assert stack["StackName"] == f"auralumic-{STAGE}" and stack["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {"app": "auralumic", "stage": STAGE}
    assert "seeded (first deploy)" in output
    assert "API URL:" in output and "media URL:" in output  # moto keeps no outputs: test_the_urls_come_from...

    # The next deploy updates the stack and leaves the catalog (now with entries) alone.
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=f"{PREFIX}-catalog", Item={"pk": {"S": "catalog"}, "sk": {"S": "topic#career"}}
    )
    code, lines, commands = run(tmp_path, package=False)
    output = text(lines)
    assert code == 0, output
    assert "skipped (--skip-package)" in output
    assert "already uploaded" in output
    assert "no changes: the stack already runs this template and these parameters" in output
    assert f"the catalog {PREFIX}-catalog has entries: not seeded" in output
    assert commands.ran == []


def test_no_execute_changeset_stops_for_review(aws: None, tmp_path: Path) -> None:
    ready_account()
    code, lines, commands = run(tmp_path, execute=False)
    output = text(lines)
    assert code == 0, output
    assert "stop for review (--no-execute-changeset)" in output
    assert "aws cloudformation execute-change-set --change-set-name arn:aws:cloudformation:" in output
    [stack] = stacks()
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert [c[:2] for c in commands.ran] == [["bash", "tools/package.sh"]]  # packaged, not seeded


def test_the_urls_come_from_the_stack_outputs() -> None:
    outputs = {
        "ApiUrl": "https://api.example.com/",
        "MediaBaseUrl": "https://media.example.com",
        "ApiDomainTarget": "d1.cloudfront.net",
    }
    lines = deploy.url_lines(outputs, {"API_BASE_URL": "https://api.example.com", "APP_BASE_URL": "https://x"}, True)
    assert lines[:3] == [
        "API URL:   https://api.example.com/",
        "media URL: https://media.example.com",
        "DNS: without HostedZoneId, point the API's domain at d1.cloudfront.net",
    ]
    assert any("https://api.example.com/webhooks/stripe" in line for line in lines)
    assert not any(line.startswith("note: API_BASE_URL") for line in lines)
    assert "set it to https://api.example.com" in deploy.url_lines(outputs, {"API_BASE_URL": "https://old"}, False)[3]


def test_the_bundle_budget_fails_over_50_mb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", "x" * 2048)
    assert budgets.main(["bundle", str(bundle)]) == 0
    monkeypatch.setattr(budgets, "BUNDLE_ZIPPED_BUDGET", 10)
    size = budgets.bundle_size(bundle)
    assert size.problems == [
        f"{bundle} is 0.0 MB zipped, over the budget of 0 MB: drop or slim a dependency of requirements.txt."
    ]
    assert budgets.main(["bundle", str(bundle)]) == 1
    assert budgets.BUNDLE_UNZIPPED_LIMIT == 250 * budgets.MB


def test_package_accepts_one_cloud_stage_only() -> None:
    done = subprocess.run(["bash", "tools/package.sh", "local"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "package: unknown stage 'local' (cloud stages: dev prod)" in done.stderr


def test_the_custom_domain_resources_exist_only_when_their_parameters_are_set() -> None:
    from tools.resources import load_template

    template = load_template()
    for name in ("DomainName", "MediaDomainName", "CertificateArn", "HostedZoneId"):
        assert template["Parameters"][name]["Default"] == ""  # no custom domain unless asked for
    conditions = {
        name: res.get("Condition")
        for name, res in template["Resources"].items()
        if res["Type"].startswith(("AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping", "AWS::Route53::"))
    }
    assert conditions == {
        "ApiDomainName": "HasApiDomain",
        "ApiBasePathMapping": "HasApiDomain",
        "ApiDomainRecord": "HasApiRecord",
        "ApiDomainRecordIpv6": "HasApiRecord",
        "MediaDomainRecord": "HasMediaRecord",
        "MediaDomainRecordIpv6": "HasMediaRecord",
    }
    distribution = template["Resources"]["MediaDistribution"]["Properties"]["DistributionConfig"]
    assert distribution["Aliases"]["Fn::If"][0] == distribution["ViewerCertificate"]["Fn::If"][0] == "HasMediaDomain"
    assert template["Outputs"]["ApiUrl"]["Value"]["Fn::If"][0] == "HasApiDomain"
    assert "CertificateArn" in json.dumps(template["Rules"]["CustomDomainsNeedACertificate"]["Assertions"])
