"""The credits ledger, called directly: what each movement does to the balances a user sees,
that a retried movement applies once, that a refused one writes nothing and names the
balance that stopped it, the history a user reads, that contention ends in a retryable
``ledger_busy``, and that concurrent debits of one balance never overdraw it.

Each movement is committed in a unit of work of its own (tests/support/ledger.py:
``ledger.apply`` over one operation); tests/unit/test_tx.py covers the unit of work."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.report import report
from tests.support import ledger as moves

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture()
def clock(monkeypatch):
    """Stamp each movement one second after the previous one (history order is by time)."""
    from chalicelib.services import ledger

    ticks = itertools.count()
    monkeypatch.setattr(ledger, "utcnow", lambda: T0 + timedelta(seconds=next(ticks)))


@pytest.fixture()
def people(make_user):
    make_user("user_client")
    make_user("user_other")
    make_user("user_reader", role="reader")
    return "user_client", "user_reader"


def balance(user_id: str) -> Any:
    from chalicelib.models.users import User
    from chalicelib.services import ledger

    return ledger.balance_of(User.get(user_id, consistent_read=True))


def balances(user_id: str) -> tuple[int, int, int, int]:
    b = balance(user_id)
    return b.available, b.held, b.earnings, b.owed


def system() -> dict[str, int]:
    from chalicelib.services import ledger

    return {account: ledger.system_balance(account) for account in ledger.SYSTEM_ACCOUNTS}


def nonzero_system() -> dict[str, int]:
    return {account: value for account, value in system().items() if value}


def history(user_id: str, limit: int = 50) -> list[tuple[str, str, dict[str, int]]]:
    from chalicelib.services import ledger

    return [(line.entry_id, line.kind, {k: int(v) for k, v in line.changes.as_dict().items()})
            for line in ledger.history_query(user_id)(limit, None)]


def assert_ledger_checks() -> None:
    from chalicelib.services import ledger_check

    result = ledger_check.run()
    assert result.ok, result.lines()


def captured_reading(client: str, amount: int, reading: str) -> None:
    """A reading the reader accepted: the client's credits were held, then captured."""

    moves.grant(client, amount, source="purchase", entry_id=f"purchase:{reading}", ref=f"cs_{reading}")
    moves.hold(client, amount, entry_id=f"hold:{reading}", ref=reading)
    moves.capture(client, amount, entry_id=f"capture:{reading}", ref=reading)


# --- what each movement does ------------------------------------------------------------

def test_purchases_and_promotions_grant_available_credits(people):

    client, _ = people
    assert moves.grant(client, 60, source="purchase", entry_id="purchase:cs_1", ref="cs_1") is True
    assert moves.grant(client, 15, source="promotion", entry_id="promotion:welcome:1") is True

    assert balances(client) == (75, 0, 0, 0)
    assert nonzero_system() == {"external:stripe": -60, "external:promotions": -15}
    assert balances("user_other") == (0, 0, 0, 0)
    assert_ledger_checks()


