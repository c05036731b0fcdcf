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


# --- readers' payouts (issue 18) ------------------------------------------------------------

def mature(reader_id: str, credits: int, *, entry_id: str, ref: str | None = None) -> bool:
    """A reading's earnings leave the dispute window (earnings -> payable, a debt paid down first)."""
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.mature(tx, ledger.read_user(reader_id), credits, entry_id=entry_id,
                                                 ref=ref),
                        retry_on=ledger.balance_moved(reader_id))


def payout(reader_id: str, credits: int, *, payout_id: str) -> bool:
    """Payable credits out to the reader's bank (``payout:<payout_id>``)."""
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.payout(tx, reader_id, credits, payout_id=payout_id))


def payout_return(reader_id: str, credits: int, *, payout_id: str) -> bool:
    """A failed or reversed payout's credits back (``payout-return:<payout_id>``), once."""
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.payout_return(tx, ledger.read_user(reader_id), credits,
                                                        payout_id=payout_id),
                        retry_on=ledger.balance_moved(reader_id))


def refund_matured(client_id: str, amount: int, *, reader_id: str, reader_share: int, fee_share: int,
                   entry_id: str, ref: str | None = None) -> bool:
    """A refund after the reading's earnings matured: from payable, the rest owed by the reader."""
    from chalicelib.services import ledger

    return ledger.apply(lambda tx: ledger.refund_matured(tx, client_id, amount, reader=ledger.read_user(reader_id),
                                                         reader_share=reader_share, fee_share=fee_share,
                                                         entry_id=entry_id, ref=ref),
                        retry_on=ledger.balance_moved(reader_id))
