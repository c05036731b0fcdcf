"""The credits ledger: every movement of credits, double-entry, one transaction each.

A movement is a journal entry with postings that sum to zero. Each operation (``hold``,
``capture``...) adds a movement's writes to the caller's ``Transaction`` (one unit of work,
``services/tx.py``); the caller commits it with its own writes. A movement writes:

- the entry, with a conditional put on its deterministic id (``hold:<reading>``,
  ``purchase:<checkout session>``...): a retry or a redelivered event cannot apply it twice;
- one conditional update per account it touches: user accounts are attributes of the user
  item (available, held, earnings and payable never below zero, receivable never above
  zero); platform accounts are sharded items that never go below zero; external accounts
  (Stripe clearing, promotions) are the only ones allowed to go negative, except
  ``external:payouts``, which never goes below zero per shard either;
- a history line per user it touches (``GET /credits``);
- beside whatever the caller adds to the same transaction (the reading's state change, a
  purchase record, an outbox event): they all commit together or not at all.

Accounts
  user:<id>:available   credits the user can spend
  user:<id>:held        credits held for requested readings
  user:<id>:earnings    a reader's earnings (net of the platform fee) inside their readings'
                        dispute window: pending, not yet payable
  user:<id>:payable     a reader's earnings whose dispute window closed (``mature``):
                        available for a payout to their bank
  user:<id>:receivable  what the user owes after a refund/chargeback of spent credits, or
                        after a refund of a reading whose earnings were paid out (<= 0)
  platform:revenue      captured credits of accepted readings, until the reader is paid
  platform:fees         the platform's fee on completed readings
  platform:expired      subscription credits beyond the rollover cap
  external:stripe       money in through Stripe (negative: what Stripe paid us in credits)
  external:promotions   credits given away (negative)
  external:payouts      credits paid out to readers' banks (positive; sharded by the payout
                        id, so a returned payout meets its payout on the same shard)

Readers' earnings (issue 18): ``pay_reader`` credits ``earnings`` at completion; ``mature``
moves a reading's share to ``payable`` once its dispute window closed (paying a receivable
down first); ``payout`` moves payable to ``external:payouts`` (the bank transfer) and
``payout_return`` brings a failed or reversed one back, once; a refund after maturation
(``refund_matured``) takes the reader's share from payable and records what was already
paid out as the reader's receivable, which the next maturation pays down.

The sum over all accounts is always zero; ``services.ledger_check`` verifies it and every
balance against the journal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import InsufficientCredits
from chalicelib.models.base import iso, utcnow
from chalicelib.models.ledger import LedgerEntry, LedgerLine, Posting, SystemAccount
from chalicelib.models.users import User
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SHARDS = 8
USER_ACCOUNT_FIELDS = {
    "available": User.credits_available,
    "held": User.credits_held,
    "earnings": User.credits_earnings,
    "payable": User.credits_payable,
    "receivable": User.credits_receivable,
}
SYSTEM_ACCOUNTS = (
    "platform:revenue", "platform:fees", "platform:expired", "external:stripe", "external:promotions",
    "external:payouts",
)
# External accounts mirror money outside the platform and may go negative; nothing else may.
UNBOUNDED = frozenset({"external:stripe", "external:promotions"})


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
    # Whose ``GET /reader/earnings`` lists the line (the sparse byEarner index): None, the
    # user whose earnings account it moved; "" nobody (a maturation only moves earnings to
    # payable); a user id, that reader (a refund after maturation moves payable/receivable).
    earner: str | None = None

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


def post(tx: Transaction, movement: Movement, now: str | None = None) -> None:
    """Add the movement's writes to the caller's transaction. Labels:
    ``ledger:entry:<entry id>`` (already applied), ``ledger:user:<id>`` (a balance would go
    below zero, or the receivable moved), ``ledger:account:<name>`` (a platform account)."""
    created_at = now or iso(utcnow())
    entry = LedgerEntry(
        entry_id=movement.entry_id, kind=movement.kind, created_at=created_at,
        postings=[Posting(account=account, amount=amount) for account, amount in movement.postings],
        ref=movement.ref, memo=movement.memo, shard=movement.shard,
    )
    tx.save(entry, condition=LedgerEntry.entry_id.does_not_exist(), label=f"{ENTRY_LABEL}{movement.entry_id}")
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
        tx.update(User(user_id=user_id), actions=actions, condition=condition, label=user_label(user_id))
        tx.save(LedgerLine(owner=user_id, sk=f"{created_at}#{movement.entry_id}", entry_id=movement.entry_id,
                           kind=movement.kind, created_at=created_at, changes=changes, ref=movement.ref,
                           memo=movement.memo, earner=_earner(movement, user_id, changes)),
                condition=LedgerLine.owner.does_not_exist(), label="ledger:line")
    for account, delta in movement.system_changes().items():
        floor: Any = None
        if delta < 0 and account not in UNBOUNDED:
            floor = SystemAccount.balance >= -delta
        tx.update(SystemAccount(account=account, shard=movement.shard), actions=[SystemAccount.balance.add(delta)],
                  condition=floor, label=f"ledger:account:{account}")


def _earner(movement: Movement, user_id: str, changes: dict[str, int]) -> str | None:
    if movement.earner is None:
        return user_id if "earnings" in changes else None
    return user_id if movement.earner == user_id else None


ENTRY_LABEL = "ledger:entry:"


def user_label(user_id: str) -> str:
    return f"ledger:user:{user_id}"


def already_applied(failed: ConditionsFailed) -> bool:
    """The transaction failed because a movement in it was applied before (a retry)."""
    return failed.any_startswith(ENTRY_LABEL)


def short_of_credits(failed: ConditionsFailed, user_id: str) -> bool:
    """A balance of this user would have gone below zero (or its receivable moved)."""
    return user_label(user_id) in failed


def balance_moved(user_id: str) -> Callable[[ConditionsFailed], bool]:
    """For ``atomically(retry_on=...)``: movements computed from a balance read in the same
    attempt (grant pays the receivable down, reverse takes what is available) are computed
    again when that balance changed before the commit."""
    return lambda failed: short_of_credits(failed, user_id) and not already_applied(failed)


def insufficient(user_id: str) -> InsufficientCredits:
    return InsufficientCredits("You do not have enough credits available for this.", details={"userId": user_id})


def apply(work: Callable[[Transaction], Any], *, retry_on: Callable[[ConditionsFailed], bool] | None = None) -> bool:
    """Commit a unit of work holding ledger movements (``atomically``): True when applied,
    False when its entry was applied before (a retry or a redelivered event). Any other
    failed condition raises ``ConditionsFailed``."""
    try:
        atomically(work, retry_on=retry_on, busy="The account is busy right now. Try again in a moment.",
                   busy_code="ledger_busy")
    except ConditionsFailed as failed:
        if already_applied(failed):
            return False
        raise
    return True


def read_user(user_id: str) -> User:
    """The user's balances, read consistently (for movements that depend on them)."""
    return User.get(user_id, consistent_read=True)


