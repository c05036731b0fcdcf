"""``make token USER=<id> ROLE=<client|reader|admin>``: a local bearer token for any user.

The API reads a caller's role from the users table, never from the token, so when the
local AWS (``make run``) is reachable this also creates or updates the User item with
that role (a reader also gets a minimal approved ReaderProfile if it has none). The
token goes to stdout alone (``TOKEN=$(make token USER=u1 ROLE=admin)`` works); notes go
to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools import local_env

ROLES = ("client", "reader", "admin")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.mint_token", description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="", help="the user id (token subject), e.g. user_alice")
    parser.add_argument("--role", default="", help="client, reader or admin")
    parser.add_argument("--aws-port", type=int, default=5000, help="moto server port of `make run` (default 5000)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help=f"where the issuer keys live (default ${local_env.STATE_DIR_ENV} or <repo>/.local)")
    parser.add_argument("--ttl-days", type=int, default=local_env.TOKEN_TTL_S // 86400, help="validity (default 7)")
    return parser.parse_args(argv)


def validate(user: str, role: str, ttl_days: int) -> str | None:
    if not user:
        return "USER is required: make token USER=<id> ROLE=<client|reader|admin>"
    if len(user) > 128 or any(ch.isspace() for ch in user):
        return f"USER must be at most 128 characters without spaces, got {user!r}"
    if role not in ROLES:
        return f"ROLE must be one of {', '.join(ROLES)}, got {role!r}"
    if not 1 <= ttl_days <= 30:
        return "--ttl-days must be between 1 and 30"
    return None


def apply_role(user_id: str, role: str) -> str:
    """Create or update the User item with ``role``; returns what was done."""
    from pynamodb.exceptions import PutError, UpdateError

    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User

    now = iso(utcnow())
    done = "updated"
    try:
        User(user_id=user_id).update(actions=[User.role.set(role), User.updated_at.set(now)],
                                     condition=User.user_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        user = User(user_id=user_id, role=role, status="active", created_at=now, updated_at=now)
        try:
            user.save(condition=User.user_id.does_not_exist())
            done = "created"
        except PutError as put_exc:  # created concurrently (e.g. its first API call): set the role on it
            if put_exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            User(user_id=user_id).update(actions=[User.role.set(role), User.updated_at.set(now)])
    if role == "reader":
        profile = ReaderProfile(reader_id=user_id, status="approved", display_name=user_id, reading_options=[],
                                submitted_at=now, decided_at=now, created_at=now, updated_at=now)
        try:
            profile.save(condition=ReaderProfile.reader_id.does_not_exist())
            done += " (with an approved reader profile)"
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    return done


def _moto_reachable(env: local_env.LocalEnv) -> bool:
    if not local_env.port_open(env.aws_port):
        return False
    import boto3
    from botocore.config import Config

    try:
        client = boto3.session.Session().client("dynamodb", region_name=env.region, config=Config(
            connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}))
        client.describe_table(TableName=f"{env.prefix}-users")
    except Exception:  # noqa: BLE001 - anything but a working users table means "not running"
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    user, role = args.user.strip(), args.role.strip().lower()
    problem = validate(user, role, args.ttl_days)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    env = local_env.configure(args.aws_port, args.state_dir)
    token = env.issuer.token(user, ttl_s=args.ttl_days * 86400)
    if _moto_reachable(env):
        try:
            done = apply_role(user, role)
        except Exception as exc:  # noqa: BLE001 - still hand out the token, say why the role is not set
            print(token)
            print(f"warning: could not set role {role} for {user}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(token)
        print(f"{user}: role {role} {done}; token valid {args.ttl_days} days", file=sys.stderr)
    else:
        print(token)
        print(f"warning: no local AWS on port {args.aws_port}: role {role} applies only once `make run` is "
              f"running (rerun this then); until then the API treats {user} as a client", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
