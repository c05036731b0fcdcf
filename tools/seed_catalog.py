"""``make seed-catalog STAGE=dev``: write the product's default catalog into a cloud stage.

Uses your AWS credentials from the environment; idempotent (entries are upserted by id).
Values that only CloudFormation resolves (secret references) are not needed here.
"""

from __future__ import annotations

import argparse
import os
import sys

from tools.local_env import stage_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.seed_catalog")
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    args = parser.parse_args(argv)
    env = stage_environment(args.stage)
    for key, value in env.items():
        os.environ.setdefault(key, "unused-by-seeding" if value.startswith("{{resolve:") else value)
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        print("error: set AWS_REGION (and AWS credentials) for the stage's account", file=sys.stderr)
        return 1
    from chalicelib.services import catalog
    from chalicelib.services.catalog_defaults import default_items

    count = catalog.upsert(default_items())
    print(f"seeded {count} catalog entries into {env['RESOURCE_PREFIX']}-catalog")
    return 0


if __name__ == "__main__":
    sys.exit(main())
