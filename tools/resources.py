"""Create the tables, queues and bucket of infra/resources.json against any endpoint.

infra/resources.json is the single definition: CloudFormation deploys it (merged into
``chalice package``), and this module creates the same resources in moto, for
``make run`` and for the tests. Only the properties the local copy needs are read.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def resolve(value: Any, prefix: str, arns: dict[str, str]) -> Any:
    """Resolve the intrinsic functions the resource definitions use."""
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            return str(value["Fn::Sub"]).replace("${ResourcePrefix}", prefix)
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            if attribute != "Arn" or logical not in arns:
                raise ValueError(f"cannot resolve {value} locally")
            return arns[logical]
        if "Ref" in value and value["Ref"] == "ResourcePrefix":
            return prefix
        return {k: resolve(v, prefix, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, prefix, arns) for v in value]
    return value


def resources_of(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load_template()
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def table_definitions(prefix: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resolved table properties."""
    return {name: resolve(res["Properties"], prefix, {})
            for name, res in resources_of("AWS::DynamoDB::Table").items()}


def create_all(prefix: str, session: Any, region: str) -> dict[str, Any]:
    """Create every table, queue and bucket (existing ones are left as they are)."""
    dynamodb = session.client("dynamodb", region_name=region)
    sqs = session.client("sqs", region_name=region)
    s3 = session.client("s3", region_name=region)
    created: dict[str, Any] = {"tables": [], "queues": [], "buckets": []}
    existing = set(dynamodb.list_tables().get("TableNames", []))
    for props in table_definitions(prefix).values():
        name = props["TableName"]
        created["tables"].append(name)
        if name in existing:
            continue
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("LocalSecondaryIndexes"):
            kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        dynamodb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    arns: dict[str, str] = {}
    queues = resources_of("AWS::SQS::Queue")
    # Dead-letter queues first: the others refer to their ARNs.
    for logical in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]["Properties"]):
        props = resolve(queues[logical]["Properties"], prefix, arns)
        attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30)),
                      "MessageRetentionPeriod": str(props.get("MessageRetentionPeriod", 345600))}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        created["queues"].append(props["QueueName"])
    for props in (resolve(r["Properties"], prefix, arns) for r in resources_of("AWS::S3::Bucket").values()):
        bucket = props["BucketName"]
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket)
        cors = props.get("CorsConfiguration")
        if cors:
            # CloudFormation spells the S3 API's MaxAgeSeconds as MaxAge.
            rules = [{("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in rule.items()}
                     for rule in cors["CorsRules"]]
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                  LifecycleConfiguration=bucket_lifecycle(lifecycle))
        notifications = props.get("NotificationConfiguration")
        if notifications:
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=bucket_notifications(notifications))
        created["buckets"].append(bucket)
    return created


def bucket_notifications(cfn: dict[str, Any]) -> dict[str, Any]:
    """A resolved CloudFormation NotificationConfiguration in the S3 API's spelling (only the
    queue configurations: the template has no others). With it, S3 (moto, locally) sends
    ObjectCreated events to the queue as it does in the cloud."""
    unsupported = set(cfn) - {"QueueConfigurations"}
    if unsupported:
        raise ValueError(f"cannot create {sorted(unsupported)} locally")
    queues = []
    for entry in cfn["QueueConfigurations"]:
        config: dict[str, Any] = {"QueueArn": entry["Queue"], "Events": [entry["Event"]]}
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
        if rules:
            config["Filter"] = {"Key": {"FilterRules": rules}}
        queues.append(config)
    return {"QueueConfigurations": queues}


def bucket_lifecycle(cfn: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation LifecycleConfiguration (rules with ``Prefix`` and ``ExpirationInDays``,
    all the template uses) in the S3 API's spelling."""
    rules = []
    for rule in cfn["Rules"]:
        unsupported = set(rule) - {"Id", "Status", "Prefix", "ExpirationInDays"}
        if unsupported:
            raise ValueError(f"cannot create lifecycle rule properties {sorted(unsupported)} locally")
        rules.append({"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")},
                      "Expiration": {"Days": rule["ExpirationInDays"]}})
    return {"Rules": rules}
