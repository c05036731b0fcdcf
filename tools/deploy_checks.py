"""The prerequisites ``make deploy`` checks before it changes anything (tools/deploy.py).

Each check reads only (no AWS resource is created or changed) and answers with findings: a
failure is a sentence that names what is missing and how to fix it; a warning is printed
and does not stop the deploy. Secret values are never printed.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from tools.local_env import stage_environment

CERTIFICATE_REGION = "us-east-1"  # edge-optimized API Gateway domains and CloudFront read certificates there
EXAMPLE_DOMAIN = "auralumic.example"  # the placeholder domain of .chalice/config.json


@dataclass(frozen=True)
class Finding:
    message: str
    fatal: bool = True

    @property
    def label(self) -> str:
        return "FAIL" if self.fatal else "warn"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _listing(names: list[str]) -> str:
    quoted = list(names)
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def app_secret(stage: str, env: dict[str, str] | None = None) -> tuple[str, tuple[str, ...]]:
    """The Secrets Manager secret of ``stage`` (APP_SECRET_ID of .chalice/config.json) and the JSON
    keys it must hold: the required ones of ``chalicelib.config.SECRETS``, the one list the app reads
    at cold start (pusherCluster unless the stage sets PUSHER_HOST)."""
    from chalicelib.config import CLOUD_REQUIRED, SECRETS

    env = stage_environment(stage) if env is None else env
    name = env.get("APP_SECRET_ID") or f"auralumic/{stage}/app"
    keys = [key for attr, (_env, key, required) in SECRETS.items() if required or attr in CLOUD_REQUIRED]
    if not env.get("PUSHER_HOST"):
        keys.append(SECRETS["pusher_cluster"][1])
    return name, tuple(keys)


def _secret_format(name: str, content: dict[str, Any], env: dict[str, str]) -> list[Finding]:
    """What the app checks at cold start (the webhook secrets' format), checked before deploying."""
    from chalicelib import config

    values = {attr: str(content.get(key) or "").strip() for attr, (_env, key, _req) in config.SECRETS.items()}
    try:
        config.check_secrets(values, f"secret {name}", env.get("PUSHER_HOST", ""))
    except config.ConfigError as exc:
        return [Finding(f"The app would refuse to start: {exc}.")]
    return []


def caller_identity(session: Any) -> tuple[dict[str, str] | None, list[Finding]]:
    """Who deploys: ``sts get-caller-identity`` (account, ARN), or why it cannot be asked."""
    if not session.region_name:
        return None, [
            Finding(
                "No AWS region is set: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in "
                "your AWS profile) to the region the stage runs in."
            )
        ]
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        return None, [
            Finding(
                "No AWS credentials were found: run `aws configure` (or `aws sso login`), or set "
                "AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then deploy again."
            )
        ]
    except (ClientError, BotoCoreError) as exc:
        return None, [
            Finding(
                f"AWS refused your credentials ({exc}): refresh them (an expired session or a "
                "wrong profile) and deploy again."
            )
        ]
    return {"account": identity["Account"], "arn": identity["Arn"]}, []


def check_secret(session: Any, stage: str, env: dict[str, str] | None = None) -> list[Finding]:
    """The app secret exists, is a JSON object, and holds every key the app reads (non-empty)."""
    env = stage_environment(stage) if env is None else env
    name, keys = app_secret(stage, env)
    example = json.dumps(dict.fromkeys(keys, "..."))
    try:
        value = session.client("secretsmanager").get_secret_value(SecretId=name)
    except NoRegionError:
        return []  # reported by caller_identity
    except ClientError as exc:
        code = _error_code(exc)
        if code == "ResourceNotFoundException":
            return [
                Finding(
                    f"The secret {name} does not exist in {session.region_name}: create it with "
                    f"`aws secretsmanager create-secret --name {name} --secret-string '{example}'` "
                    "(README, Deploy), then deploy again."
                )
            ]
        if code in ("AccessDeniedException", "AccessDenied"):
            return [
                Finding(
                    f"Your credentials may not read the secret {name} (secretsmanager:GetSecretValue): "
                    "deploy with a role that may."
                )
            ]
        return [Finding(f"The secret {name} could not be read ({code or exc}).")]
    except BotoCoreError as exc:
        return [Finding(f"The secret {name} could not be read ({exc}).")]
    try:
        content = json.loads(value.get("SecretString") or "")
    except ValueError:
        content = None
    if not isinstance(content, dict):
        return [Finding(f"The secret {name} must be a JSON object with the keys {_listing(list(keys))}.")]
    findings = []
    missing = [key for key in keys if key not in content]
    if missing:
        noun = "key" if len(missing) == 1 else "keys"
        findings.append(
            Finding(
                f"The secret {name} lacks the {noun} {_listing(missing)}: add "
                f"{'it' if len(missing) == 1 else 'them'} (`aws secretsmanager put-secret-value`"
                ", the whole JSON object), then deploy again."
            )
        )
    empty = [key for key in keys if key in content and not str(content[key]).strip()]
    if empty:
        findings.append(Finding(f"The secret {name} has an empty value for {_listing(empty)}."))
    return findings or _secret_format(name, content, env)


def check_sender(session: Any, sender: str) -> list[Finding]:
    """EMAIL_SENDER's address, or its domain, is a verified SES identity in the stage's region."""
    _, address = parseaddr(sender)
    if "@" not in address:
        return [Finding(f"EMAIL_SENDER {sender!r} of .chalice/config.json is not an email address.")]
    domain = address.rsplit("@", 1)[1]
    region = session.region_name
    try:
        ses = session.client("ses")
        attributes = ses.get_identity_verification_attributes(Identities=[address, domain])
    except NoRegionError:
        return []
    except (ClientError, BotoCoreError) as exc:
        return [Finding(f"The SES identity of EMAIL_SENDER {address} could not be checked ({exc}).")]
    statuses = {
        identity: item.get("VerificationStatus", "")
        for identity, item in attributes.get("VerificationAttributes", {}).items()
    }
    if "Success" not in statuses.values():
        state = "is pending verification" if "Pending" in statuses.values() else "is not a verified SES identity"
        return [
            Finding(
                f"The sender {address} (EMAIL_SENDER of .chalice/config.json) {state} in {region}: verify "
                f"the domain {domain} (with DKIM) or the address in SES, then deploy again."
            )
        ]
    findings = []
    try:
        account = session.client("sesv2").get_account()
        if not account.get("ProductionAccessEnabled", False):
            findings.append(
                Finding(
                    f"SES in {region} is in the sandbox: only verified recipients get email until "
                    "you request production access.",
                    fatal=False,
                )
            )
    except (ClientError, BotoCoreError, NotImplementedError):
        findings.append(
            Finding(f"Could not tell whether SES in {region} is in the sandbox (sesv2 get-account).", fatal=False)
        )
    return findings


def _covers(pattern: str, name: str) -> bool:
    return pattern == name or (
        pattern.startswith("*.") and fnmatch.fnmatch(name, pattern) and name.count(".") == pattern.count(".")
    )


def check_domains(session: Any, parameters: dict[str, str]) -> list[Finding]:
    """DomainName / MediaDomainName need CertificateArn: an issued us-east-1 certificate covering them."""
    names = [parameters[key] for key in ("DomainName", "MediaDomainName") if parameters.get(key)]
    arn = parameters.get("CertificateArn", "")
    if not names:
        return []
    if not arn:
        return [
            Finding(
                f"The custom domain {_listing(names)} needs CertificateArn: an ACM certificate in "
                f"{CERTIFICATE_REGION} covering it (--parameter-overrides CertificateArn=arn:...)."
            )
        ]
    if f":acm:{CERTIFICATE_REGION}:" not in arn:
        return [
            Finding(
                f"CertificateArn {arn} must be an ACM certificate in {CERTIFICATE_REGION} (edge-optimized "
                "API Gateway domains and CloudFront read certificates there)."
            )
        ]
    try:
        acm = session.client("acm", region_name=CERTIFICATE_REGION)
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return [
                Finding(
                    f"The certificate {arn} does not exist in {CERTIFICATE_REGION}: request one in ACM there "
                    "(DNS validation), then deploy again."
                )
            ]
        return [Finding(f"The certificate {arn} could not be read ({_error_code(exc) or exc}).")]
    except BotoCoreError as exc:
        return [Finding(f"The certificate {arn} could not be read ({exc}).")]
    findings = []
    if certificate.get("Status") != "ISSUED":
        findings.append(
            Finding(
                f"The certificate {arn} is {certificate.get('Status')}, not ISSUED: finish its "
                "DNS validation, then deploy again."
            )
        )
    covered = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    uncovered = [name for name in names if not any(_covers(pattern, name) for pattern in covered)]
    if uncovered:
        findings.append(
            Finding(
                f"The certificate {arn} does not cover {_listing(uncovered)} (it covers "
                f"{_listing(sorted(set(covered)))})."
            )
        )
    return findings


def check_stage_settings(stage: str, env: dict[str, str], parameters: dict[str, str]) -> list[Finding]:
    """Warnings about .chalice/config.json: placeholder values, API_BASE_URL against DomainName."""
    findings = []
    placeholders = sorted(key for key, value in env.items() if EXAMPLE_DOMAIN in value and key != "EMAIL_SENDER")
    if placeholders:
        findings.append(
            Finding(
                f"Stage {stage} of .chalice/config.json still has example values for "
                f"{_listing(placeholders)}: set your Clerk instance, frontend and API URLs.",
                fatal=False,
            )
        )
    domain = parameters.get("DomainName", "")
    api_base = env.get("API_BASE_URL", "").rstrip("/")
    if domain and api_base != f"https://{domain}":
        findings.append(
            Finding(
                f"API_BASE_URL of stage {stage} is {api_base or 'unset'}, but DomainName is "
                f"{domain}: set API_BASE_URL to https://{domain} in .chalice/config.json.",
                fatal=False,
            )
        )
    return findings
