"""The daily ledger check: it passes on a ledger moved only by the ledger service, and when a
balance, an entry or a platform account was changed behind the ledger's back it logs an ERROR
naming the account with its balance against its postings, and fails the invocation (which
the ledger-check-failed alarm reports)."""

from __future__ import annotations

import socket
import sys
from typing import Any

import pytest
from chalice.test import Client

CLIENT, READER = "user_client", "user_reader"


@pytest.fixture()
def moved(make_user):
    """A client who bought 100 credits and booked two readings (one refunded after payout),
    then had a purchase reversed; a reader who was paid."""
    from chalicelib.services import ledger
    from tests.support import ledger as moves

    make_user(CLIENT)
    make_user(READER, role="reader")
    moves.grant(CLIENT, 100, source="purchase", entry_id="purchase:cs_1", ref="cs_1")
    moves.grant(CLIENT, 10, source="promotion", entry_id="promotion:welcome")
    for reading, amount in (("rd_1", 50), ("rd_2", 30)):
        moves.hold(CLIENT, amount, entry_id=f"hold:{reading}", ref=reading)
        moves.capture(CLIENT, amount, entry_id=f"capture:{reading}", ref=reading)
        moves.pay_reader(READER, amount, entry_id=f"payout:{reading}", ref=reading)
    moves.refund(CLIENT, 30, entry_id="refund:rd_2", ref="rd_2", reader_id=READER, reader_share=24, fee_share=6)
    moves.grant(CLIENT, 20, source="purchase", entry_id="purchase:cs_2", ref="cs_2")
    moves.reverse(CLIENT, 20, entry_id="reversal:cs_2", ref="cs_2")
    return ledger.balance_of(_user(CLIENT))


def _user(user_id: str) -> Any:
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True)


@pytest.fixture()
def logged(monkeypatch):
    """What the job logs, by level."""
    from chalicelib.jobs import ledger as ledger_job

    lines: dict[str, list[tuple[str, dict]]] = {"info": [], "error": []}
    for level in lines:
        monkeypatch.setattr(ledger_job.logger, level,
                            lambda message, extra=None, _level=level: lines[_level].append((message, extra)))
    return lines


def _run_job(chalice_app) -> dict:
    with Client(chalice_app) as client:
        response = client.lambda_.invoke("ledger_check", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    return response.payload


def _failing_job(chalice_app, logged) -> dict:
    """Run the job expecting it to fail; returns the summary of its ERROR line."""
    from chalicelib.jobs.ledger import LedgerOutOfBalance

    with pytest.raises(LedgerOutOfBalance):
        _run_job(chalice_app)
    assert logged["info"] == []
    assert [message for message, _ in logged["error"]] == ["ledger check found differences"]
    return logged["error"][0][1]


def test_the_scheduled_check_passes_after_real_movements(moved, chalice_app, logged):
    assert (moved.available, moved.held, moved.owed) == (60, 0, 0)  # 110 in, 80 spent, 30 refunded
    assert _user(READER).credits_earnings == 40  # 80% of 50 (the refunded reading's share went back)

    summary = _run_job(chalice_app)
    assert summary["ok"] is True
    assert summary["entries"] == 11
    assert (summary["totalBalance"], summary["differences"], summary["unbalancedEntries"]) == (0, [], [])
    assert [message for message, _ in logged["info"]] == ["ledger check passed"]
    assert logged["error"] == []


def test_a_balance_changed_behind_the_ledger_is_reported_with_its_postings(moved, chalice_app, logged):
    from chalicelib.models.users import User
    from chalicelib.services import ledger_check

    User(user_id=CLIENT).update(actions=[User.credits_available.set(999)])  # a bug writing the balance directly

    summary = _failing_job(chalice_app, logged)
    assert summary["ok"] is False
    assert summary["differences"] == [{"account": f"user:{CLIENT}:available", "balance": 999, "postings": 60}]
    assert summary["totalBalance"] == 999 - 60
    assert summary["unbalancedEntries"] == []

    report = ledger_check.run()
    assert report.lines() == [
        f"ledger check: 11 entries, {report.accounts} accounts, sum of balances 939, sum of postings 0: DIFFERENCES",
        f"  user:{CLIENT}:available: balance 999 != postings 60",
    ]


def test_an_entry_that_does_not_sum_to_zero_is_reported(moved, chalice_app, logged):
    from chalicelib.models.ledger import LedgerEntry
    from chalicelib.services import ledger_check

    entry = LedgerEntry.get("purchase:cs_1", consistent_read=True)
    entry.postings[0].amount = -90  # external:stripe -100 -> -90: the entry no longer balances
    entry.save()

    summary = _failing_job(chalice_app, logged)
    assert summary["unbalancedEntries"] == ["purchase:cs_1"]
    assert summary["differences"] == [{"account": "external:stripe", "balance": -100, "postings": -90}]
    assert "  entry purchase:cs_1 does not sum to zero" in ledger_check.run().lines()


def test_a_platform_account_changed_behind_the_ledger_is_reported(moved, chalice_app, logged):
    from chalicelib.models.ledger import SystemAccount
    from chalicelib.services import ledger

    shard = next(iter(SystemAccount.query("platform:fees", consistent_read=True)))
    shard.update(actions=[SystemAccount.balance.add(5)])

    summary = _failing_job(chalice_app, logged)
    fees = ledger.system_balance("platform:fees")
    assert summary["differences"] == [{"account": "platform:fees", "balance": fees, "postings": fees - 5}]
    assert summary["totalBalance"] == 5


def _alerts() -> list[dict]:
    from chalicelib.models.outbox import OutboxEvent

    return [event.data.as_dict() for event in OutboxEvent.scan(consistent_read=True)
            if event.event_type == "system.alert"]


def test_a_failed_check_alerts_the_admins_once_per_run(moved, chalice_app, logged):
    from chalicelib.models.users import User

    assert _run_job(chalice_app)["ok"] is True
    assert _alerts() == []  # a passing check alerts nobody
    logged["info"].clear()

    User(user_id=CLIENT).update(actions=[User.credits_available.set(999)])
    _failing_job(chalice_app, logged)

    assert _alerts() == [{"kind": "ledger_mismatch", "differences": 1, "unbalancedEntries": 0, "totalBalance": 939,
                          "message": "The ledger check found 1 account whose balance differs from its postings. "
                                     "Investigate before correcting anything."}]
    logged["error"].clear()
    _failing_job(chalice_app, logged)
    assert len(_alerts()) == 2  # one per failed run


def test_a_user_with_no_movements_is_no_difference(moved, make_user, chalice_app):
    make_user("user_new")
    assert _run_job(chalice_app)["ok"] is True


# --- `make ledger-check` (tools.ledger_check) against the current environment ------------

def _tool(monkeypatch, *args: str) -> int:
    from tools import ledger_check as tool

    monkeypatch.setattr(sys, "argv", ["ledger_check", *args])
    return tool.main()


def test_the_tool_prints_the_report_and_exits_non_zero_on_a_difference(moved, monkeypatch, capsys):
    from chalicelib.models.users import User

    assert _tool(monkeypatch, "--aws") == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(": OK")

    User(user_id=READER).update(actions=[User.credits_earnings.add(1)])
    assert _tool(monkeypatch, "--aws") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": DIFFERENCES")
    assert out[1:] == [f"  user:{READER}:earnings: balance 41 != postings 40"]


def test_the_tool_without_a_local_stack_says_how_to_start_one(monkeypatch, capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _tool(monkeypatch, "--aws-port", str(port)) == 2
    assert "make run" in capsys.readouterr().err