# --- operations: each adds one movement to the caller's transaction ----------------------
# ``now`` (ISO time) dates the movement: the time of the step it belongs to (a reading's
# acceptance, completion...), so a period's lines are the steps taken in it; default: now.

GRANT_SOURCES = {"purchase": "external:stripe", "subscription": "external:stripe", "promotion": "external:promotions"}


def grant(tx: Transaction, user: User, credits: int, *, source: str, entry_id: str, ref: str | None = None,
          memo: str | None = None, expire: int = 0, now: str | None = None) -> None:
    """Credits in (a paid purchase, a subscription invoice, a promotion). A receivable is
    paid down first, computed from ``user`` as read in this attempt (``read_user``); run
    it with ``retry_on=balance_moved(user_id)``. ``expire`` moves that many unused
    subscription credits out at the same time (rollover cap)."""
    if credits <= 0 or expire < 0:
        raise ValueError("a grant is a positive number of credits")
    user_id = user.user_id
    owed = -int(user.credits_receivable or 0)
    pay_down = min(credits, owed)
    postings = [(GRANT_SOURCES[source], -credits), (user_account(user_id, "available"), credits - pay_down)]
    if pay_down:
        postings.append((user_account(user_id, "receivable"), pay_down))
    if expire:
        postings += [(user_account(user_id, "available"), -expire), ("platform:expired", expire)]
    post(tx, Movement(entry_id=entry_id, kind=f"grant.{source}", postings=tuple(postings), ref=ref, memo=memo),
         now=now)


