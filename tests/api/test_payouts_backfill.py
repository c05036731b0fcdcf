"""``python -m tools.backfill maturity``: readings completed before reader payouts shipped get
the maturation row their completion writes since, so their earnings mature after the dispute
window like any other, and a refund of one is taken from pending earnings, not as if the
credits were paid out already. A reading "from before" is a completed one whose row is gone
(as no row was written then)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import payouts as p
from tests.support.calls import dynamodb_calls
from tests.support.readings import MONDAY, make_client, make_reader

READER, CLIENT, ADMIN = "rdr_old", "cli_old", "adm_old"
WINDOW = p.WINDOW


@pytest.fixture()
def world(api, default_catalog, make_user):
    make_client(CLIENT, 3000)
    make_reader(READER)
    make_user(ADMIN, role="admin")
    return api


def _before_payouts(reading_id: str) -> None:
    """The reading as a deployment before payouts left it: no maturation row."""
    from chalicelib.models.payout_records import Maturity

    Maturity(reading_id=reading_id).delete()


def _row(reading_id: str):
    from chalicelib.services.payouts import maturity

    return maturity.pending_row(reading_id)


def _older(at) -> tuple[str, int]:
    """A reading completed at ``at`` before payouts: (its id, the reader's share)."""
    reading = p.complete_reading(CLIENT, READER, at=at)
    _before_payouts(reading.reading_id)
    return reading.reading_id, int(reading.paid_out)


def _backfill() -> tuple[int, int]:
    from tools.backfill import maturity

    return maturity()


def _resolve(reading_id: str, outcome: str, amount: int | None, at) -> None:
    from chalicelib.services import readings

    readings.resolve_dispute(reading_id, ADMIN, outcome=outcome, amount=amount, note="Resolved.", now=at)


def _dispute(reading_id: str, at) -> None:
    from chalicelib.services import readings

    readings.open_dispute(reading_id, CLIENT, "client", reason="It was cut short.", now=at)


def test_older_readings_get_the_row_their_completion_writes_now_once(world):
    from chalicelib.services.payouts import maturity

    # Matured since payouts shipped (row gone, mature: entry): left alone.
    matured = p.complete_reading(CLIENT, READER, at=MONDAY - timedelta(days=21)).reading_id
    assert maturity.mature_reading(matured, now=MONDAY - timedelta(days=6)) is not None
    past, share = _older(MONDAY)  # its window closes before the maturation run below
    recent, _ = _older(MONDAY + timedelta(days=10))  # still inside its window then
    partly = p.complete_reading(CLIENT, READER, at=MONDAY + timedelta(hours=1)).reading_id
    _dispute(partly, MONDAY + timedelta(days=1))
    _resolve(partly, "partial_refund", 20, MONDAY + timedelta(days=2))
    left = int(_row(partly).credits)
    assert 0 < left < share
    _before_payouts(partly)  # partly refunded before payouts: the rest is pending
    fully = p.complete_reading(CLIENT, READER, at=MONDAY + timedelta(hours=2)).reading_id
    _dispute(fully, MONDAY + timedelta(days=1))
    _resolve(fully, "full_refund", None, MONDAY + timedelta(days=2))  # nothing left: no row
    current = p.complete_reading(CLIENT, READER, at=MONDAY + timedelta(hours=3)).reading_id  # has its row
    before = p.accounts(READER)
    assert before["earnings"] == 3 * share + left and before["payable"] == share

    with dynamodb_calls() as calls:
        seen, written = _backfill()

    assert (seen, written) == (6, 3)
    assert sorted(set(calls)) == ["BatchGetItem", "PutItem", "Scan"]  # no read per reading
    assert calls.count("BatchGetItem") == 2  # the page's rows, then its journal entries
    for reading_id, credits, completed in (
        (past, share, MONDAY),
        (recent, share, MONDAY + timedelta(days=10)),
        (partly, left, MONDAY + timedelta(hours=1)),
    ):
        row = _row(reading_id)
        assert row is not None and (row.reader_id, int(row.credits)) == (READER, credits)
        assert row.due_at == maturity.due_at(completed) and row.due_shard == maturity.due_shard(reading_id)
    assert _row(matured) is None and _row(fully) is None and int(_row(current).credits) == share
    assert _backfill() == (6, 0)  # a second run writes nothing
    assert p.accounts(READER) == before  # rows only: the ledger is not touched

    # Past due dates mature at the next hourly run; the recent one when its window closes.
    figures = p.mature(MONDAY + WINDOW + timedelta(days=1))
    assert (figures["matured"], figures["credits"]) == (3, 2 * share + left)  # past, partly, current
    assert p.accounts(READER) == {"available": 0, "earnings": share, "payable": 3 * share + left, "receivable": 0}
    assert p.mature(MONDAY + timedelta(days=10) + WINDOW)["credits"] == share
    assert p.accounts(READER)["earnings"] == 0
    assert _backfill() == (6, 0)  # matured rows are not written again
    p.ledger_ok()


def test_a_refund_of_an_older_reading_after_the_backfill_comes_from_its_pending_earnings(world):
    reading_id, share = _older(MONDAY)
    _dispute(reading_id, MONDAY + timedelta(days=1))  # open while the backfill runs: it gets its row too

    assert _backfill() == (1, 1)
    _resolve(reading_id, "partial_refund", 20, MONDAY + timedelta(days=2))

    after = p.accounts(READER)
    taken = share - after["earnings"]
    assert 0 < taken < 20 and (after["payable"], after["receivable"]) == (0, 0)  # nothing owed: it was never paid out
    assert int(_row(reading_id).credits) == share - taken
    assert p.mature()["credits"] == share - taken
    assert p.accounts(READER) == {"available": 0, "earnings": 0, "payable": share - taken, "receivable": 0}
    p.ledger_ok()


def test_a_rejected_dispute_on_an_older_reading_matures_its_whole_share(world):
    reading_id, share = _older(MONDAY)
    _dispute(reading_id, MONDAY + timedelta(days=13))
    assert _backfill() == (1, 1)

    _resolve(reading_id, "reject", None, p.AFTER_WINDOW)  # the window closed meanwhile: matures at once

    assert p.accounts(READER) == {"available": 0, "earnings": 0, "payable": share, "receivable": 0}
    assert _row(reading_id) is None
    p.ledger_ok()


def test_a_refund_taken_as_owing_before_the_backfill_is_settled_by_the_maturation(world):
    """Between the deployment and the backfill a refund of an older reading found no row and
    was taken as if paid out (owing); the backfill's row matures the whole share, which pays
    the debt down: the reader ends with their share less the refund, owing nothing."""
    reading_id, share = _older(MONDAY)
    _dispute(reading_id, MONDAY + timedelta(days=1))
    _resolve(reading_id, "partial_refund", 20, MONDAY + timedelta(days=2))
    owed = -p.accounts(READER)["receivable"]
    assert 0 < owed < 20 and p.accounts(READER)["earnings"] == share

    assert _backfill() == (1, 1)
    assert int(_row(reading_id).credits) == share  # still all in pending earnings
    p.mature()

    assert p.accounts(READER) == {"available": 0, "earnings": 0, "payable": share - owed, "receivable": 0}
    p.ledger_ok()


def test_the_command_names_the_backfill(aws, capsys):
    from tools.backfill import main

    assert main(["maturity", "--aws-port", "1"]) == 2  # parsed; no local stack on that port
    assert "no local stack" in capsys.readouterr().err
