"""``make ledger-check``: verify the ledger of the local stack (with ``--stage dev|prod``, of that
cloud stage; with --aws, of the stage whose environment is set) and print the report; exit 1 on
any difference."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--aws", action="store_true", help="use the environment as set (a cloud stage)")
    parser.add_argument("--stage", choices=["dev", "prod"], help="a cloud stage (AWS credentials from the environment)")
    parser.add_argument("--aws-port", type=int, default=5000, help="the local stack's moto port (default 5000)")
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.stage:
        import os

        from tools.local_env import stage_environment

        for key, value in stage_environment(args.stage).items():
            os.environ.setdefault(key, value)  # the check reads tables only: no secret is fetched
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            print("error: set AWS_REGION (and AWS credentials) for the stage's account", file=sys.stderr)
            return 1
    elif not args.aws:
        from tools import local_env

        if not local_env.port_open(args.aws_port):
            print(f"no local stack on port {args.aws_port}: start it with `make run` (or pass --aws)",
                  file=sys.stderr)
            return 2
        local_env.configure(args.aws_port, args.state_dir)
    from chalicelib.services import ledger_check

    report = ledger_check.run()
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