def hold(tx: Transaction, user_id: str, amount: int, *, entry_id: str, ref: str | None = None,
         memo: str | None = None, now: str | None = None) -> None:
    """Reserve credits for a requested reading (available -> held). No read."""
    _positive(amount)
    post(tx, Movement(entry_id=entry_id, kind="hold", ref=ref, memo=memo, postings=(
        (user_account(user_id, "available"), -amount), (user_account(user_id, "held"), amount))), now=now)


def release(tx: Transaction, user_id: str, amount: int, *, entry_id: str, ref: str | None = None,
            memo: str | None = None, now: str | None = None) -> None:
    """Give held credits back (declined, cancelled, expired)."""
    _positive(amount)
    post(tx, Movement(entry_id=entry_id, kind="release", ref=ref, memo=memo, postings=(
        (user_account(user_id, "held"), -amount), (user_account(user_id, "available"), amount))), now=now)


def capture(tx: Transaction, user_id: str, amount: int, *, entry_id: str, ref: str | None = None,
            memo: str | None = None, now: str | None = None) -> None:
    """Held credits become the platform's (the reader accepted)."""
    _positive(amount)
    post(tx, Movement(entry_id=entry_id, kind="capture", ref=ref, memo=memo, postings=(
        (user_account(user_id, "held"), -amount), ("platform:revenue", amount))), now=now)


def pay_reader(tx: Transaction, reader_id: str, amount: int, *, entry_id: str, ref: str | None = None,
               memo: str | None = None, fee: int | None = None, now: str | None = None) -> None:
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
    post(tx, Movement(entry_id=entry_id, kind="payout", ref=ref, memo=memo, postings=tuple(postings)), now=now)


def refund(tx: Transaction, client_id: str, amount: int, *, entry_id: str, ref: str | None = None,
           memo: str | None = None, reader_id: str | None = None, reader_share: int = 0, fee_share: int = 0,
           now: str | None = None) -> None:
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
    post(tx, Movement(entry_id=entry_id, kind="refund", ref=ref, memo=memo, postings=tuple(postings)), now=now)


def reverse(tx: Transaction, user: User, credits: int, *, entry_id: str, ref: str | None = None,
            memo: str | None = None, counter: str = "external:stripe", kind: str = "reversal",
            now: str | None = None) -> None:
    """Take purchased credits back (refund, chargeback). What the user already spent cannot
    be taken: the balance stops at zero and the rest is recorded as a receivable. Computed
    from ``user`` as read in this attempt: run it with ``retry_on=balance_moved(user_id)``."""
    _positive(credits)
    take = min(credits, int(user.credits_available or 0))
    owe = credits - take
    postings: list[tuple[str, int]] = [(counter, credits)]
    if take:
        postings.append((user_account(user.user_id, "available"), -take))
    if owe:
        postings.append((user_account(user.user_id, "receivable"), -owe))
    post(tx, Movement(entry_id=entry_id, kind=kind, ref=ref, memo=memo, postings=tuple(postings)), now=now)


def refund_matured(tx: Transaction, client_id: str, amount: int, *, reader: User, reader_share: int,
                   fee_share: int, entry_id: str, ref: str | None = None, memo: str | None = None,
                   now: str | None = None) -> None:
    """A refund of a reading whose earnings matured (and may be paid out): the reader's share
    comes from their payable account, and what is no longer there (paid out) becomes their
    receivable, which their next maturation pays down. Computed from ``reader`` as read in
    this attempt: run it with ``retry_on=balance_moved(reader_id)``."""
    _positive(amount)
    if reader_share + fee_share != amount or reader_share < 0 or fee_share < 0:
        raise ValueError("reader share and fee share must add up to the amount")
    take = min(reader_share, int(reader.credits_payable or 0))
    postings: list[tuple[str, int]] = [(user_account(client_id, "available"), amount)]
    if take:
        postings.append((user_account(reader.user_id, "payable"), -take))
    if reader_share - take:
        postings.append((user_account(reader.user_id, "receivable"), -(reader_share - take)))
    if fee_share:
        postings.append(("platform:fees", -fee_share))
    post(tx, Movement(entry_id=entry_id, kind="refund", ref=ref, memo=memo, postings=tuple(postings),
                      earner=reader.user_id), now=now)


