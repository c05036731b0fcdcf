"""A TransactWrite that remembers what each operation was for.

DynamoDB cancels a whole transaction when one condition fails and reports a reason per
operation, in the order PynamoDB sends them (condition checks, deletes, puts, updates).
``Transaction`` labels operations so the caller learns *which* condition failed (the
journal entry already exists, a balance would go negative, the reading moved on...)
without reading anything back.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.models.base import connection


class Transaction(TransactWrite):
    def __init__(self) -> None:
        super().__init__(connection=connection())
        self._checks: list[str | None] = []
        self._deletes: list[str | None] = []
        self._puts: list[str | None] = []
        self._updates: list[str | None] = []

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
        super().update(model, actions, condition, return_values, add_version_condition=add_version_condition)

    @property
    def size(self) -> int:
        return len(self._checks) + len(self._deletes) + len(self._puts) + len(self._updates)

    def failed(self, exc: TransactWriteError) -> set[str]:
        """Labels of the operations whose condition failed ("?" for an unlabelled one)."""
        order = [*self._checks, *self._deletes, *self._puts, *self._updates]
        failed: set[str] = set()
        for index, reason in enumerate(exc.cancellation_reasons or []):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                failed.add((order[index] if index < len(order) else None) or "?")
        return failed

    @staticmethod
    def conflicted(exc: TransactWriteError) -> bool:
        """True when DynamoDB cancelled for a concurrent transaction (worth a retry)."""
        return any(reason is not None and reason.code == "TransactionConflict"
                   for reason in exc.cancellation_reasons or [])
