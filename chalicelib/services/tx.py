"""One unit of work: a DynamoDB transaction that every service writes into.

A use case opens one ``Transaction``; every service it calls adds its writes and
conditions to it, each with a label (the ledger adds ``ledger:entry``,
``ledger:user:<id>``...; the readings service ``reading``, ``slot``...). One ``commit``
applies all of it or raises one typed error:

- ``ConditionsFailed``: DynamoDB cancelled the transaction because conditions failed;
  ``labels`` names them (``"?"`` for an unlabelled operation). Nothing was written.
- ``Contention``: DynamoDB cancelled it for concurrent transactions on the same items,
  still after ``atomically``'s bounded retries; a 503 the caller may retry.

DynamoDB reports one reason per operation in the order PynamoDB sends them (condition
checks, deletes, puts, updates), so labels are kept per kind, never read by position in
the caller.

``atomically(work)`` is the one optimistic-retry helper: it builds a fresh transaction,
lets ``work(tx)`` read what it needs and add its writes, commits, and on a transaction
conflict (or a failed condition the caller names in ``retry_on``: a balance read a moment
ago that moved) does it all again, a bounded number of times with jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.errors import DependencyUnavailable
from chalicelib.models.base import connection

T = TypeVar("T")
MAX_ATTEMPTS = 4
MAX_OPERATIONS = 100  # DynamoDB's limit per TransactWriteItems


class ConditionsFailed(Exception):
    """The transaction was cancelled because these labelled conditions failed."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.labels = frozenset(labels)
        super().__init__("conditions failed: " + ", ".join(sorted(self.labels)))

    def __contains__(self, label: object) -> bool:
        return label in self.labels

    def any_startswith(self, prefix: str) -> bool:
        return any(label.startswith(prefix) for label in self.labels)


class Contention(DependencyUnavailable):
    """Still contended after the bounded retries: a clear, retryable 503."""

    def __init__(self, message: str = "This is busy right now. Try again in a moment.", *,
                 code: str = "busy") -> None:
        super().__init__(message, code=code)


class TransactionConflict(Exception):
    """DynamoDB cancelled the transaction for a concurrent one (no condition failed)."""


class Transaction(TransactWrite):
    """A TransactWrite whose operations carry labels and whose commit raises typed errors.

    Use ``commit()`` (or ``atomically``); never ``with tx: pass``.
    """

    def __init__(self) -> None:
        super().__init__(connection=connection())
        self._checks: list[str | None] = []
        self._deletes: list[str | None] = []
        self._puts: list[str | None] = []
        self._updates: list[str | None] = []
        self._committed = False

    def condition_check(self, model_cls: Any, hash_key: Any, range_key: Any = None,
                        condition: Condition | None = None, *, label: str | None = None) -> None:
        self._checks.append(label)
        super().condition_check(model_cls, hash_key, range_key, condition)

    def delete(self, model: Any, condition: Condition | None = None, *, add_version_condition: bool = True,
               label: str | None = None) -> None:
        self._deletes.append(label)
        super().delete(model, condition, add_version_condition=add_version_condition)

    def save(self, model: Any, condition: Condition | None = None, return_values: str | None = None, *,
             label: str | None = None) -> None:
        self._puts.append(label)
        super().save(model, condition, return_values)

    def update(self, model: Model, actions: Any, condition: Condition | None = None,
               return_values: str | None = None, *, add_version_condition: bool = True,
               label: str | None = None) -> None:
        self._updates.append(label)
        # A copy: PynamoDB appends the version increment to the list it is given, and a
        # caller's list reused on the next attempt of ``atomically`` would carry it twice.
        super().update(model, list(actions), condition, return_values, add_version_condition=add_version_condition)

    def __enter__(self) -> Transaction:
        raise TypeError("commit a Transaction with commit() or atomically(), not a with-block")

    @property
    def size(self) -> int:
        return len(self._checks) + len(self._deletes) + len(self._puts) + len(self._updates)

    def commit(self) -> None:
        """Apply every operation or none. An empty transaction is a no-op.

        Raises ``ConditionsFailed`` (labels of the failed conditions) or
        ``TransactionConflict`` (a concurrent transaction; ``atomically`` retries it).
        Any other DynamoDB error propagates (a bug or an outage: a 500/503 upstream).
        """
        if self._committed:
            raise RuntimeError("a transaction commits once")
        self._committed = True
        if not self.size:
            return
        if self.size > MAX_OPERATIONS:
            raise ValueError(f"a transaction holds at most {MAX_OPERATIONS} operations, got {self.size}")
        try:
            self._commit()
        except TransactWriteError as exc:
            failed = self._failed(exc)
            if failed:
                raise ConditionsFailed(failed) from exc
            if self._conflicted(exc):
                raise TransactionConflict(str(exc)) from exc
            raise

    def _failed(self, exc: TransactWriteError) -> set[str]:
        order = [*self._checks, *self._deletes, *self._puts, *self._updates]
        failed: set[str] = set()
        for index, reason in enumerate(exc.cancellation_reasons or []):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                failed.add((order[index] if index < len(order) else None) or "?")
        return failed

    @staticmethod
    def _conflicted(exc: TransactWriteError) -> bool:
        return any(reason is not None and reason.code == "TransactionConflict"
                   for reason in exc.cancellation_reasons or [])


def backoff(attempt: int) -> None:
    """Jittered exponential pause between optimistic attempts (10-50 ms, doubling)."""
    time.sleep(random.uniform(0.01, 0.05) * (2 ** attempt))  # noqa: S311 - jitter, not crypto


def atomically(work: Callable[[Transaction], T], *, retry_on: Callable[[ConditionsFailed], bool] | None = None,
               attempts: int = MAX_ATTEMPTS, busy: str = "This is busy right now. Try again in a moment.",
               busy_code: str = "busy") -> T:
    """Run ``work(tx)`` on a fresh transaction and commit it, retrying optimistic failures.

    ``work`` may read (consistently) and add writes; it runs again from scratch on each
    attempt, so it must not have side effects outside ``tx``. A transaction conflict is
    always retried; a ``ConditionsFailed`` only when ``retry_on(exc)`` says so (state read
    in this attempt changed before the commit). After ``attempts`` the last conflict
    becomes ``Contention`` (503, ``busy_code``); a retried condition failure re-raises as
    it is. Returns what ``work`` returned.
    """
    for attempt in range(attempts):
        tx = Transaction()
        result = work(tx)
        try:
            tx.commit()
            return result
        except TransactionConflict as exc:
            if attempt == attempts - 1:
                raise Contention(busy, code=busy_code) from exc
        except ConditionsFailed as exc:
            if retry_on is None or not retry_on(exc) or attempt == attempts - 1:
                raise
        backoff(attempt)
    raise AssertionError("unreachable")
