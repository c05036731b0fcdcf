"""Least privilege: one IAM role per function group, from one description, checked against
what the functions are seen doing.

``infra/iam/groups.json`` is the single source of truth: each group names its functions (the
Chalice function names: ``api_handler``, ``outbox_relay``...), what they may do (``grants``:
resource -> IAM actions) and what they may do that no test can show (``cloud_only``: each
entry with its reason; ``cloud_only_for_every_group`` holds what every function needs, e.g. its
logs). ``tools/package.sh`` renders it into the packaged template (``apply``): one
``AWS::IAM::Role`` per group, each function's ``Role`` pointing at its group's.

The test suite records every AWS operation each function makes (tests/support/iam_recording.py)
as the IAM permissions it needs (``permissions``), and fails a full run when a function needs
one its group lacks or a group holds one nothing needed (``compare``). The last full run's
record is committed as ``infra/iam/recorded.json`` (refresh: ``make iam-snapshot``), which a
fast unit test compares with groups.json on every run.

Resources are named as infra/resources.json names them, without the stage's prefix:

  table/<name>                 a DynamoDB table (``users`` is ``<prefix>-users``)
  table/<name>/index/<index>   one of its indexes (a Query or Scan of it)
  table/<name>/stream/*        its stream (read by Lambda's event source mapping)
  queue/<name>                 an SQS queue
  bucket/<name>                an S3 bucket itself (ListBucket: listings and HeadBucket)
  bucket/<name>/<folder>/*     the objects under one top-level folder of the bucket
  secret/app                   the stage's app secret in Secrets Manager (auralumic/<stage>/app)
  identity/sender              the SES identity of the stage's EMAIL_SENDER (address and domain)
  meeting/*                    Chime SDK meetings
  log-group/lambda             the functions' CloudWatch Logs groups
  *                            for actions IAM cannot scope to a resource

A stage that traces ("xray": true in .chalice/config.json) gives every role X-Ray's two write
actions. A change that makes a new AWS call fails the next full run, naming the function, the
action, the resource and the line to add to its group; ``make iam-snapshot`` then records it
and ``python -m tools.iam check`` confirms groups.json agrees. A new function fails
``make package`` and tests/unit/test_iam_policies.py until a group names it.

CLI: ``python -m tools.iam apply out/<stage>/sam.json --stage <stage>`` (tools/package.sh),
``python -m tools.iam check`` (groups.json against the snapshot), ``python -m tools.iam
snapshot`` (run the suite and rewrite the snapshot; ``make iam-snapshot``).
"""

from tools.iam.groups import (
    API_FUNCTION,
    GROUPS_FILE,
    ROOT,
    SNAPSHOT_FILE,
    CloudOnly,
    Comparison,
    Group,
    Recorded,
    compare,
    group_of,
    load_groups,
    load_snapshot,
    write_snapshot,
)
from tools.iam.operations import Naming, permissions
from tools.iam.roles import (
    CHALICE_CONFIG,
    INLINE_POLICY_LIMIT,
    LAMBDA_TRUST_POLICY,
    MANAGED_POLICY_LIMIT,
    XRAY_ACTIONS,
    Renderer,
    Stage,
    apply,
    logical_id,
    resolved_size,
)

__all__ = [
    "API_FUNCTION",
    "CHALICE_CONFIG",
    "GROUPS_FILE",
    "INLINE_POLICY_LIMIT",
    "LAMBDA_TRUST_POLICY",
    "MANAGED_POLICY_LIMIT",
    "ROOT",
    "SNAPSHOT_FILE",
    "XRAY_ACTIONS",
    "CloudOnly",
    "Comparison",
    "Group",
    "Naming",
    "Recorded",
    "Renderer",
    "Stage",
    "apply",
    "compare",
    "group_of",
    "load_groups",
    "load_snapshot",
    "logical_id",
    "permissions",
    "resolved_size",
    "write_snapshot",
]
