#!/usr/bin/env bash
# Package every cloud stage and lint the result: `bash tools/package.sh` (or `make package`);
# one stage: `bash tools/package.sh prod` (or `make package STAGE=prod`).
#
# For each stage: `chalice package --merge-template infra/resources.json out/<stage>`, then
# pin the template's ResourcePrefix parameter to the stage, check what cfn-lint cannot know
# (the functions agree on the prefix), give each function its group's IAM role (one role per
# function group, rendered from infra/iam/groups.json by `python -m tools.iam apply`), and
# cfn-lint out/<stage>/sam.json.
# Prints one OK line per stage; anything else is printed only when it fails. Fails on any cfn-lint
# finding, warnings included (IGNORED_CHECKS below: each with its reason), and on a Lambda bundle
# (out/<stage>/deployment.zip) over the budget of tools/budgets.py (50 MB zipped), whose size it prints.
#
# ResourcePrefix: Chalice bakes the stage's RESOURCE_PREFIX into what it generates (each
# function's environment, the notifications queue ARN of the SQS event source), so the
# tables/queues/bucket of infra/resources.json must use the same prefix. This script sets
# the parameter's Default to that prefix and makes it the only AllowedValue, so a packaged
# template cannot be deployed with a mismatched prefix. To deploy, e.g. prod: `make deploy STAGE=prod`
# (tools/deploy.py: this script, then upload, change set, deploy, first-deploy catalog seed). The AlarmTopic
# (<prefix>-alarms) has no subscriptions; subscribe the on-call address/pager to it once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAGES=(dev prod)
if [[ $# -gt 0 && -n "$1" ]]; then
  [[ " ${STAGES[*]} " == *" $1 "* ]] || { echo "package: unknown stage '$1' (cloud stages: ${STAGES[*]})" >&2; exit 1; }
  STAGES=("$1")
fi
# cfn-lint checks ignored on purpose, each with its reason (none today: every finding fails the build).
IGNORED_CHECKS=()
CHALICE=.venv/bin/chalice
CFN_LINT=.venv/bin/cfn-lint
PY=.venv/bin/python

for tool in "$CHALICE" "$CFN_LINT" "$PY"; do
  [[ -x "$tool" ]] || { echo "package: missing $tool (run make to create the venv)" >&2; exit 1; }
done

# Packaging needs no AWS access: fake credentials, and never ask the instance metadata service.
export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for stage in "${STAGES[@]}"; do
  out="out/$stage"
  rm -rf "$out"
  if ! "$CHALICE" package --stage "$stage" --merge-template infra/resources.json "$out" >"$log" 2>&1; then
    cat "$log" >&2
    echo "package: chalice package failed for stage $stage" >&2
    exit 1
  fi

  if ! summary=$("$PY" - "$out/sam.json" "$stage" 2>&1 <<'EOF'
import json
import sys

path, stage = sys.argv[1], sys.argv[2]
with open(path) as f:
    template = json.load(f)
resources = template["Resources"]
problems = []

# The prefix Chalice baked into every function's environment.
prefixes = {res["Properties"].get("Environment", {}).get("Variables", {}).get("RESOURCE_PREFIX")
            for res in resources.values() if res["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")}
if len(prefixes) != 1 or None in prefixes:
    problems.append(f"functions disagree on RESOURCE_PREFIX: {sorted(map(str, prefixes))}")
else:
    prefix = prefixes.pop()
    parameter = template["Parameters"]["ResourcePrefix"]
    parameter["Default"] = prefix
    parameter["AllowedValues"] = [prefix]
    parameter["Description"] = f"RESOURCE_PREFIX of stage {stage}; fixed at package time"

if problems:
    print("\n".join(problems))
    sys.exit(1)
with open(path, "w") as f:
    json.dump(template, f, indent=2)
    f.write("\n")
print(f"prefix {prefix}, {len(resources)} resources")
EOF
  ); then
    echo "$summary" >&2
    echo "package: template check failed for stage $stage" >&2
    exit 1
  fi

  # One IAM role per function group (infra/iam/groups.json); every function gets its group's
  # (.chalice/config.json: manage_iam_role false, so Chalice generates no role of its own).
  if ! roles=$("$PY" -m tools.iam apply "$out/sam.json" --stage "$stage" 2>&1); then
    echo "$roles" >&2
    echo "package: IAM roles failed for stage $stage (infra/iam/groups.json, tools/iam)" >&2
    exit 1
  fi
  summary="$summary, $roles"

  # Any finding fails the build, warnings included, unless its check is in IGNORED_CHECKS.
  lint_args=()
  if [[ ${#IGNORED_CHECKS[@]} -gt 0 ]]; then lint_args=(--ignore-checks "${IGNORED_CHECKS[@]}"); fi
  if ! "$CFN_LINT" "${lint_args[@]}" -- "$out/sam.json" >"$log" 2>&1 || [[ -s "$log" ]]; then
    cat "$log" >&2
    echo "package: cfn-lint found errors or warnings in $out/sam.json (fix them, or ignore a check in IGNORED_CHECKS with its reason)" >&2
    exit 1
  fi

  # The Lambda bundle's size, against the budget (tools/budgets.py).
  if ! bundle=$("$PY" -m tools.budgets bundle "$out/deployment.zip" 2>&1); then
    echo "$bundle" >&2
    echo "package: the Lambda bundle of stage $stage is over budget" >&2
    exit 1
  fi
  echo "OK $stage: $out/sam.json ($summary, cfn-lint: no errors or warnings)"
  echo "   $bundle"
done
