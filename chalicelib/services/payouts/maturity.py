"""Maturation: a completed reading's earnings become payable once its dispute window closed.

A completion credits the reader's ``earnings`` (pending) and, in the same transaction,
writes the reading's ``Maturity`` row: its credits and when they mature (the completion +
``DISPUTE_WINDOW``). The hourly job (``mature_due``) queries the rows due now, a Query per
due shard of the ``byDue`` index, and matures each in one transaction: the row deleted
(conditional on its credits as read), the reading checked to have no open dispute, and the
ledger's ``mature:<readingId>`` movement (earnings -> payable, a receivable paid down first).
Its cost follows what is due: rows leave the index when they mature.

A dispute stops the reading's maturation while it is open (the transaction's check on the
reading fails; the row waits). Resolving it:

- a refund before maturation takes the reader's share from ``earnings`` and reduces the
  row by as much (``refund_reader_share``, in the resolution's transaction);
- a refund after maturation (no row: the credits matured, and may be paid out already)
  takes it from ``payable`` and records what is no longer there as the reader's receivable
  (``ledger.refund_matured``), which their next maturation pays down;
- whatever the outcome, a row past its due time matures right after the resolution
  (``mature_reading``; the job would take it within the hour anyway).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.readings import DISPUTE_WINDOW
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.payout_records import DUE_SHARDS, Maturity
from chalicelib.models.readings import Reading
from chalicelib.services import ledger
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

ROW = "maturity"
READING = "maturity:reading"
MEMO = "Earnings available for payout"


def due_at(completed_at: datetime) -> str:
    """When a reading completed at ``completed_at`` matures: its dispute window's end."""
    return iso(completed_at + DISPUTE_WINDOW)


