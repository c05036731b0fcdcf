"""One-off backfills after a deployment that adds an index whose key older items lack. Each
Scans one table (a tool, never a request path), updates only the items missing the key, each
conditioned on what it read, and changes nothing when run again.

    python -m tools.backfill user-search --stage dev      # a cloud stage (AWS credentials in the environment)
    python -m tools.backfill ledger-earner --aws-port 5000 # a local stack (`make run` writes them already)
    python -m tools.backfill maturity --stage prod        # once, after the deployment of reader payouts

- ``user-search`` (issue 16): users get ``searchEmail(Prefix)`` and ``searchName(Prefix)``,
  which the byEmail and byName indexes of the users table are built on. Every write since
  keeps the keys itself (``User.serialize`` for full writes, the ``*_search_actions`` of every
  update of an email or display name); byStatus needs nothing (``status`` and ``createdAt``).
- ``ledger-earner`` (issue 15): ledger lines that moved their owner's earnings get ``earner``
  (the owner), which the sparse byEarner index of ``GET /reader/earnings`` is built on;
  ``services/ledger.py`` sets it on every line written since. The all-time ``platformFee`` and
  ``refunded`` of the earnings page come from the reader metrics' counters, which start at
  the deployment that added them (``balance`` stays exact).
- ``maturity`` (issue 18): readings completed before reader payouts get the maturation row
  their completion writes since (``services/payouts/maturity.py``: what is still pending of
  the reader's share, due at ``completedAt`` + the dispute window; a date already past
  matures at the next hourly ``earnings_maturation`` run). Without it their earnings would
  stay pending forever, and a refund of one would be taken as if it were paid out already.
  What is still pending is read from the journal (the reading's ``payout:``, ``refund:`` and
  ``mature:`` entries, by BatchGetItem per page of readings), so a partial refund before the
  backfill leaves only the rest, and a refund taken from payable or as owing (no row yet)
  is made right when the whole share matures and pays the receivable down. A row is a
  conditional put: a reading that has one (or matured) is left as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import Any


def user_search() -> tuple[int, int]:
    """(users seen, users updated)."""
    from pynamodb.exceptions import UpdateError

    from chalicelib.domain.accounts import search_key, search_prefix
    from chalicelib.models.users import User, email_search_actions, name_search_actions

    seen = updated = 0
    for user in User.scan(
        attributes_to_get=[
            "userId",
            "email",
            "displayName",
            "searchEmail",
            "searchEmailPrefix",
            "searchName",
            "searchNamePrefix",
        ]
    ):
        seen += 1
        email, name = search_key(user.email), search_key(user.display_name)
        wanted = (email, email and search_prefix(email), name, name and search_prefix(name))
        if wanted == (user.search_email, user.search_email_prefix, user.search_name, user.search_name_prefix):
            continue
        condition: Any = User.user_id.exists()
        for column, value in ((User.email, user.email), (User.display_name, user.display_name)):
            condition &= (column == value) if value is not None else column.does_not_exist()
        try:
            User(user_id=user.user_id).update(
                actions=[*email_search_actions(user.email), *name_search_actions(user.display_name)],
                condition=condition,
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue  # changed (or deleted) meanwhile: that write kept its own keys
        updated += 1
    return seen, updated


def ledger_earner() -> tuple[int, int]:
    """(lines seen, lines given ``earner``)."""
    from pynamodb.exceptions import UpdateError

    from chalicelib.models.ledger import LedgerLine

    seen = updated = 0
    for line in LedgerLine.scan(attributes_to_get=["owner", "sk", "changes", "earner"]):
        seen += 1
        if line.earner is not None or "earnings" not in (line.changes or {}).as_dict():
            continue
        try:
            LedgerLine(owner=line.owner, sk=line.sk).update(
                actions=[LedgerLine.earner.set(line.owner)],
                condition=LedgerLine.owner.exists() & LedgerLine.earner.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        updated += 1
    return seen, updated


MATURING = ("completed", "disputed", "refunded")  # the states a reading the reader was paid for can be in
MATURITY_PAGE = 100  # readings per round of BatchGetItem (their rows, then their journal entries)


def maturity() -> tuple[int, int]:
    """(paid readings read, maturation rows written)."""
    from chalicelib.models.readings import Reading

    seen = written = 0
    page: list[Reading] = []
    for reading in Reading.scan(
        filter_condition=Reading.completed_at.exists() & Reading.status.is_in(*MATURING),
        attributes_to_get=["readingId", "readerId", "status", "completedAt"],
    ):
        seen += 1
        page.append(reading)
        if len(page) == MATURITY_PAGE:
            written += _mature_later(page)
            page = []
    return seen, written + (_mature_later(page) if page else 0)


def _mature_later(readings: list[Any]) -> int:
    """Write the missing rows of these readings; how many were written."""
    from pynamodb.exceptions import PutError

    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.models.payout_records import Maturity
    from chalicelib.services.payouts.maturity import due_at, due_shard

    ids = [reading.reading_id for reading in readings]
    # Rows first, then the journal: a reading that matures in between shows its mature: entry.
    has_row = {row.reading_id for row in Maturity.batch_get(ids, consistent_read=True, attributes_to_get=["readingId"])}
    wanted = [reading for reading in readings if reading.reading_id not in has_row]
    keys = [f"{kind}:{reading.reading_id}" for reading in wanted for kind in ("payout", "refund", "mature")]
    entries = {entry.entry_id: entry for entry in LedgerEntry.batch_get(keys, consistent_read=True)}
    written = 0
    for reading in wanted:
        rid = reading.reading_id
        if f"mature:{rid}" in entries:
            continue  # matured (and its row deleted) since the completion
        earnings = f"user:{reading.reader_id}:earnings"
        pending = sum(
            int(posting.amount)
            for kind in ("payout", "refund")
            if (entry := entries.get(f"{kind}:{rid}")) is not None
            for posting in entry.postings
            if posting.account == earnings
        )
        if pending <= 0:
            continue  # refunded in full, or nothing was paid
        completed = datetime.fromisoformat(str(reading.completed_at).replace("Z", "+00:00"))
        row = Maturity(
            reading_id=rid,
            reader_id=reading.reader_id,
            credits=pending,
            due_at=due_at(completed),
            due_shard=due_shard(rid),
            completed_at=reading.completed_at,
        )
        try:
            row.save(condition=Maturity.reading_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        written += 1
    return written


BACKFILLS = {
    "user-search": (user_search, "users read, {} given their search keys"),
    "ledger-earner": (ledger_earner, "ledger lines read, {} given their earner"),
    "maturity": (maturity, "paid readings read, {} given their maturation row"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.backfill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("backfill", choices=sorted(BACKFILLS))
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stage", choices=["dev", "prod"], help="a cloud stage (AWS credentials in the environment)")
    where.add_argument("--aws-port", type=int, help="a local stack's moto port")
    args = parser.parse_args(argv)
    if args.stage:
        from tools.local_env import stage_environment

        for key, value in stage_environment(args.stage).items():
            os.environ.setdefault(key, "unused-by-the-backfill" if value.startswith("{{resolve:") else value)
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            print("error: set AWS_REGION (and AWS credentials) for the stage's account", file=sys.stderr)
            return 1
    else:
        from tools import local_env

        if not local_env.port_open(args.aws_port):
            print(f"no local stack on port {args.aws_port}: start it with `make run`", file=sys.stderr)
            return 2
        local_env.configure(args.aws_port, None)
    run, said = BACKFILLS[args.backfill]
    seen, updated = run()
    print(f"{seen} " + said.format(updated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
