"""The unit of work (chalicelib/services/tx.py): a commit applies everything or nothing and
names the conditions that stopped it; ``with tx:`` is refused; an empty transaction writes
nothing; ``atomically`` retries conflicts a bounded number of times (then ``Contention``, a
retryable 503) and re-runs the work with a fresh read when the caller says a failed
condition is worth it; the ledger's movements and a caller's write share one transaction."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.support import ledger as moves

CLIENT, OTHER, READER = "user_client", "user_other", "user_reader"


@pytest.fixture()
def people(make_user):
    make_user(CLIENT)
    make_user(OTHER)
    make_user(READER, role="reader")


def balances(user_id: str) -> tuple[int, int, int, int]:
    from chalicelib.models.users import User
    from chalicelib.services import ledger

    b = ledger.balance_of(User.get(user_id, consistent_read=True))
    return b.available, b.held, b.earnings, b.owed


def display_name(user_id: str) -> str | None:
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True).display_name


@pytest.fixture()
def transact_calls(monkeypatch) -> Any:
    """Count TransactWriteItems calls; ``conflicts(n)`` makes the next n of them fail as
    DynamoDB answers a transaction that races another on the same item. The backoff
    between attempts is recorded, not slept."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.services import tx

    calls = SimpleNamespace(count=0, conflicts=0, pauses=[])
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        calls.count += 1
        if calls.conflicts:
            calls.conflicts -= 1
            raise TransactionCanceledException(
                [("TransactionConflict", "Transaction is ongoing for the item", None)] * len(transact_items))
        return original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    monkeypatch.setattr(tx.time, "sleep", calls.pauses.append)
    return calls


def rename(tx: Any, user_id: str, name: str, *, only_if_role: str, label: str = "caller") -> None:
    """A caller's own write in the unit of work, with a condition of its own."""
    from chalicelib.models.users import User

    tx.update(User(user_id=user_id), actions=[User.display_name.set(name)], condition=User.role == only_if_role,
              label=label)


# --- Transaction ------------------------------------------------------------------------

def test_a_failed_commit_names_every_failed_condition_and_writes_nothing(people, transact_calls):
    from chalicelib.models.users import User
    from chalicelib.services.tx import ConditionsFailed, Transaction

    tx = Transaction()
    rename(tx, CLIENT, "Applied?", only_if_role="client", label="passes")
    tx.condition_check(User, READER, condition=User.role == "admin", label="reader-is-admin")
    tx.save(User(user_id=OTHER, role="client", status="active", created_at="2030-01-01T00:00:00.000Z",
                 updated_at="2030-01-01T00:00:00.000Z"), condition=User.user_id.does_not_exist(),
            label="other-is-new")
    with pytest.raises(ConditionsFailed) as failed:
        tx.commit()

    # Labels follow DynamoDB's reasons although PynamoDB reorders the operations by kind.
    assert failed.value.labels == {"reader-is-admin", "other-is-new"}
    assert "reader-is-admin" in failed.value and "passes" not in failed.value
    assert failed.value.any_startswith("other-") and not failed.value.any_startswith("ledger:")
    assert str(failed.value) == "conditions failed: other-is-new, reader-is-admin"
    assert display_name(CLIENT) is None  # the passing update was not applied either
    assert transact_calls.count == 1


def test_one_failed_condition_is_named_alone_and_an_unlabelled_one_is_a_question_mark(people):
    from chalicelib.models.users import User
    from chalicelib.services.tx import ConditionsFailed, Transaction

    tx = Transaction()
    rename(tx, CLIENT, "Clara", only_if_role="reader", label="client-is-reader")
    with pytest.raises(ConditionsFailed) as one:
        tx.commit()
    assert one.value.labels == {"client-is-reader"}

    tx = Transaction()
    tx.condition_check(User, READER, condition=User.role == "admin")
    with pytest.raises(ConditionsFailed) as unlabelled:
        tx.commit()
    assert unlabelled.value.labels == {"?"}


