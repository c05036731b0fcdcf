"""What one AWS API call needs from IAM: its (action, resource) pairs, resources named as
infra/iam/groups.json names them (tools/iam/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any


@dataclass(frozen=True)
class Naming:
    """How the running code names resources, to name them as groups.json does."""

    prefix: str  # RESOURCE_PREFIX
    secret_id: str  # the app secret's id (APP_SECRET_ID; auralumic/<stage>/app)
    sender: str = ""  # the address of EMAIL_SENDER

    def short(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if name.startswith(f"{self.prefix}-") else name

    def table(self, name: str) -> str:
        if name.startswith("arn:"):  # a stream or table ARN: arn:...:table/<name>[/stream/...]
            name = name.split(":table/", 1)[1].split("/", 1)[0]
        return f"table/{self.short(name)}"

    def queue(self, url_or_name: str) -> str:
        return f"queue/{self.short(url_or_name.rstrip('/').rsplit('/', 1)[-1])}"

    def bucket(self, name: str) -> str:
        return f"bucket/{self.short(name)}"

    def object(self, bucket: str, key: str) -> str:
        folder, slash, _ = key.partition("/")
        return f"{self.bucket(bucket)}/{folder}/*" if slash else f"{self.bucket(bucket)}/{key}"

    def secret(self, secret_id: str) -> str:
        return "secret/app" if secret_id.split(":secret:")[-1] == self.secret_id else f"secret/{secret_id}"

    def identity(self, source: str) -> str:
        address = parseaddr(source)[1] or source
        return "identity/sender" if self.sender and address.lower() == self.sender.lower() else f"identity/{address}"


# Operations that need no permission, or that only tooling makes.
_FREE = {("sts", "GetCallerIdentity")}
_DYNAMODB_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "PutObject": "PutObject",
    "DeleteObject": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "GetObjectTagging": "GetObjectTagging",
    "PutObjectTagging": "PutObjectTagging",
}


def permissions(service: str, operation: str, params: Mapping[str, Any], naming: Naming) -> list[tuple[str, str]]:
    """The IAM (action, resource) pairs one API call needs, resources named as groups.json
    names them. An operation this does not know maps to ``<service>:<operation>`` on
    ``<service>/*``, which no group grants: the check then names it."""
    if (service, operation) in _FREE:
        return []
    if service == "dynamodb":
        return _dynamodb(operation, params, naming)
    if service == "sqs":
        if operation == "GetQueueUrl":
            return [("sqs:GetQueueUrl", naming.queue(params["QueueName"]))]
        if "QueueUrl" in params:
            return [(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", naming.queue(params["QueueUrl"]))]
    if service == "s3":
        return _s3(operation, params, naming)
    if service in ("ses", "sesv2") and operation in ("SendRawEmail", "SendEmail"):
        source = params.get("Source") or params.get("FromEmailAddress") or ""
        return [(f"ses:{operation}", naming.identity(str(source)))]
    if service == "secretsmanager" and "SecretId" in params:
        return [(f"secretsmanager:{operation}", naming.secret(str(params["SecretId"])))]
    if service == "chime-sdk-meetings":
        return [(f"chime:{operation}", "meeting/*")]
    if service in ("cloudwatch", "xray"):
        return [(f"{service}:{operation}", "*")]
    return [(f"{service}:{operation}", f"{service}/*")]


def _dynamodb(operation: str, params: Mapping[str, Any], naming: Naming) -> list[tuple[str, str]]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", naming.table(t)) for t in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params.get("TransactItems", []):
            for kind, request in item.items():
                found.append((f"dynamodb:{_DYNAMODB_TRANSACT[kind]}", naming.table(request["TableName"])))
        return found
    if operation in ("DescribeStream", "GetShardIterator", "GetRecords", "ListStreams"):
        arn = str(params.get("StreamArn") or params.get("TableName") or "")
        return [(f"dynamodb:{operation}", f"{naming.table(arn)}/stream/*" if arn else "table/*/stream/*")]
    if "TableName" in params:
        resource = naming.table(str(params["TableName"]))
        if operation in ("Query", "Scan") and params.get("IndexName"):
            resource = f"{resource}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    return [(f"dynamodb:{operation}", "dynamodb/*")]


def _s3(operation: str, params: Mapping[str, Any], naming: Naming) -> list[tuple[str, str]]:
    bucket = str(params.get("Bucket", ""))
    if operation in ("ListObjectsV2", "ListObjects", "HeadBucket"):
        return [("s3:ListBucket", naming.bucket(bucket))]
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", naming.object(bucket, o["Key"])) for o in params["Delete"]["Objects"]]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, _, source_key = source.lstrip("/").partition("/")
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
        return [
            ("s3:GetObject", naming.object(source_bucket, source_key)),
            ("s3:PutObject", naming.object(bucket, params["Key"])),
        ]
    if operation in _S3_OBJECT_ACTIONS and "Key" in params:
        resource = naming.object(bucket, str(params["Key"]))
        found = [(f"s3:{_S3_OBJECT_ACTIONS[operation]}", resource)]
        if operation == "PutObject" and params.get("Tagging"):
            found.append(("s3:PutObjectTagging", resource))
        if operation == "PutObject" and params.get("ACL"):
            found.append(("s3:PutObjectAcl", resource))
        return found
    return [(f"s3:{operation}", naming.bucket(bucket) if bucket else "s3/*")]
