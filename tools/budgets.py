"""Budgets that CI prints and enforces: ``python -m tools.budgets bundle out/<stage>/deployment.zip ...``.

The Lambda bundle: AWS refuses a function whose zip uploaded directly is over 50 MB, or whose
unzipped code is over 250 MB; our budget is the first, checked on every ``make package`` (and
printed again by ``.ci/run``), so a dependency that would break the next deploy fails CI first.
The cold-start ratio (``import app`` against ``import boto3``) is printed by ``make bench``.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
BUNDLE_ZIPPED_BUDGET = 50 * MB  # Lambda's limit for a zip uploaded directly
BUNDLE_UNZIPPED_LIMIT = 250 * MB  # Lambda's limit for a function's unzipped code (layers included)


@dataclass(frozen=True)
class BundleSize:
    path: Path
    zipped: int
    unzipped: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.zipped > BUNDLE_ZIPPED_BUDGET:
            found.append(
                f"{self.path} is {self.zipped / MB:.1f} MB zipped, over the budget of "
                f"{BUNDLE_ZIPPED_BUDGET // MB} MB: drop or slim a dependency of requirements.txt."
            )
        if self.unzipped > BUNDLE_UNZIPPED_LIMIT:
            found.append(
                f"{self.path} is {self.unzipped / MB:.1f} MB unzipped, over Lambda's limit of "
                f"{BUNDLE_UNZIPPED_LIMIT // MB} MB."
            )
        return found

    def line(self) -> str:
        verdict = "over budget" if self.problems else "ok"
        return (
            f"bundle {self.path}: {self.zipped / MB:.1f} MB zipped (budget {BUNDLE_ZIPPED_BUDGET // MB} MB), "
            f"{self.unzipped / MB:.1f} MB unzipped (limit {BUNDLE_UNZIPPED_LIMIT // MB} MB): {verdict}"
        )


def bundle_size(path: Path) -> BundleSize:
    with zipfile.ZipFile(path) as bundle:
        unzipped = sum(info.file_size for info in bundle.infolist())
    return BundleSize(path=path, zipped=path.stat().st_size, unzipped=unzipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.budgets")
    commands = parser.add_subparsers(dest="command", required=True)
    bundle = commands.add_parser("bundle", help="print each Lambda bundle's size; fail over the budget")
    bundle.add_argument("zips", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for path in args.zips:
        if not path.is_file():
            print(f"budgets: {path} does not exist: run make package first.", file=sys.stderr)
            failed = True
            continue
        size = bundle_size(path)
        print(size.line())
        for problem in size.problems:
            print(f"budgets: {problem}", file=sys.stderr)
        failed = failed or bool(size.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