def due_shard(reading_id: str) -> str:
    return str(int(hashlib.sha256(reading_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS)


def schedule(tx: Transaction, reading_id: str, reader_id: str, credits: int, *, completed_at: str) -> None:
    """In the completion's transaction: the reader's share (``credits``) matures when the
    dispute window closes (``completed_at``: the completion's ISO time). A reading completes
    once (its payout entry is conditional), so the row is a conditional put too."""
    if credits <= 0:
        return
    completed = datetime.fromisoformat(completed_at.replace("Z", "+00:00"))
    tx.save(
        Maturity(
            reading_id=reading_id,
            reader_id=reader_id,
            credits=credits,
            due_at=due_at(completed),
            due_shard=due_shard(reading_id),
            completed_at=completed_at,
        ),
        condition=Maturity.reading_id.does_not_exist(),
        label=ROW,
    )


def pending_row(reading_id: str) -> Maturity | None:
    """The reading's row, read consistently: None once it matured (or for a reading that
    completed before payouts existed, until ``python -m tools.backfill maturity`` writes it)."""
    try:
        return Maturity.get(reading_id, consistent_read=True)
    except Maturity.DoesNotExist:
        return None


# --- in a dispute's resolution ----------------------------------------------------------------


def refund_reader_share(
    tx: Transaction,
    reading: Reading,
    amount: int,
    *,
    reader_share: int,
    fee_share: int,
    entry_id: str,
    memo: str | None,
    at: str,
) -> None:
    """The refund of a resolved dispute, with the reader's share taken where it is now:
    from earnings (and the row) before maturation, else from payable and then as a
    receivable. Reads the row and the reader in this attempt: the caller retries on
    ``retry_on`` (a row or a balance that moved before the commit)."""
    rid = reading.reading_id
    row = pending_row(rid) if reader_share else None
    if row is None and reader_share:
        reader = ledger.read_user(reading.reader_id)
        ledger.refund_matured(
            tx,
            reading.client_id,
            amount,
            reader=reader,
            reader_share=reader_share,
            fee_share=fee_share,
            entry_id=entry_id,
            ref=rid,
            memo=memo,
            now=at,
        )
        return
    ledger.refund(
        tx,
        reading.client_id,
        amount,
        entry_id=entry_id,
        ref=rid,
        memo=memo,
        reader_id=reading.reader_id,
        reader_share=reader_share,
        fee_share=fee_share,
        now=at,
    )
    if row is None:
        return
    left = int(row.credits) - reader_share
    if left > 0:
        tx.update(row, actions=[Maturity.credits.set(left)], condition=Maturity.credits == row.credits, label=ROW)
    else:
        tx.delete(row, condition=Maturity.credits == row.credits, label=ROW)


def retry_on(reader_id: str) -> Any:
    """For the resolution's ``atomically``: the row or the reader's balances moved between
    this attempt's reads and its commit (a maturation, a payout): compute it again."""
    moved = ledger.balance_moved(reader_id)
    return lambda failed: ROW in failed or moved(failed)


# --- maturing ---------------------------------------------------------------------------------


@dataclass
class Figures:
    matured: int = 0
    credits: int = 0
    waiting: int = 0  # an open dispute: matures when it is resolved
    rows: int = 0
    readers: set[str] = field(default_factory=set)

    def dump(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "matured": self.matured,
            "credits": self.credits,
            "waiting": self.waiting,
            "readers": len(self.readers),
        }


def _open_dispute(reading_id: str) -> bool:
    """Whether the reading has an open dispute (a reading gone from the table has none: the
    transaction's check, ``attribute_not_exists``, holds for it too)."""
    try:
        reading = Reading.get(reading_id, consistent_read=True, attributes_to_get=["readingId", "disputeFlag"])
    except Reading.DoesNotExist:
        return False
    return reading.dispute_flag is not None


def mature_reading(reading_id: str, *, now: datetime | None = None) -> int | None:
    """Mature one reading's earnings if they are due: the credits matured (0: nothing left
    after refunds), or None when nothing is due (no row, not yet, or an open dispute)."""
    at = iso(now or utcnow())
    result: dict[str, int | None] = {}

    def work(tx: Transaction) -> None:
        result.clear()
        row = pending_row(reading_id)
        if row is None or row.due_at > at:
            return
        if _open_dispute(reading_id):
            return
        credits = int(row.credits)
        tx.condition_check(Reading, reading_id, condition=Reading.dispute_flag.does_not_exist(), label=READING)
        tx.delete(row, condition=Maturity.credits == row.credits, label=ROW)
        if credits > 0:
            ledger.mature(
                tx,
                ledger.read_user(row.reader_id),
                credits,
                entry_id=f"mature:{reading_id}",
                ref=reading_id,
                memo=MEMO,
                now=at,
            )
        result["credits"] = credits

    try:
        atomically(
            work,
            retry_on=lambda failed: (
                ROW in failed or (failed.any_startswith("ledger:user:") and not ledger.already_applied(failed))
            ),
            busy="The reader's earnings are busy right now. Try again in a moment.",
            busy_code="ledger_busy",
        )
    except ConditionsFailed as failed:
        if READING in failed:  # a dispute opened between the read and the commit
            return None
        if ledger.already_applied(failed):
            return None
        raise
    return result.get("credits")


def mature_due(*, now: datetime | None = None, page_size: int = 100) -> dict[str, int]:
    """The hourly job: every row due by ``now`` matures, unless its reading has an open
    dispute (it then matures when the dispute is resolved). One Query per due shard (and
    per page of what is due), then one transaction per reading that matures."""
    moment = now or utcnow()
    at = iso(moment)
    figures = Figures()
    for shard in range(DUE_SHARDS):
        for row in Maturity.by_due.query(str(shard), Maturity.due_at <= at, page_size=page_size):
            figures.rows += 1
            try:
                credits = mature_reading(row.reading_id, now=moment)
            except Exception:  # noqa: BLE001 - one reading's failure must not stop the others; the next run retries
                logger.exception("maturation failed", extra={"readingId": row.reading_id})
                continue
            if credits is None:
                figures.waiting += 1
                continue
            figures.matured += 1
            figures.credits += credits
            figures.readers.add(row.reader_id)
    return figures.dump()
