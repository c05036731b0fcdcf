"""Ledger movements for tests, one unit of work each.

The ledger's operations add a movement to the caller's transaction; a test that only wants
credits moved calls these instead: each commits one movement with ``ledger.apply`` and
returns what it returns (True: applied; False: this entry id was applied before). A failed
condition raises ``ConditionsFailed`` naming it (``ledger:user:<id>`` when a balance would
go below zero); contention after the bounded retries raises ``Contention``.

chalicelib is imported lazily: its settings are read at import, after the test environment
is configured.
"""

from __future__ import annotations


def grant(user_id: str, credits: int, *, source: str, entry_id: str, ref: str | None = None,
          memo: str | None = None, expire: int = 0) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.grant(tx, ledger.read_user(user_id), credits, source=source,
                                                entry_id=entry_id, ref=ref, memo=memo, expire=expire),
                        retry_on=ledger.balance_moved(user_id))


def reverse(user_id: str, credits: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
            counter: str = "external:stripe", kind: str = "reversal") -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.reverse(tx, ledger.read_user(user_id), credits, entry_id=entry_id, ref=ref,
                                                  memo=memo, counter=counter, kind=kind),
                        retry_on=ledger.balance_moved(user_id))


def hold(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.hold(tx, user_id, amount, entry_id=entry_id, ref=ref, memo=memo))


def release(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.release(tx, user_id, amount, entry_id=entry_id, ref=ref, memo=memo))


def capture(user_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.capture(tx, user_id, amount, entry_id=entry_id, ref=ref, memo=memo))


def pay_reader(reader_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
               fee: int | None = None) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.pay_reader(tx, reader_id, amount, entry_id=entry_id, ref=ref, memo=memo,
                                                     fee=fee))


def refund(client_id: str, amount: int, *, entry_id: str, ref: str | None = None, memo: str | None = None,
           reader_id: str | None = None, reader_share: int = 0, fee_share: int = 0) -> bool:
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.refund(tx, client_id, amount, entry_id=entry_id, ref=ref, memo=memo,
                                                 reader_id=reader_id, reader_share=reader_share,
                                                 fee_share=fee_share))