def test_a_transaction_commits_once_and_never_in_a_with_block(people):
    from chalicelib.services.tx import Transaction

    tx = Transaction()
    rename(tx, CLIENT, "Clara", only_if_role="client")
    with pytest.raises(TypeError, match="commit"), tx:
        pass
    assert display_name(CLIENT) is None  # the refused with-block committed nothing

    tx.commit()
    assert display_name(CLIENT) == "Clara"
    with pytest.raises(RuntimeError):
        tx.commit()


def test_an_empty_transaction_is_a_no_op(people, transact_calls):
    from chalicelib.services.tx import Transaction, atomically

    Transaction().commit()
    assert atomically(lambda tx: "nothing to write") == "nothing to write"
    assert transact_calls.count == 0


# --- atomically -------------------------------------------------------------------------

def test_a_conflict_is_retried_until_the_commit_succeeds(people, transact_calls):
    from chalicelib.services.tx import MAX_ATTEMPTS, atomically

    attempts: list[int] = []

    def work(tx: Any) -> str:
        attempts.append(len(attempts) + 1)
        rename(tx, CLIENT, f"Clara {len(attempts)}", only_if_role="client")
        return f"attempt {len(attempts)}"

    transact_calls.conflicts = MAX_ATTEMPTS - 1
    assert atomically(work) == f"attempt {MAX_ATTEMPTS}"
    assert attempts == list(range(1, MAX_ATTEMPTS + 1))  # the work ran again on a fresh transaction each time
    assert display_name(CLIENT) == f"Clara {MAX_ATTEMPTS}"
    assert len(transact_calls.pauses) == MAX_ATTEMPTS - 1  # a jittered pause between attempts, growing
    assert all(pause > 0 for pause in transact_calls.pauses)
    assert transact_calls.pauses[-1] >= 0.01 * 2 ** (MAX_ATTEMPTS - 2)


def test_conflicts_beyond_the_attempts_are_contention_and_write_nothing(people, transact_calls):
    from chalicelib.errors import DependencyUnavailable
    from chalicelib.services.tx import MAX_ATTEMPTS, Contention, atomically

    transact_calls.conflicts = MAX_ATTEMPTS
    with pytest.raises(Contention) as busy:
        atomically(lambda tx: rename(tx, CLIENT, "Clara", only_if_role="client"), busy_code="profile_busy")
    assert isinstance(busy.value, DependencyUnavailable)
    assert (busy.value.status, busy.value.code) == (503, "profile_busy")
    assert transact_calls.count == MAX_ATTEMPTS
    assert display_name(CLIENT) is None

    transact_calls.count, transact_calls.conflicts = 0, 2
    with pytest.raises(Contention):
        atomically(lambda tx: rename(tx, CLIENT, "Clara", only_if_role="client"), attempts=2)
    assert transact_calls.count == 2


def test_a_failed_condition_is_not_retried_unless_the_caller_says_so(people, transact_calls):
    from chalicelib.services.tx import ConditionsFailed, atomically

    with pytest.raises(ConditionsFailed) as failed:
        atomically(lambda tx: rename(tx, CLIENT, "Clara", only_if_role="reader"))
    assert failed.value.labels == {"caller"}
    assert transact_calls.count == 1

    transact_calls.count = 0
    with pytest.raises(ConditionsFailed):  # retried while it says so, then raised as it is
        atomically(lambda tx: rename(tx, CLIENT, "Clara", only_if_role="reader"), retry_on=lambda exc: True)
    assert transact_calls.count == 4


