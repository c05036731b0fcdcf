"""The credits ledger: every movement of credits, double-entry, one transaction each.

A movement is a journal entry with postings that sum to zero. ``commit`` writes, in one
DynamoDB transaction:

- the entry, with a conditional put on its deterministic id (``hold:<reading>``,
  ``purchase:<checkout session>``...): a retry or a redelivered event cannot apply it twice;
- one conditional update per account it touches: user accounts are attributes of the user
  item (available, held and earnings never below zero, receivable never above zero);
  platform accounts are sharded items that never go below zero; external accounts (Stripe
  clearing, promotions) are the only ones allowed to go negative;
- a history line per user it touches (``GET /credits``);
- whatever the caller adds (``extra``): the reading's state change, a purchase record, an
  outbox event. They all commit together or not at all.

Accounts
  user:<id>:available   credits the user can spend
  user:<id>:held        credits held for requested readings
  user:<id>:earnings    a reader's earnings (net of the platform fee)
  user:<id>:receivable  what the user owes after a refund/chargeback of spent credits (<= 0)
  platform:revenue      captured credits of accepted readings, until the reader is paid
  platform:fees         the platform's fee on completed readings
  platform:expired      subscription credits beyond the rollover cap
  external:stripe       money in through Stripe (negative: what Stripe paid us in credits)
  external:promotions   credits given away (negative)

The sum over all accounts is always zero; ``services.ledger_check`` verifies it and every
balance against the journal.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.config import get_settings
from chalicelib.errors import BusinessRuleViolation, DependencyUnavailable, InsufficientCredits
from chalicelib.models.base import iso, utcnow
from chalicelib.models.ledger import LedgerEntry, LedgerLine, Posting, SystemAccount
from chalicelib.models.users import User
from chalicelib.services.tx import Transaction

SHARDS = 8
USER_ACCOUNT_FIELDS = {
    "available": User.credits_available,
    "held": User.credits_held,
    "earnings": User.credits_earnings,
    "receivable": User.credits_receivable,
}
SYSTEM_ACCOUNTS = (
    "platform:revenue", "platform:fees", "platform:expired", "external:stripe", "external:promotions",
)
# External accounts mirror money outside the platform and may go negative; nothing else may.
UNBOUNDED = frozenset({"external:stripe", "external:promotions"})
MAX_ATTEMPTS = 4

ExtraOps = Callable[[Transaction], None]


def user_account(user_id: str, kind: str) -> str:
    if kind not in USER_ACCOUNT_FIELDS:
        raise ValueError(f"unknown user account kind {kind!r}")
    return f"user:{user_id}:{kind}"


def parse_user_account(account: str) -> tuple[str, str] | None:
    if not account.startswith("user:"):
        return None
    user_id, _, kind = account[len("user:"):].rpartition(":")
    return user_id, kind


def shard_of(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % SHARDS


def platform_fee(amount: int) -> int:
    """The platform's share of a completed reading (rounded down: the reader keeps the rest)."""
    return amount * get_settings().platform_fee_percent // 100


class LedgerRejected(Exception):
    """A condition of the movement's transaction failed; ``labels`` say which."""

    def __init__(self, labels: set[str]) -> None:
        super().__init__(", ".join(sorted(labels)))
        self.labels = labels


@dataclass(frozen=True)
class Movement:
    entry_id: str
    kind: str
    postings: tuple[tuple[str, int], ...]
    ref: str | None = None
    memo: str | None = None
    # Which shard of the platform/external accounts: the reading (or purchase) the movement
    # belongs to, so a capture and the later payout or refund of one reading meet on the
    # same shard and each shard stays non-negative by itself.
    shard_key: str | None = None

    def __post_init__(self) -> None:
        if not self.entry_id or len(self.entry_id) > 250:
            raise ValueError("entry id must be 1-250 characters")
        if not self.postings:
            raise ValueError("a movement needs postings")
        for account, amount in self.postings:
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise ValueError(f"amounts are integer credits, got {amount!r} for {account}")
            if account not in SYSTEM_ACCOUNTS and parse_user_account(account) is None:
                raise ValueError(f"unknown account {account!r}")
        if sum(amount for _, amount in self.postings) != 0:
            raise ValueError(f"postings of {self.entry_id} do not sum to zero: {self.postings}")

    @property
    def shard(self) -> int:
        return shard_of(self.shard_key or self.ref or self.entry_id)

    def user_changes(self) -> dict[str, dict[str, int]]:
        """{user_id: {kind: net delta}} over the user accounts this movement touches."""
        changes: dict[str, dict[str, int]] = {}
        for account, amount in self.postings:
            parsed = parse_user_account(account)
            if parsed:
                user_id, kind = parsed
                per_user = changes.setdefault(user_id, {})
                per_user[kind] = per_user.get(kind, 0) + amount
        return {user: {k: v for k, v in kinds.items() if v} for user, kinds in changes.items()}

    def system_changes(self) -> dict[str, int]:
        changes: dict[str, int] = {}
        for account, amount in self.postings:
            if account in SYSTEM_ACCOUNTS:
                changes[account] = changes.get(account, 0) + amount
        return {account: delta for account, delta in changes.items() if delta}


