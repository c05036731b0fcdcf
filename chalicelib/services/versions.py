"""Optimistic locking on a plain number attribute (the product's ``BaseModel.version``).

PynamoDB's ``VersionAttribute`` conditions *every* write of an item on the version read. That
suits items one writer edits (the catalog); it does not suit a status, which readers append
suggestions to concurrently, nor a reader profile, whose heartbeats and rating updates would
then make every edit retry. Those items keep a plain ``version`` number instead: the writes
that change what it stands for raise it (``bump``: an update action, never a condition, so
writers that only raise it never conflict with each other), and an edit that must apply to
the version its caller read conditions on it (``matches``).

An item written before it had a version counts as version 1, the version of a new item.
"""

from __future__ import annotations

from typing import Any

from chalicelib.errors import Conflict

FIRST = 1


def of(stored: Any) -> int:
    """The version of an item whose attribute holds ``stored`` (absent: ``FIRST``)."""
    return int(stored or FIRST)


def bump(attribute: Any) -> Any:
    """The update action raising ``attribute`` by one (from ``FIRST`` when it is absent)."""
    return attribute.set((attribute | FIRST) + 1)


def matches(attribute: Any, version: int) -> Any:
    """The condition that the stored version is ``version``."""
    condition = attribute == version
    return condition | attribute.does_not_exist() if version == FIRST else condition


def mismatch(noun: str, current: int, expected: int | None = None) -> Conflict:
    """409 ``version_mismatch``: the caller's ``If-Match`` names another version (``expected``),
    or, without one, another write landed between the read and the write."""
    if expected is not None:
        message = f"This {noun} is at version {current}, not {expected}: read it again before changing it."
    else:
        message = (
            f"This {noun} changed while you edited it (it is now at version {current}): read it again "
            "before changing it."
        )
    return Conflict(message, code="version_mismatch", details={"currentVersion": current})