def test_retry_on_runs_the_work_again_with_a_fresh_read(people):
    """A reversal computed from a balance that moved before the commit is computed again."""
    from chalicelib.services import ledger
    from chalicelib.services.tx import ConditionsFailed

    moves.grant(CLIENT, 10, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    seen: list[int] = []

    def work(tx: Any) -> None:
        user = ledger.read_user(CLIENT)
        seen.append(int(user.credits_available))
        if len(seen) == 1:  # another request holds 4 credits between this read and the commit
            moves.hold(CLIENT, 4, entry_id="hold:rd_1", ref="rd_1")
        ledger.reverse(tx, user, 10, entry_id="reversal:cs_1", ref="cs_1")

    assert ledger.apply(work, retry_on=ledger.balance_moved(CLIENT)) is True
    assert seen == [10, 6]
    assert balances(CLIENT) == (0, 4, 0, 4)  # 6 taken back, 4 owed

    # The same stale read without retry_on: the ledger's floor refuses it, nothing is written.
    moves.grant(CLIENT, 5, source="purchase", entry_id="purchase:cs_2", ref="cs_2")
    stale = ledger.read_user(CLIENT)
    moves.hold(CLIENT, 1, entry_id="hold:rd_2", ref="rd_2")
    with pytest.raises(ConditionsFailed) as refused:
        ledger.apply(lambda tx: ledger.reverse(tx, stale, 5, entry_id="reversal:cs_2", ref="cs_2"))
    assert refused.value.labels == {f"ledger:user:{CLIENT}"}


# --- the ledger in a caller's unit of work -----------------------------------------------

def _two_holds_and_a_rename(tx: Any, *, only_if_role: str) -> None:
    from chalicelib.services import ledger

    ledger.hold(tx, CLIENT, 30, entry_id="hold:rd_1", ref="rd_1", memo="Reading requested")
    ledger.hold(tx, OTHER, 20, entry_id="hold:rd_2", ref="rd_2", memo="Reading requested")
    rename(tx, READER, "Luna", only_if_role=only_if_role)


def test_two_movements_and_a_callers_write_commit_together(people):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services import ledger_check
    from chalicelib.services.tx import atomically

    moves.grant(CLIENT, 50, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.grant(OTHER, 50, source="purchase", entry_id="purchase:cs_2", ref="cs_2")

    atomically(lambda tx: _two_holds_and_a_rename(tx, only_if_role="reader"))
    assert (balances(CLIENT), balances(OTHER), display_name(READER)) == ((20, 30, 0, 0), (30, 20, 0, 0), "Luna")
    assert {entry.entry_id for entry in LedgerEntry.scan()} >= {"hold:rd_1", "hold:rd_2"}
    assert ledger_check.run().ok


def test_when_the_callers_condition_fails_no_movement_is_written(people):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services import ledger, ledger_check
    from chalicelib.services.tx import ConditionsFailed, atomically

    moves.grant(CLIENT, 50, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.grant(OTHER, 10, source="purchase", entry_id="purchase:cs_2", ref="cs_2")

    with pytest.raises(ConditionsFailed) as failed:  # the caller's condition and OTHER's balance both fail
        atomically(lambda tx: _two_holds_and_a_rename(tx, only_if_role="admin"))
    assert failed.value.labels == {"caller", f"ledger:user:{OTHER}"}
    assert ledger.short_of_credits(failed.value, OTHER) and not ledger.short_of_credits(failed.value, CLIENT)
    assert not ledger.already_applied(failed.value)

    moves.grant(OTHER, 10, source="promotion", entry_id="promotion:p1")
    with pytest.raises(ConditionsFailed) as caller_only:
        atomically(lambda tx: _two_holds_and_a_rename(tx, only_if_role="admin"))
    assert caller_only.value.labels == {"caller"}

    assert (balances(CLIENT), balances(OTHER), display_name(READER)) == ((50, 0, 0, 0), (20, 0, 0, 0), None)
    assert not list(LedgerEntry.query("hold:rd_1")) and not list(LedgerEntry.query("hold:rd_2"))
    assert ledger_check.run().ok


def test_a_replayed_unit_of_work_is_reported_as_applied_before(people):
    from chalicelib.services import ledger

    moves.grant(CLIENT, 50, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.grant(OTHER, 50, source="purchase", entry_id="purchase:cs_2", ref="cs_2")

    assert ledger.apply(lambda tx: _two_holds_and_a_rename(tx, only_if_role="reader")) is True
    assert ledger.apply(lambda tx: _two_holds_and_a_rename(tx, only_if_role="reader")) is False
    assert (balances(CLIENT), balances(OTHER)) == ((20, 30, 0, 0), (30, 20, 0, 0))