def mature(tx: Transaction, reader: User, credits: int, *, entry_id: str, ref: str | None = None,
           memo: str | None = None, now: str | None = None) -> None:
    """A reading's earnings leave the dispute window: earnings -> payable, a receivable paid
    down first (like ``grant``). Computed from ``reader`` as read in this attempt: run it
    with ``retry_on=balance_moved(reader_id)``."""
    _positive(credits)
    reader_id = reader.user_id
    pay_down = min(credits, -int(reader.credits_receivable or 0))
    postings: list[tuple[str, int]] = [(user_account(reader_id, "earnings"), -credits)]
    if credits - pay_down:
        postings.append((user_account(reader_id, "payable"), credits - pay_down))
    if pay_down:
        postings.append((user_account(reader_id, "receivable"), pay_down))
    post(tx, Movement(entry_id=entry_id, kind="mature", ref=ref, memo=memo, postings=tuple(postings), earner=""),
         now=now)


def payout(tx: Transaction, reader_id: str, credits: int, *, payout_id: str, memo: str | None = None,
           now: str | None = None) -> None:
    """Payable credits leave for the reader's bank (``payout:<payout id>``): payable ->
    external:payouts on the payout's shard. Refused (``ledger:user:<id>``) beyond payable."""
    _positive(credits)
    post(tx, Movement(entry_id=f"payout:{payout_id}", kind="bank_payout", ref=payout_id, memo=memo,
                      shard_key=payout_id, earner="", postings=(
                          (user_account(reader_id, "payable"), -credits), ("external:payouts", credits))), now=now)


def payout_return(tx: Transaction, reader: User, credits: int, *, payout_id: str, memo: str | None = None,
                  now: str | None = None) -> None:
    """A failed or reversed payout's credits come back (``payout-return:<payout id>``, once
    whichever event reports it first): external:payouts -> payable on the payout's shard, a
    receivable paid down first. Computed from ``reader`` as read in this attempt: run it with
    ``retry_on=balance_moved(reader_id)``."""
    _positive(credits)
    reader_id = reader.user_id
    pay_down = min(credits, -int(reader.credits_receivable or 0))
    postings: list[tuple[str, int]] = [("external:payouts", -credits)]
    if credits - pay_down:
        postings.append((user_account(reader_id, "payable"), credits - pay_down))
    if pay_down:
        postings.append((user_account(reader_id, "receivable"), pay_down))
    post(tx, Movement(entry_id=f"payout-return:{payout_id}", kind="bank_payout_return", ref=payout_id, memo=memo,
                      shard_key=payout_id, earner="", postings=tuple(postings)), now=now)


def _positive(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"amount must be a positive integer, got {amount!r}")


# --- reads ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    available: int
    held: int
    earnings: int  # pending: inside the dispute window
    owed: int
    payable: int = 0  # a reader's earnings available for payout

    @property
    def restricted(self) -> bool:
        """An unsettled receivable blocks booking readings until it is paid down."""
        return self.owed > 0


def balance_of(user: User) -> Balance:
    return Balance(available=int(user.credits_available or 0), held=int(user.credits_held or 0),
                   earnings=int(user.credits_earnings or 0), owed=-int(user.credits_receivable or 0),
                   payable=int(user.credits_payable or 0))


def system_balance(account: str) -> int:
    return sum(int(item.balance or 0) for item in SystemAccount.query(account, consistent_read=True))


def history_query(user_id: str) -> Callable[[int, dict[str, Any] | None], Any]:
    def run(limit: int, start_key: dict[str, Any] | None) -> Any:
        return LedgerLine.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    return run


def entries(entry_ids: Iterable[str]) -> list[LedgerEntry]:
    return list(LedgerEntry.batch_get(list(entry_ids)))