def test_hold_release_and_capture_move_credits_between_accounts(people):

    client, _ = people
    moves.grant(client, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1")

    moves.hold(client, 30, entry_id="hold:rd_1", ref="rd_1")
    assert balances(client) == (70, 30, 0, 0)
    moves.release(client, 10, entry_id="release:rd_1", ref="rd_1")
    assert balances(client) == (80, 20, 0, 0)
    moves.capture(client, 20, entry_id="capture:rd_1", ref="rd_1")
    assert balances(client) == (80, 0, 0, 0)
    assert nonzero_system() == {"external:stripe": -100, "platform:revenue": 20}
    assert_ledger_checks()


def test_paying_the_reader_keeps_the_platform_fee(people):
    from chalicelib.config import get_settings

    client, reader = people
    assert get_settings().platform_fee_percent == 20
    captured_reading(client, 50, "rd_1")
    captured_reading(client, 7, "rd_2")

    assert moves.pay_reader(reader, 50, entry_id="payout:rd_1", ref="rd_1") is True
    assert balances(reader) == (0, 0, 40, 0)
    # 20% of 7 is 1.4: the platform's fee is rounded down, the reader keeps the rest.
    moves.pay_reader(reader, 7, entry_id="payout:rd_2", ref="rd_2")
    assert balances(reader) == (0, 0, 46, 0)
    assert nonzero_system() == {"external:stripe": -57, "platform:fees": 11}
    assert_ledger_checks()


def test_the_fee_follows_the_configured_percentage(people, monkeypatch):
    from chalicelib.config import get_settings

    client, reader = people
    captured_reading(client, 10, "rd_1")
    monkeypatch.setenv("PLATFORM_FEE_PERCENT", "35")
    get_settings.cache_clear()
    try:
        moves.pay_reader(reader, 10, entry_id="payout:rd_1", ref="rd_1")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert balances(reader) == (0, 0, 7, 0)  # 35% of 10 = 3.5: fee 3
    assert nonzero_system() == {"external:stripe": -10, "platform:fees": 3}


def test_a_refund_before_payout_comes_out_of_platform_revenue(people):

    client, _ = people
    captured_reading(client, 40, "rd_1")
    assert balances(client) == (0, 0, 0, 0)

    assert moves.refund(client, 40, entry_id="refund:rd_1", ref="rd_1") is True
    assert balances(client) == (40, 0, 0, 0)
    assert nonzero_system() == {"external:stripe": -40}
    assert_ledger_checks()


def test_a_refund_after_payout_takes_the_reader_share_and_the_fee_back(people):

    client, reader = people
    captured_reading(client, 50, "rd_1")
    moves.pay_reader(reader, 50, entry_id="payout:rd_1", ref="rd_1")

    assert moves.refund(client, 50, entry_id="refund:rd_1", ref="rd_1", reader_id=reader,
                         reader_share=40, fee_share=10) is True
    assert balances(client) == (50, 0, 0, 0)
    assert balances(reader) == (0, 0, 0, 0)
    assert nonzero_system() == {"external:stripe": -50}
    with pytest.raises(ValueError):
        moves.refund(client, 10, entry_id="refund:bad", ref="rd_1", reader_id=reader, reader_share=5, fee_share=4)
    assert_ledger_checks()


def test_a_refund_beyond_what_the_reading_left_is_refused_and_changes_nothing(people):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services.tx import ConditionsFailed

    client, reader = people
    captured_reading(client, 30, "rd_1")
    before = (balances(client), system())

    with pytest.raises(ConditionsFailed) as refused:
        moves.refund(client, 31, entry_id="refund:rd_1", ref="rd_1")
    assert refused.value.labels == {"ledger:account:platform:revenue"}

    moves.pay_reader(reader, 30, entry_id="payout:rd_1", ref="rd_1")
    after_payout = (balances(client), balances(reader), system())
    with pytest.raises(ConditionsFailed) as too_much:  # the reader earned 24, not 25
        moves.refund(client, 30, entry_id="refund:rd_1", ref="rd_1", reader_id=reader, reader_share=25,
                      fee_share=5)
    assert too_much.value.labels == {f"ledger:user:{reader}"}
    assert (balances(client), balances(reader), system()) == after_payout
    assert before[0] == after_payout[0]
    assert not list(LedgerEntry.query("refund:rd_1"))
    assert_ledger_checks()


def test_reversing_spent_credits_leaves_a_debt_that_the_next_grants_pay_first(people, clock):

    client, _ = people
    moves.grant(client, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.hold(client, 70, entry_id="hold:rd_1", ref="rd_1")

    # The purchase is refunded (or disputed) after 70 of its credits were spent.
    assert moves.reverse(client, 100, entry_id="reversal:cs_1", ref="cs_1") is True
    after = balance(client)
    assert (after.available, after.held, after.owed, after.restricted) == (0, 70, 70, True)
    assert system()["external:stripe"] == 0

    moves.grant(client, 50, source="purchase", entry_id="purchase:cs_2", ref="cs_2")
    partly = balance(client)
    assert (partly.available, partly.owed, partly.restricted) == (0, 20, True)
    moves.grant(client, 30, source="purchase", entry_id="purchase:cs_3", ref="cs_3")
    settled = balance(client)
    assert (settled.available, settled.owed, settled.restricted) == (10, 0, False)

    assert [(entry_id, changes) for entry_id, _, changes in history(client)[:3]] == [
        ("purchase:cs_3", {"receivable": 20, "available": 10}),
        ("purchase:cs_2", {"receivable": 50}),
        ("reversal:cs_1", {"available": -30, "receivable": -70}),
    ]
    assert_ledger_checks()


def test_a_reversal_of_unspent_credits_just_takes_them_back(people):

    client, _ = people
    moves.grant(client, 60, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.reverse(client, 60, entry_id="reversal:cs_1", ref="cs_1")
    after = balance(client)
    assert (after.available, after.owed, after.restricted) == (0, 0, False)
    assert nonzero_system() == {}


# --- retries, refusals ------------------------------------------------------------------

def test_every_movement_retried_with_its_entry_id_applies_once(people):

    client, reader = people
    movements = [
        lambda: moves.grant(client, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1"),
        lambda: moves.grant(client, 5, source="promotion", entry_id="promotion:p1"),
        lambda: moves.hold(client, 60, entry_id="hold:rd_1", ref="rd_1"),
        lambda: moves.release(client, 10, entry_id="release:rd_1", ref="rd_1"),
        lambda: moves.capture(client, 50, entry_id="capture:rd_1", ref="rd_1"),
        lambda: moves.pay_reader(reader, 30, entry_id="payout:rd_1", ref="rd_1"),
        lambda: moves.refund(client, 20, entry_id="refund:rd_1", ref="rd_1"),
        lambda: moves.refund(client, 10, entry_id="refund:rd_1:late", ref="rd_1", reader_id=reader,
                              reader_share=8, fee_share=2),
        lambda: moves.reverse(client, 100, entry_id="reversal:cs_1", ref="cs_1"),
    ]
    for movement in movements:
        assert movement() is True
        state = (balances(client), balances(reader), system(), len(history(client)), len(history(reader)))
        assert movement() is False
        assert movement() is False
        assert (balances(client), balances(reader), system(), len(history(client)),
                len(history(reader))) == state
    assert_ledger_checks()


def test_a_retried_hold_is_a_no_op_even_once_the_balance_is_spent(people):
    """The retry of an applied hold must not be reported as 'insufficient credits'."""

    client, _ = people
    moves.grant(client, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.hold(client, 60, entry_id="hold:rd_1", ref="rd_1")
    moves.hold(client, 40, entry_id="hold:rd_2", ref="rd_2")
    assert moves.hold(client, 60, entry_id="hold:rd_1", ref="rd_1") is False
    assert balances(client) == (0, 100, 0, 0)


def test_a_hold_larger_than_the_balance_is_refused_and_writes_nothing(people):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services import ledger
    from chalicelib.services.tx import ConditionsFailed

    client, _ = people
    moves.grant(client, 10, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    with pytest.raises(ConditionsFailed) as refused:
        moves.hold(client, 11, entry_id="hold:rd_1", ref="rd_1")
    assert refused.value.labels == {f"ledger:user:{client}"}
    assert ledger.short_of_credits(refused.value, client) and not ledger.already_applied(refused.value)
    # What a service raises for it: a 422 whose message is a sentence.
    answer = ledger.insufficient(client)
    assert (answer.status, answer.code, str(answer)) == (
        422, "insufficient_credits", "You do not have enough credits available for this.")

    assert balances(client) == (10, 0, 0, 0)
    assert not list(LedgerEntry.query("hold:rd_1"))
    assert [entry_id for entry_id, _, _ in history(client)] == ["purchase:cs_1"]
    # Nothing was reserved under that id: the same hold succeeds once there is enough.
    moves.grant(client, 1, source="promotion", entry_id="promotion:p1")
    assert moves.hold(client, 11, entry_id="hold:rd_1", ref="rd_1") is True
    assert balances(client) == (0, 11, 0, 0)


def test_releasing_or_capturing_more_than_is_held_is_refused(people):
    from chalicelib.services.tx import ConditionsFailed

    client, _ = people
    moves.grant(client, 20, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.hold(client, 5, entry_id="hold:rd_1", ref="rd_1")
    with pytest.raises(ConditionsFailed) as release:
        moves.release(client, 6, entry_id="release:rd_1", ref="rd_1")
    with pytest.raises(ConditionsFailed) as capture:
        moves.capture(client, 6, entry_id="capture:rd_1", ref="rd_1")
    assert release.value.labels == capture.value.labels == {f"ledger:user:{client}"}
    assert balances(client) == (15, 5, 0, 0)
    assert nonzero_system() == {"external:stripe": -20}


def test_a_movement_for_an_unknown_user_creates_no_account(people):
    from chalicelib.models.users import User
    from chalicelib.services.tx import ConditionsFailed

    with pytest.raises(ConditionsFailed) as hold:
        moves.hold("user_nobody", 1, entry_id="hold:rd_x")
    assert hold.value.labels == {"ledger:user:user_nobody"}
    with pytest.raises(ConditionsFailed) as refund:
        moves.refund("user_nobody", 1, entry_id="refund:rd_x", reader_id=people[1], reader_share=1)
    # The client's account does not exist; the reader has no earnings to give back either.
    assert refund.value.labels == {"ledger:user:user_nobody", f"ledger:user:{people[1]}"}
    with pytest.raises(User.DoesNotExist):
        User.get("user_nobody", consistent_read=True)
    assert nonzero_system() == {}


# --- history ----------------------------------------------------------------------------

def test_history_lists_each_users_changes_newest_first(people, clock):
    from chalicelib.services import ledger

    client, reader = people
    moves.grant(client, 60, source="purchase", entry_id="purchase:cs_1", ref="cs_1", memo="Seeker pack")
    moves.hold(client, 25, entry_id="hold:rd_1", ref="rd_1")
    moves.release(client, 5, entry_id="release:rd_1", ref="rd_1")
    moves.capture(client, 20, entry_id="capture:rd_1", ref="rd_1")
    moves.pay_reader(reader, 20, entry_id="payout:rd_1", ref="rd_1")
    moves.refund(client, 20, entry_id="refund:rd_1", ref="rd_1", reader_id=reader, reader_share=16, fee_share=4)

    assert history(client) == [
        ("refund:rd_1", "refund", {"available": 20}),
        ("capture:rd_1", "capture", {"held": -20}),
        ("release:rd_1", "release", {"held": -5, "available": 5}),
        ("hold:rd_1", "hold", {"available": -25, "held": 25}),
        ("purchase:cs_1", "grant.purchase", {"available": 60}),
    ]
    assert history(reader) == [
        ("refund:rd_1", "refund", {"earnings": -16}),
        ("payout:rd_1", "payout", {"earnings": 16}),
    ]
    oldest = list(ledger.history_query(client)(50, None))[-1]
    assert (oldest.memo, oldest.ref, oldest.created_at) == ("Seeker pack", "cs_1", "2030-05-01T12:00:00.000Z")

    first = ledger.history_query(client)(2, None)
    page_one = [line.entry_id for line in first]
    page_two = [line.entry_id for line in ledger.history_query(client)(10, first.last_evaluated_key)]
    assert page_one + page_two == [entry_id for entry_id, _, _ in history(client)]


# --- conflicts and concurrency ----------------------------------------------------------

def _conflicts(monkeypatch, times: int) -> list[int]:
    """DynamoDB cancels a transaction that races another on the same item
    (TransactionConflict); the next ``times`` TransactWriteItems calls get that answer."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.services import tx

    calls: list[int] = []
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        calls.append(len(transact_items))
        if len(calls) <= times:
            raise TransactionCanceledException(
                [("TransactionConflict", "Transaction is ongoing for the item", None)] * len(transact_items))
        return original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    monkeypatch.setattr(tx.time, "sleep", lambda seconds: None)  # the backoff; no waiting in tests
    return calls


def test_a_conflicting_transaction_is_retried_and_applied_once(people, monkeypatch):
    from chalicelib.services.tx import MAX_ATTEMPTS

    client, _ = people
    moves.grant(client, 10, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    calls = _conflicts(monkeypatch, times=MAX_ATTEMPTS - 1)
    assert moves.hold(client, 4, entry_id="hold:rd_1", ref="rd_1") is True
    assert len(calls) == MAX_ATTEMPTS
    assert balances(client) == (6, 4, 0, 0)
    assert [entry_id for entry_id, _, _ in history(client)].count("hold:rd_1") == 1


def test_a_transaction_that_keeps_conflicting_fails_without_writing(people, monkeypatch):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services.tx import MAX_ATTEMPTS, Contention

    client, _ = people
    moves.grant(client, 10, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    calls = _conflicts(monkeypatch, times=MAX_ATTEMPTS)
    with pytest.raises(Contention) as refused:  # a 503 ledger_busy, retryable, not a 500
        moves.hold(client, 4, entry_id="hold:rd_1", ref="rd_1")
    assert (refused.value.status, refused.value.code) == (503, "ledger_busy")
    assert len(calls) == MAX_ATTEMPTS
    assert balances(client) == (10, 0, 0, 0)
    assert not list(LedgerEntry.query("hold:rd_1"))


@pytest.fixture()
def strict_dynamodb():
    """Each DynamoDB request atomic with respect to the others, as DynamoDB guarantees (moto's
    backend takes no lock; tools/strict_moto.py, shared with `make run`, adds it). Idempotent."""
    from tools import strict_moto

    strict_moto.install()


def test_concurrent_debits_never_overdraw_a_balance(people, strict_dynamodb):
    """200 concurrent 1-credit debits of a 100-credit balance: exactly 100 succeed, the balance
    never goes below zero, and the entries sum to the balance."""
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.models.users import User
    from chalicelib.services import ledger
    from chalicelib.services.tx import ConditionsFailed

    client, _ = people
    moves.grant(client, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1")

    done = threading.Event()
    samples: list[tuple[int, int]] = []

    def watch() -> None:
        while not done.is_set():
            user = User.get(client, consistent_read=True)
            samples.append((int(user.credits_available), int(user.credits_held)))

    def debit(n: int) -> str:
        try:
            return "ok" if moves.hold(client, 1, entry_id=f"hold:{n}", ref=f"rd_{n}") else "duplicate"
        except ConditionsFailed as failed:
            return "refused" if failed.labels == {f"ledger:user:{client}"} else f"failed: {failed}"

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            outcomes = list(pool.map(debit, range(200)))
    finally:
        done.set()
        watcher.join()
    elapsed_ms = (time.perf_counter() - started) * 1000

    assert (outcomes.count("ok"), outcomes.count("refused")) == (100, 100)
    assert balances(client) == (0, 100, 0, 0)
    assert samples, "the watcher read the balance while the debits ran"
    assert min(available for available, _ in samples) >= 0
    assert {available + held for available, held in samples} == {100}  # never a half-applied hold
    applied = [n for n, outcome in enumerate(outcomes) if outcome == "ok"]
    journal = ledger.entries(f"hold:{n}" for n in range(200))
    assert sorted(entry.entry_id for entry in journal) == sorted(f"hold:{n}" for n in applied)
    assert sum(int(p.amount) for e in journal for p in e.postings if p.account.endswith(":held")) == 100
    assert len(list(LedgerEntry.scan())) == 101
    assert_ledger_checks()
    report(f"ledger: 200 concurrent 1-credit holds on 100 credits (24 threads) -> {outcomes.count('ok')} succeeded, "
           f"{outcomes.count('refused')} refused, min balance seen {min(a for a, _ in samples)} over "
           f"{len(samples)} reads, {elapsed_ms:.0f} ms")
