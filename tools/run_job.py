"""``make job NAME=<job>``: run one scheduled job once, now, outside its schedule.

    make job NAME=reading_timers                     # against the local stack (make run)
    make job NAME=reader_insights ARGS="--stage prod" # invoke the stage's function (AWS credentials)
    make job                                         # list the scheduled jobs

Every job catches up by itself: each run handles everything due up to now (expiries, reminders,
purges, readers with new activity, events the stream path missed...), idempotently. So after an
outage, or a period when a job failed, one run covers the whole period; running it again changes
nothing. In a cloud stage the tool invokes the deployed function (``<app>-<stage>-<job>``,
Chalice's naming) with a scheduled event, prints its answer and the tail of its log (its
correlation id is on every line: search the function's log group for it), and exits 1 when the
function failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_SCHEDULE = re.compile(r"\.schedule\(\s*\"([^\"]+)\"\s*,\s*name=\"([a-z0-9_]+)\"")


def scheduled_jobs() -> dict[str, str]:
    """Job name -> its schedule expression, as the job modules declare them."""
    found: dict[str, str] = {}
    for module in sorted((ROOT / "chalicelib" / "jobs").glob("*.py")):
        for expression, name in _SCHEDULE.findall(module.read_text()):
            found[name] = expression
    return found


def scheduled_event(region: str, account: str = "000000000000") -> dict[str, Any]:
    """What EventBridge sends a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
    }


def run_local(name: str, aws_port: int) -> int:
    from tools import local_env

    if not local_env.port_open(aws_port):
        print(f"no local stack on port {aws_port}: start it with `make run` (or pass --stage)", file=sys.stderr)
        return 2
    env = local_env.configure(aws_port)
    from app import app

    context = local_env.lambda_context(name, None, env.region)
    result = app.handler_map[name](scheduled_event(env.region), context)
    print(json.dumps(result, indent=2, default=str))
    return 0


def run_cloud(name: str, stage: str) -> int:
    import boto3

    app_name = json.loads((ROOT / ".chalice" / "config.json").read_text())["app_name"]
    function = f"{app_name}-{stage}-{name}"
    client = boto3.client("lambda")
    response = client.invoke(
        FunctionName=function, Payload=json.dumps(scheduled_event(client.meta.region_name)), LogType="Tail"
    )
    payload = response["Payload"].read().decode() or "null"
    print(f"{function}: {'FAILED (' + response['FunctionError'] + ')' if response.get('FunctionError') else 'ok'}")
    print(payload)
    if response.get("LogResult"):
        print("--- log tail ---")
        print(base64.b64decode(response["LogResult"]).decode(errors="replace"))
    return 1 if response.get("FunctionError") else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make job", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", nargs="?", help="the job (its function name, e.g. reading_timers)")
    parser.add_argument("--stage", choices=["dev", "prod"], help="a cloud stage (AWS credentials from the environment)")
    parser.add_argument("--aws-port", type=int, default=5000, help="the local stack's moto port (default 5000)")
    args = parser.parse_args(argv)
    jobs = scheduled_jobs()
    if not args.name or args.name not in jobs:
        if args.name:
            print(f"no scheduled job named {args.name!r}", file=sys.stderr)
        print("scheduled jobs:\n" + "\n".join(f"  {name:28} {jobs[name]}" for name in sorted(jobs)))
        return 2 if args.name else 0
    return run_cloud(args.name, args.stage) if args.stage else run_local(args.name, args.aws_port)


if __name__ == "__main__":
    sys.exit(main())