def add(tx: Transaction, movement: Movement, now: str | None = None) -> None:
    """Add the movement's writes to ``tx`` (labels: ``ledger:entry``, ``ledger:user:<id>``,
    ``ledger:account:<name>``)."""
    created_at = now or iso(utcnow())
    entry = LedgerEntry(
        entry_id=movement.entry_id, kind=movement.kind, created_at=created_at,
        postings=[Posting(account=account, amount=amount) for account, amount in movement.postings],
        ref=movement.ref, memo=movement.memo, shard=movement.shard,
    )
    tx.save(entry, condition=LedgerEntry.entry_id.does_not_exist(), label="ledger:entry")
    for user_id, changes in movement.user_changes().items():
        if not changes:
            # Postings that cancel out on this user (a subscription grant whose expiry equals
            # it): nothing to update; an UpdateItem without actions is invalid.
            continue
        actions = []
        condition: Any = User.user_id.exists()
        for kind, delta in changes.items():
            attribute = USER_ACCOUNT_FIELDS[kind]
            actions.append(attribute.add(delta))
            if kind == "receivable":
                if delta > 0:  # paying down a debt never overshoots zero
                    condition &= attribute <= -delta
            elif delta < 0:
                condition &= attribute >= -delta
        tx.update(User(user_id=user_id), actions=actions, condition=condition, label=f"ledger:user:{user_id}")
        tx.save(LedgerLine(owner=user_id, sk=f"{created_at}#{movement.entry_id}", entry_id=movement.entry_id,
                           kind=movement.kind, created_at=created_at, changes=changes, ref=movement.ref,
                           memo=movement.memo),
                condition=LedgerLine.owner.does_not_exist(), label="ledger:line")
    for account, delta in movement.system_changes().items():
        floor: Any = None
        if delta < 0 and account not in UNBOUNDED:
            floor = SystemAccount.balance >= -delta
        tx.update(SystemAccount(account=account, shard=movement.shard), actions=[SystemAccount.balance.add(delta)],
                  condition=floor, label=f"ledger:account:{account}")


def commit(movement: Movement, extra: ExtraOps | None = None) -> bool:
    """Apply the movement (and ``extra``) in one transaction.

    Returns True when applied, False when this entry id was already applied (a retry).
    Raises ``LedgerRejected`` when another condition failed (nothing was written).
    Retries DynamoDB's transaction conflicts (concurrent writes to the same items).
    """
    for attempt in range(MAX_ATTEMPTS):
        tx = Transaction()
        add(tx, movement)
        if extra is not None:
            extra(tx)
        try:
            with tx:
                pass
            return True
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "ledger:entry" in failed:
                return False
            if failed:
                raise LedgerRejected(failed) from exc
            if not Transaction.conflicted(exc):
                raise
            if attempt == MAX_ATTEMPTS - 1:
                # Still contended after the retries: a clear, retryable answer, not a 500.
                raise DependencyUnavailable("the account is busy; try again", code="ledger_busy") from exc
            time.sleep(random.uniform(0.01, 0.05) * (2 ** attempt))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")


def _commit_user_movement(movement: Movement, user_id: str, extra: ExtraOps | None) -> bool:
    try:
        return commit(movement, extra)
    except LedgerRejected as exc:
        if f"ledger:user:{user_id}" in exc.labels:
            raise InsufficientCredits("not enough credits available", details={"userId": user_id}) from exc
        raise


# --- operations -------------------------------------------------------------------------

GRANT_SOURCES = {"purchase": "external:stripe", "subscription": "external:stripe", "promotion": "external:promotions"}


def grant(user_id: str, credits: int, *, source: str, entry_id: str, ref: str | None = None,
          memo: str | None = None, expire: int = 0, extra: ExtraOps | None = None,
          user: User | None = None) -> bool:
    """Credits in (a paid purchase, a subscription invoice, a promotion). A receivable is
    paid down first. ``expire`` moves that many unused subscription credits out at the same
    time (rollover cap). Reads the user once unless ``user`` is given."""
    if credits <= 0 or expire < 0:
        raise ValueError("a grant is a positive number of credits")
    counter = GRANT_SOURCES[source]
    for _ in range(MAX_ATTEMPTS):
        current = user or User.get(user_id, consistent_read=True)
        user = None
        owed = -int(current.credits_receivable or 0)
        pay_down = min(credits, owed)
        postings = [(counter, -credits), (user_account(user_id, "available"), credits - pay_down)]
        if pay_down:
            postings.append((user_account(user_id, "receivable"), pay_down))
        if expire:
            postings += [(user_account(user_id, "available"), -expire), ("platform:expired", expire)]
        movement = Movement(entry_id=entry_id, kind=f"grant.{source}", postings=tuple(postings), ref=ref, memo=memo)
        try:
            return commit(movement, extra)
        except LedgerRejected as exc:
            if f"ledger:user:{user_id}" not in exc.labels:
                raise
            # The receivable or balance changed since the read: compute again.
    raise BusinessRuleViolation("the account changed too often; try again", code="ledger_busy")


