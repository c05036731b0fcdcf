"""``python -m tools.iam apply|check|snapshot`` (tools/iam/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tools.iam import ROOT, SNAPSHOT_FILE, Stage, apply, compare, load_groups, load_snapshot


def _apply_command(args: argparse.Namespace) -> int:
    path = Path(args.template)
    template = json.loads(path.read_text())
    groups = load_groups()
    problems = apply(template, groups, Stage.from_config(args.stage))
    if problems:
        print("\n".join(problems))
        return 1
    path.write_text(json.dumps(template, indent=2) + "\n")
    print(f"{len(groups)} roles")
    return 0


def _check_command(args: argparse.Namespace) -> int:
    comparison = compare(load_snapshot(), load_groups())
    for line in comparison.lines():
        print(line)
    if comparison.ok:
        print(f"infra/iam/groups.json matches {SNAPSHOT_FILE.relative_to(ROOT)}")
    return 0 if comparison.ok else 1


def _snapshot_command(args: argparse.Namespace) -> int:
    """The suite without tests/e2e (its stack runs in another process: nothing there is
    recorded), in record mode: the snapshot is rewritten when the run is complete and green."""
    env = {**os.environ, "IAM_SNAPSHOT": "write"}
    command = [sys.executable, "-m", "pytest", "--ignore=tests/e2e"]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.iam", description="One IAM role per function group (infra/iam/groups.json)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    apply_parser = commands.add_parser("apply", help="give each function of a packaged template its group's role")
    apply_parser.add_argument("template")
    apply_parser.add_argument("--stage", required=True)
    apply_parser.set_defaults(run=_apply_command)
    commands.add_parser("check", help="compare infra/iam/groups.json with the snapshot").set_defaults(
        run=_check_command
    )
    commands.add_parser("snapshot", help="run the suite and rewrite the snapshot").set_defaults(run=_snapshot_command)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
