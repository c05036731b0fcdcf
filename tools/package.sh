#!/usr/bin/env bash
# Package every cloud stage and lint the result: `bash tools/package.sh` (or `make package`).
#
# For each stage: `chalice package --merge-template infra/resources.json out/<stage>`, then
# pin the template's ResourcePrefix parameter to the stage, check what cfn-lint cannot know
# (every Chalice-generated role carries AppAccessPolicy), and cfn-lint out/<stage>/sam.json.
# Prints one OK line per stage; anything else is printed only when it fails.
#
# ResourcePrefix: Chalice bakes the stage's RESOURCE_PREFIX into what it generates (each
# function's environment, the notifications queue ARN of the SQS event source), so the
# tables/queues/bucket of infra/resources.json must use the same prefix. This script sets
# the parameter's Default to that prefix and makes it the only AllowedValue, so a packaged
# template cannot be deployed with a mismatched prefix. To deploy, e.g. prod:
#
#   bash tools/package.sh
#   aws cloudformation package --template-file out/prod/sam.json \
#       --s3-bucket <artifact-bucket> --output-template-file out/prod/packaged.yaml
#   aws cloudformation deploy --template-file out/prod/packaged.yaml --stack-name auralumic-prod \
#       --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
#       --parameter-overrides ResourcePrefix=auralumic-prod
#
# (the override is optional: it can only restate the pinned default). The AlarmTopic
# (<prefix>-alarms) has no subscriptions; subscribe the on-call address/pager to it once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAGES=(dev prod)
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

# Every role Chalice generated must carry the app's data-access policy.
roles = sorted(name for name, res in resources.items() if res["Type"] == "AWS::IAM::Role")
attached = {r.get("Ref") for r in resources.get("AppAccessPolicy", {}).get("Properties", {}).get("Roles", [])}
missing = [r for r in roles if r not in attached]
if missing:
    problems.append(f"roles without AppAccessPolicy (add them to its Roles in infra/resources.json): {missing}")

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

  # Errors fail the build; warnings are printed (and should be fixed or justified).
  if ! "$CFN_LINT" --non-zero-exit-code error -- "$out/sam.json" >"$log" 2>&1; then
    cat "$log" >&2
    echo "package: cfn-lint found errors in $out/sam.json" >&2
    exit 1
  fi
  if [[ -s "$log" ]]; then
    cat "$log" >&2
  fi
  echo "OK $stage: $out/sam.json ($summary, cfn-lint: no errors)"
done