def hold(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
         extra: ExtraOps | None = None) -> bool:
    """Reserve credits for a requested reading (available -> held). No read."""
    _positive(amount)
    return _commit_user_movement(Movement(
        entry_id=entry_id, kind="hold", ref=ref, memo=memo,
        postings=((user_account(user_id, "available"), -amount), (user_account(user_id, "held"), amount))),
        user_id, extra)


def release(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
            extra: ExtraOps | None = None) -> bool:
    """Give held credits back (declined, cancelled, expired)."""
    _positive(amount)
    return _commit_user_movement(Movement(
        entry_id=entry_id, kind="release", ref=ref, memo=memo,
        postings=((user_account(user_id, "held"), -amount), (user_account(user_id, "available"), amount))),
        user_id, extra)


def capture(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
            extra: ExtraOps | None = None) -> bool:
    """Held credits become the platform's (the reader accepted)."""
    _positive(amount)
    return _commit_user_movement(Movement(
        entry_id=entry_id, kind="capture", ref=ref, memo=memo,
        postings=((user_account(user_id, "held"), -amount), ("platform:revenue", amount))),
        user_id, extra)


def pay_reader(reader_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
               fee: int | None = None, extra: ExtraOps | None = None) -> bool:
    """Captured credits go to the reader, minus the platform fee (the reading completed)."""
    _positive(amount)
    fee = platform_fee(amount) if fee is None else fee
    if not 0 <= fee <= amount:
        raise ValueError("the fee is between 0 and the amount")
    postings: list[tuple[str, int]] = [("platform:revenue", -amount)]
    if amount - fee:
        postings.append((user_account(reader_id, "earnings"), amount - fee))
    if fee:
        postings.append(("platform:fees", fee))
    return commit(Movement(entry_id=entry_id, kind="payout", ref=ref, memo=memo, postings=tuple(postings) ), extra)


def refund(client_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
           reader_id: str | None = None, reader_share: int = 0, fee_share: int = 0,
           extra: ExtraOps | None = None) -> bool:
    """Credits back to the client for a captured reading: from platform revenue before the
    reader was paid, or (``reader_id``) from the reader's earnings and the platform fee."""
    _positive(amount)
    postings: list[tuple[str, int]] = [(user_account(client_id, "available"), amount)]
    if reader_id is None:
        postings.append(("platform:revenue", -amount))
    else:
        if reader_share + fee_share != amount or reader_share < 0 or fee_share < 0:
            raise ValueError("reader share and fee share must add up to the amount")
        if reader_share:
            postings.append((user_account(reader_id, "earnings"), -reader_share))
        if fee_share:
            postings.append(("platform:fees", -fee_share))
    return commit(Movement(entry_id=entry_id, kind="refund", ref=ref, memo=memo, postings=tuple(postings)), extra)


def reverse(user_id: str, credits: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
            counter: str = "external:stripe", kind: str = "reversal", extra: ExtraOps | None = None) -> bool:
    """Take purchased credits back (refund, chargeback). What the user already spent cannot
    be taken: the balance stops at zero and the rest is recorded as a receivable."""
    _positive(credits)
    for _ in range(MAX_ATTEMPTS):
        current = User.get(user_id, consistent_read=True)
        take = min(credits, int(current.credits_available or 0))
        owe = credits - take
        postings: list[tuple[str, int]] = [(counter, credits)]
        if take:
            postings.append((user_account(user_id, "available"), -take))
        if owe:
            postings.append((user_account(user_id, "receivable"), -owe))
        try:
            return commit(Movement(entry_id=entry_id, kind=kind, ref=ref, memo=memo, postings=tuple(postings)),
                          extra)
        except LedgerRejected as exc:
            if f"ledger:user:{user_id}" not in exc.labels:
                raise
    raise BusinessRuleViolation("the account changed too often; try again", code="ledger_busy")


def _positive(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"amount must be a positive integer, got {amount!r}")


# --- reads ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    available: int
    held: int
    earnings: int
    owed: int

    @property
    def restricted(self) -> bool:
        """An unsettled receivable blocks booking readings until it is paid down."""
        return self.owed > 0


def balance_of(user: User) -> Balance:
    return Balance(available=int(user.credits_available or 0), held=int(user.credits_held or 0),
                   earnings=int(user.credits_earnings or 0), owed=-int(user.credits_receivable or 0))


def system_balance(account: str) -> int:
    return sum(int(item.balance or 0) for item in SystemAccount.query(account, consistent_read=True))


def history_query(user_id: str) -> Callable[[int, dict[str, Any] | None], Any]:
    def run(limit: int, start_key: dict[str, Any] | None) -> Any:
        return LedgerLine.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    return run


def entries(entry_ids: Iterable[str]) -> list[LedgerEntry]:
    return list(LedgerEntry.batch_get(list(entry_ids)))
