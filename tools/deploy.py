"""``make deploy STAGE=dev|prod``: a stage of the cloud from a clone, in one command.

    python -m tools.deploy --stage dev [--dry-run] [--no-execute-changeset] [--skip-package]
        [--artifact-bucket NAME] [--parameter-overrides K=V ...] [--tags K=V ...] [--no-seed]

Steps, each printed as it runs (``--dry-run`` runs only the read-only ones and prints what
the others would do):

1. checks: AWS credentials and region (sts get-caller-identity), the Secrets Manager secret
   ``auralumic/<stage>/app`` with every key the app reads, the SES identity of the stage's
   EMAIL_SENDER, the certificate of a custom domain; a failure names what is missing and stops.
2. package: ``bash tools/package.sh <stage>`` (chalice package + infra/, cfn-lint, bundle budget).
3. upload: the bundle and the template to the artifact bucket (``--artifact-bucket`` or
   ARTIFACT_BUCKET; else ``auralumic-artifacts-<account>-<region>``, created if missing), keyed by
   content, so an unchanged bundle is not uploaded again (the equivalent of ``aws cloudformation package``).
4. change set on stack ``auralumic-<stage>`` (CREATE or UPDATE) with the capabilities, parameters
   (``ResourcePrefix`` pinned; parameters not overridden keep their previous values) and tags;
   its changes are printed. ``--no-execute-changeset`` stops here for review.
5. execute and wait; a failure prints the failed resources (CloudFormation rolls back itself).
6. seed the catalog once: when the stage's catalog table is empty (the first deploy, or one whose
   seed did not run), ``python -m tools.seed_catalog``; never over an admin's later edits.
7. print the API URL and the media URL from the stack's outputs.

Uses boto3 (no AWS CLI needed) and your credentials from the environment (AWS_PROFILE...).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from tools import deploy_checks
from tools.deploy_checks import Finding
from tools.local_env import stage_environment

ROOT = Path(__file__).resolve().parent.parent
CLOUD_STAGES = ("dev", "prod")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
CATALOG_PARTITION = "catalog"  # chalicelib/models/catalog.py
IN_PROGRESS = "_IN_PROGRESS"
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")

Runner = Callable[[list[str], dict[str, str]], int]


def run_command(command: list[str], env: dict[str, str]) -> int:
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def stack_name(stage: str) -> str:
    return f"auralumic-{stage}"


def default_artifact_bucket(account: str, region: str) -> str:
    return f"auralumic-artifacts-{account}-{region}"


def pairs(values: list[str], what: str) -> dict[str, str]:
    parsed = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"deploy: {what} must be KEY=VALUE, got {item!r}")
        parsed[key] = value
    return parsed


@dataclass
class Options:
    stage: str
    dry_run: bool = False
    execute: bool = True
    package: bool = True
    seed: bool = True
    artifact_bucket: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    out_root: Path = ROOT / "out"


class Deploy:
    def __init__(
        self, options: Options, session: Any, run: Runner = run_command, say: Callable[[str], None] = print
    ) -> None:
        self.options = options
        self.session = session
        self.run_command = run
        self.say = say
        self.stage = options.stage
        self.stack = stack_name(options.stage)
        self.env = stage_environment(options.stage)
        self.prefix = self.env["RESOURCE_PREFIX"]
        self.out = options.out_root / options.stage
        self.region = session.region_name or ""
        self.account = ""
        self.step_no = 0

    # Output.
    def step(self, title: str) -> None:
        self.step_no += 1
        self.say(f"[{self.step_no}] {title}")

    def note(self, line: str) -> None:
        self.say(f"    {line}")

    def would(self, line: str) -> None:
        self.note(f"(dry run) would {line}")

    def client(self, name: str) -> Any:
        return self.session.client(name)

    # 1. Checks.
    def checks(self) -> bool:
        mode = " (dry run: nothing is changed)" if self.options.dry_run else ""
        self.step(f"checks for stage {self.stage}, stack {self.stack}{mode}")
        identity, findings = deploy_checks.caller_identity(self.session)
        if identity:
            self.account = identity["account"]
            self.note(f"ok   AWS account {identity['account']} in {self.region} as {identity['arn']}")
        else:
            self.report(findings)
            return False
        groups = [
            ("secret", deploy_checks.check_secret(self.session, self.stage, self.env)),
            ("sender", deploy_checks.check_sender(self.session, self.env.get("EMAIL_SENDER", ""))),
            ("domains", deploy_checks.check_domains(self.session, self.options.parameters)),
            ("settings", deploy_checks.check_stage_settings(self.stage, self.env, self.options.parameters)),
        ]
        passed = {
            "secret": f"the secret {deploy_checks.app_secret(self.stage, self.env)[0]} holds every key",
            "sender": f"EMAIL_SENDER {self.env.get('EMAIL_SENDER', '')} is a verified SES identity",
            "domains": "custom domains: "
            + (
                ", ".join(v for k, v in self.options.parameters.items() if k in ("DomainName", "MediaDomainName") and v)
                or "none (the execute-api and CloudFront URLs)"
            ),
        }
        ok = True
        for name, group in groups:
            if not any(f.fatal for f in group) and name in passed:
                self.note(f"ok   {passed[name]}")
            self.report(group)
            ok = ok and not any(f.fatal for f in group)
        return ok

    def report(self, findings: list[Finding]) -> None:
        for finding in findings:
            self.note(f"{finding.label} {finding.message}")

    # 2. Package.
    def package(self) -> bool:
        command = ["bash", "tools/package.sh", self.stage]
        self.step(f"package: {' '.join(command)}")
        if not self.options.package:
            self.note(f"skipped (--skip-package): using {self.out}/sam.json as it is")
        elif self.options.dry_run:
            self.would(f"run {' '.join(command)}")
            return True
        elif self.run_command(command, dict(os.environ)) != 0:
            self.say("deploy: packaging failed (above); nothing was deployed.")
            return False
        if not (self.out / "sam.json").is_file():
            self.say(f"deploy: {self.out}/sam.json is missing: run make package STAGE={self.stage}.")
            return False
        return True

    # 3. Upload.
    def artifact_bucket(self) -> str:
        given = self.options.artifact_bucket
        name = given or default_artifact_bucket(self.account or "<account>", self.region)
        source = "ARTIFACT_BUCKET / --artifact-bucket" if given else "named per account and region"
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=name)
            self.note(f"artifact bucket {name} ({source}): exists")
            return name
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise SystemExit(
                    f"deploy: the artifact bucket {name} is not yours or not readable ({code}): "
                    "name another with ARTIFACT_BUCKET."
                ) from exc
        if given:
            raise SystemExit(
                f"deploy: the artifact bucket {name} (ARTIFACT_BUCKET) does not exist: create it, or "
                "unset ARTIFACT_BUCKET to let deploy create one per account and region."
            )
        if self.options.dry_run:
            self.would(f"create the artifact bucket {name} ({source}; private, encrypted)")
            return name
        create: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**create)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        self.note(f"artifact bucket {name} ({source}): created")
        return name

    def upload(self, bucket: str, path: Path, kind: str) -> str:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = f"{self.stack}/{digest}{path.suffix}"
        if self.options.dry_run:
            self.would(f"upload {path} to s3://{bucket}/{key} ({kind})")
            return key
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key)
            self.note(f"{kind} s3://{bucket}/{key}: already uploaded")
        except ClientError:
            s3.upload_file(str(path), bucket, key)
            self.note(f"{kind} s3://{bucket}/{key}: uploaded ({path.stat().st_size / 1024 / 1024:.1f} MB)")
        return key

    def upload_all(self) -> tuple[dict[str, Any], str, str] | None:
        self.step("upload: the Lambda bundle and the template to the artifact bucket")
        sam = self.out / "sam.json"
        bucket = self.artifact_bucket()
        if self.options.dry_run and self.options.package:  # the template does not exist yet
            self.would(f"upload {self.out}/deployment.zip and the template that refers to it to s3://{bucket}/")
            return None
        template = json.loads(sam.read_text())
        uploaded: dict[str, str] = {}
        for resource in template.get("Resources", {}).values():
            properties = resource.get("Properties", {})
            for prop in ("CodeUri", "ContentUri"):  # functions; layers
                local = properties.get(prop)
                if isinstance(local, str) and not local.startswith("s3://"):
                    if local not in uploaded:
                        uploaded[local] = self.upload(bucket, (self.out / local).resolve(), "bundle")
                    properties[prop] = f"s3://{bucket}/{uploaded[local]}"
        packaged = self.out / "packaged.json"
        packaged.write_text(json.dumps(template, indent=1) + "\n")
        key = self.upload(bucket, packaged, "template")
        return template, bucket, key

    # 4-5. Change set and execution.
    def existing_stack(self) -> dict[str, Any] | None:
        try:
            return dict(self.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"][0])
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise

    def parameters(self, template: dict[str, Any], existing: dict[str, Any] | None) -> list[dict[str, Any]]:
        declared = template.get("Parameters", {})
        overrides = {"ResourcePrefix": self.prefix, **self.options.parameters}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise SystemExit(
                f"deploy: the template has no parameter {', '.join(unknown)} "
                f"(its parameters: {', '.join(sorted(declared))})."
            )
        previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters", [])}
        result: list[dict[str, Any]] = []
        for key in sorted(declared):
            if key in overrides:
                result.append({"ParameterKey": key, "ParameterValue": overrides[key]})
            elif key in previous:
                result.append({"ParameterKey": key, "UsePreviousValue": True})
        return result

    def tags(self) -> list[dict[str, str]]:
        tags = {"app": "auralumic", "stage": self.stage, **self.options.tags}
        return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]

    def change_set(
        self, uploaded: tuple[dict[str, Any], str, str] | None, existing: dict[str, Any] | None
    ) -> tuple[str, bool] | None:
        """Create the change set; returns (its id, whether it changes anything), or None on failure."""
        kind = "UPDATE" if existing and existing["StackStatus"] != "REVIEW_IN_PROGRESS" else "CREATE"
        self.step(f"change set: {kind} stack {self.stack}")
        status = existing["StackStatus"] if existing else ""
        if status.endswith(IN_PROGRESS) and status != "REVIEW_IN_PROGRESS":
            self.say(f"deploy: stack {self.stack} is {status}: wait for it to finish, then deploy again.")
            return None
        if status == "ROLLBACK_COMPLETE":
            self.say(
                f"deploy: stack {self.stack} is ROLLBACK_COMPLETE (its first deploy failed) and cannot be "
                "updated: delete it, and the tables and bucket it retained, then deploy again (docs/runbook.md)."
            )
            return None
        tags = ", ".join(f"{t['Key']}={t['Value']}" for t in self.tags())
        if uploaded is None:
            self.would(
                f"create a {kind} change set with capabilities {', '.join(CAPABILITIES)}, parameter "
                f"ResourcePrefix={self.prefix}"
                + "".join(f", {k}={v}" for k, v in sorted(self.options.parameters.items()))
                + f", tags {tags}"
            )
            return "", True
        template, bucket, key = uploaded
        parameters = self.parameters(template, existing)
        shown = ", ".join(f"{p['ParameterKey']}=" + p.get("ParameterValue", "(previous)") for p in parameters)
        self.note(f"parameters: {shown or 'none'}")
        self.note(f"tags: {tags}; capabilities: {', '.join(CAPABILITIES)}")
        if self.options.dry_run:
            self.would(f"create the {kind} change set from s3://{bucket}/{key}")
            return "", True
        cfn = self.client("cloudformation")
        name = f"deploy-{key.rsplit('/', 1)[-1][:16]}-{os.getpid()}"
        created = cfn.create_change_set(
            StackName=self.stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            Capabilities=CAPABILITIES,
            TemplateURL=f"https://{bucket}.s3.{self.region}.amazonaws.com/{key}",
            Parameters=parameters,
            Tags=self.tags(),
            Description=f"make deploy STAGE={self.stage}",
        )
        arn = created["Id"]
        try:
            cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=arn, WaiterConfig={"Delay": 5})
        except WaiterError:
            described = cfn.describe_change_set(ChangeSetName=arn)
            reason = described.get("StatusReason", "")
            if any(marker in reason for marker in NO_CHANGES):
                cfn.delete_change_set(ChangeSetName=arn)
                self.note("no changes: the stack already runs this template and these parameters")
                return arn, False
            self.say(f"deploy: the change set failed: {reason}")
            return None
        changes: list[dict[str, Any]] = []
        page: dict[str, Any] = {"NextToken": None}
        while "NextToken" in page:
            token = {"NextToken": page["NextToken"]} if page["NextToken"] else {}
            page = cfn.describe_change_set(ChangeSetName=arn, **token)
            changes.extend(page.get("Changes", []))
        if not changes:
            cfn.delete_change_set(ChangeSetName=arn)
            self.note("no changes: the stack already runs this template and these parameters")
            return arn, False
        for change in changes:
            rc = change.get("ResourceChange", {})
            replace = " (replacement)" if rc.get("Replacement") == "True" else ""
            self.note(f"{rc.get('Action', '?'):<7} {rc.get('LogicalResourceId')} {rc.get('ResourceType')}{replace}")
        self.note(f"{len(changes)} change(s) in change set {arn}")
        return arn, True

    def execute(self, arn: str, creating: bool) -> bool:
        self.step(f"deploy: execute the change set and wait for stack {self.stack}")
        if self.options.dry_run:
            self.would(
                "execute the change set and wait until the stack is "
                + ("CREATE_COMPLETE" if creating else "UPDATE_COMPLETE")
            )
            return True
        cfn = self.client("cloudformation")
        cfn.execute_change_set(ChangeSetName=arn)
        waiter = "stack_create_complete" if creating else "stack_update_complete"
        try:
            cfn.get_waiter(waiter).wait(StackName=self.stack, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
        except WaiterError:
            events = cfn.describe_stack_events(StackName=self.stack).get("StackEvents", [])
            for event in events[:50]:
                if event.get("ResourceStatus", "").endswith("_FAILED"):
                    self.note(
                        f"{event['ResourceStatus']} {event['LogicalResourceId']}: "
                        f"{event.get('ResourceStatusReason', '')}"
                    )
            status = self.existing_stack() or {}
            self.say(
                f"deploy: stack {self.stack} is {status.get('StackStatus', 'unknown')}: the deploy failed and "
                "CloudFormation rolled back (docs/runbook.md, Roll back a deploy)."
            )
            return False
        self.note(f"stack {self.stack}: {'CREATE' if creating else 'UPDATE'}_COMPLETE")
        return True

    # 6. Seed.
    def catalog_is_empty(self) -> bool | None:
        """None: the table does not exist (yet)."""
        try:
            found = self.client("dynamodb").query(
                TableName=f"{self.prefix}-catalog",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": CATALOG_PARTITION}},
                Limit=1,
                Select="COUNT",
            )
        except ClientError as exc:
            if "ResourceNotFoundException" in str(exc):
                return None
            raise
        return int(found.get("Count", 0)) == 0

    def seed(self, first: bool) -> bool:
        command = [sys.executable, "-m", "tools.seed_catalog", "--stage", self.stage]
        self.step("seed the catalog (first deploy only)")
        if not self.options.seed:
            self.note("skipped (--no-seed)")
            return True
        empty = self.catalog_is_empty()
        if empty is False:
            self.note(f"the catalog {self.prefix}-catalog has entries: not seeded (never over an admin's edits)")
            return True
        reason = "first deploy" if first or empty is None else f"the catalog {self.prefix}-catalog is empty"
        if self.options.dry_run:
            self.would(f"seed the default catalog ({reason}): make seed-catalog STAGE={self.stage}")
            return True
        env = {**os.environ, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.run_command(command, env) != 0:
            self.say(
                f"deploy: seeding the catalog failed (above); the stack is deployed. Run make seed-catalog "
                f"STAGE={self.stage} once the cause is fixed."
            )
            return False
        self.note(f"seeded ({reason})")
        return True

    # 7. Outputs.
    def urls(self, first: bool) -> None:
        self.step("URLs")
        stack = self.existing_stack()
        outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs") or []}
        if self.options.dry_run and not outputs:
            self.would("print the API URL (output ApiUrl) and the media URL (output MediaBaseUrl)")
            return
        for line in url_lines(outputs, self.env, first):
            self.note(line)

    def run(self) -> int:
        if self.stage not in CLOUD_STAGES:
            self.say(f"deploy: STAGE must be one of {', '.join(CLOUD_STAGES)}, got {self.stage!r}.")
            return 2
        checked = self.checks()
        if not checked and not (self.options.dry_run and self.account):
            self.say("deploy: a prerequisite is missing (FAIL above); nothing was changed.")
            return 1
        if not self.package():
            return 1
        uploaded = self.upload_all()
        existing = self.existing_stack()
        first = existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS"
        made = self.change_set(uploaded, existing)
        if made is None:
            return 1
        arn, changed = made
        if changed and not self.options.execute:
            self.step("stop for review (--no-execute-changeset)")
            self.note(
                "review the change set above (or in the CloudFormation console), then execute it there or with "
                f"`aws cloudformation execute-change-set --change-set-name {arn or '<arn>'}`; afterwards "
                f"`make deploy STAGE={self.stage} ARGS=--skip-package` seeds a first deploy and prints the URLs."
            )
            return 0
        if changed and not self.execute(arn, creating=first):
            return 1
        if not self.seed(first):
            return 1
        self.urls(first)
        if not checked:
            self.say("deploy: a prerequisite is missing (FAIL above); fix it before deploying.")
            return 1
        self.say(f"deploy: stage {self.stage} " + ("checked (dry run)" if self.options.dry_run else "deployed") + ".")
        return 0


def url_lines(outputs: dict[str, str], env: dict[str, str], first: bool) -> list[str]:
    """What the operator needs after a deploy, from the stack's outputs."""
    api = outputs.get("ApiUrl") or outputs.get("EndpointURL")
    media = outputs.get("MediaBaseUrl")
    lines = [
        f"API URL:   {api or 'not in the stack outputs (ApiUrl)'}",
        f"media URL: {media or 'not in the stack outputs (MediaBaseUrl)'}",
    ]
    for output, what in (("ApiDomainTarget", "the API's domain"), ("MediaDomainTarget", "the media domain")):
        if outputs.get(output):
            lines.append(f"DNS: without HostedZoneId, point {what} at {outputs[output]}")
    if api:
        base = api.rstrip("/")
        configured = env.get("API_BASE_URL", "").rstrip("/")
        if configured != base:
            lines.append(
                f"note: API_BASE_URL of .chalice/config.json is {configured or 'unset'}; set it to {base} "
                "and deploy again"
            )
        if first:
            lines.append(
                f"next: point Stripe's webhook at {base}/webhooks/stripe and Clerk's at "
                f"{base}/webhooks/clerk (README, Deploy), and subscribe to the alarms topic"
            )
    lines.append(
        f"frontend: APP_BASE_URL {env.get('APP_BASE_URL') or env.get('CORS_ALLOW_ORIGIN', '')} serves "
        "/credits?checkout=success|cancelled and /subscription?checkout=success|cancelled"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True, help="dev or prod")
    parser.add_argument("--dry-run", action="store_true", help="run the checks, print every step, change nothing")
    parser.add_argument("--no-execute-changeset", action="store_true", help="create the change set and stop")
    parser.add_argument("--skip-package", action="store_true", help="deploy out/<stage> as it is")
    parser.add_argument("--no-seed", action="store_true", help="never seed the catalog")
    parser.add_argument(
        "--artifact-bucket",
        default=os.environ.get("ARTIFACT_BUCKET", ""),
        help="default: $ARTIFACT_BUCKET, else auralumic-artifacts-<account>-<region> (created)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, e.g. DomainName=api.example.com CertificateArn=arn:...",
    )
    parser.add_argument("--tags", nargs="*", default=[], metavar="KEY=VALUE", help="stack tags (app, stage: set)")
    args = parser.parse_args(argv)
    options = Options(
        stage=args.stage,
        dry_run=args.dry_run,
        execute=not args.no_execute_changeset,
        package=not args.skip_package,
        seed=not args.no_seed,
        artifact_bucket=args.artifact_bucket,
        parameters=pairs(args.parameter_overrides, "--parameter-overrides"),
        tags=pairs(args.tags, "--tags"),
    )
    if options.stage not in CLOUD_STAGES:
        print(f"deploy: STAGE must be one of {', '.join(CLOUD_STAGES)}, got {options.stage!r}.", file=sys.stderr)
        return 2
    # botocore reads AWS_DEFAULT_REGION and the profile's region; Lambda and the README say AWS_REGION.
    region = os.environ.get("AWS_REGION", "").strip() or None
    return Deploy(options, boto3.session.Session(region_name=region)).run()


if __name__ == "__main__":
    sys.exit(main())
