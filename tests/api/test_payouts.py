"""Reader payouts (issue 18): earnings mature after the dispute window, a payout moves
available earnings out in one ledger movement and makes one transfer, failed or reversed
transfers return the credits once, a refund after payout leaves the reader owing, admins
hold and release payouts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.report import report
from tests.support import payouts as p
from tests.support.readings import MONDAY, make_client, make_reader, outbox_events, race

READER, CLIENT, ADMIN = "rdr_pay", "cli_pay", "adm_pay"


@pytest.fixture()
def world(api, default_catalog, make_user):
    """A client with credits, an approved reader with an enabled payout account and two readings
    completed on MONDAY (their earnings pending until the dispute window closes)."""
    from chalicelib.integrations import payments
    from chalicelib.jobs.events import consumers

    consumers()  # every consumer registered, as the queue's Lambda has them (payout.requested's among them)
    payments.gateway.cache_clear()  # a fresh local gateway: no transfers of other tests
    make_client(CLIENT, 2000)
    make_reader(READER)
    make_user(ADMIN, role="admin")
    p.enable_payouts(READER)
    readings = [p.complete_reading(CLIENT, READER, at=MONDAY + timedelta(hours=n + 1)) for n in range(2)]
    yield {"readings": [r.reading_id for r in readings], "share": int(readings[0].paid_out)}
    payments.gateway.cache_clear()


def _pay(api, body=None, **kwargs):
    return api.post("/reader/payouts", as_user=READER, json_body=body or {}, **kwargs)


def _payout(payout_id):
    from chalicelib.models.payout_records import Payout

    return Payout.get(payout_id, consistent_read=True)


def _error(response):
    return response.status_code, (response.json or {}).get("error", {}).get("code")


# --- maturation ----------------------------------------------------------------------------------


def test_earnings_inside_the_dispute_window_are_never_paid(api, world):
    share = world["share"]
    assert p.accounts(READER)["earnings"] == 2 * share

    assert p.mature(MONDAY + timedelta(days=13, hours=23))["matured"] == 0
    assert _error(_pay(api)) == (422, "below_payout_minimum")
    assert _error(_pay(api, {"credits": 50})) == (422, "insufficient_credits")
    assert p.accounts(READER) == {"available": 0, "earnings": 2 * share, "payable": 0, "receivable": 0}

    figures = p.mature()
    assert (figures["matured"], figures["credits"]) == (2, 2 * share)
    assert p.accounts(READER) == {"available": 0, "earnings": 0, "payable": 2 * share, "receivable": 0}
    assert p.mature()["matured"] == 0  # matured once
    p.ledger_ok()


def test_an_open_dispute_holds_the_earnings_back_until_it_is_resolved(api, world):
    from chalicelib.services import readings

    share = world["share"]
    first, second = world["readings"]
    readings.open_dispute(first, CLIENT, "client", reason="It was cut short.", now=MONDAY + timedelta(days=13))

    figures = p.mature()
    assert (figures["matured"], figures["waiting"]) == (1, 1)
    assert p.accounts(READER)["payable"] == share

    # Resolved after the window closed: what the refund left matures at once.
    readings.resolve_dispute(
        first,
        ADMIN,
        outcome="partial_refund",
        amount=20,
        note="Half an answer.",
        now=p.AFTER_WINDOW + timedelta(hours=1),
    )
    after = p.accounts(READER)
    taken = 2 * share - after["payable"]
    assert after["earnings"] == 0 and 0 < taken < 20  # the reader's share of the refund; the fee the rest
    assert p.mature(p.AFTER_WINDOW + timedelta(days=1))["rows"] == 0
    p.ledger_ok()
    assert second


def test_a_refund_before_maturation_comes_from_pending_earnings(api, world):
    from chalicelib.services import readings

    share = world["share"]
    first, _ = world["readings"]
    readings.open_dispute(first, CLIENT, "client", reason="Wrong topic.", now=MONDAY + timedelta(days=1))
    readings.resolve_dispute(
        first, ADMIN, outcome="full_refund", amount=None, note="Refunded.", now=MONDAY + timedelta(days=2)
    )

    assert p.accounts(READER) == {"available": 0, "earnings": share, "payable": 0, "receivable": 0}
    assert p.mature()["matured"] == 1  # only the other reading is left to mature
    assert p.accounts(READER)["payable"] == share
    p.ledger_ok()


# --- payouts ---------------------------------------------------------------------------------------


def test_a_payout_moves_the_available_earnings_out_and_transfers_them_once(api, world, drain):
    share = world["share"]
    p.mature()

    response = _pay(api)

    assert response.status_code == 201, response.json
    payout = response.json
    assert (payout["credits"], payout["status"], payout["amount"]) == (2 * share, "pending", 2 * share * 20)
    assert "amountMinor" not in payout and payout["sentAt"] is None
    assert p.accounts(READER)["payable"] == 0
    drain()
    [transfer] = p.transfers_of({payout["id"]})
    assert (transfer["amount"], transfer["destination"]) == (2 * share * 20, f"acct_local_{READER}")
    listed = api.get("/reader/payouts", as_user=READER).json["data"]
    assert [(x["id"], x["status"], x["transferId"]) for x in listed] == [(payout["id"], "paid", transfer["id"])]
    states = api.get("/reader/earnings", as_user=READER).json["payouts"]
    assert (states["inDisputeWindow"], states["available"], states["sentToBank"], states["sentToBankAmount"]) == (
        0,
        0,
        2 * share,
        2 * share * 20,
    )
    assert (states["minimum"], states["minimumAmount"]) == (50, 50 * 20)
    assert not {"pending", "pendingAmount", "paidOut", "paidOutAmount"} & set(states)
    assert listed[0]["sentAt"] is not None
    [note] = [n for n in api.get("/notifications", as_user=READER).json["data"] if n["type"] == "payout_sent"]
    assert note["message"].startswith(f"We sent ${2 * share * 20 / 100:.2f} ({2 * share} credits)")
    assert [e["payoutId"] for e in outbox_events("payout.sent")] == [payout["id"]]

    from chalicelib.services.payouts import transfers

    transfers.send_transfer(payout["id"])  # a redelivered payout.requested
    assert len(p.transfers_of({payout["id"]})) == 1 and len(outbox_events("payout.sent")) == 1
    p.ledger_ok()


def test_payouts_never_exceed_the_available_earnings(api, world):
    share = world["share"]
    p.mature()

    assert _error(_pay(api, {"credits": 2 * share + 1})) == (422, "insufficient_credits")
    assert _error(_pay(api, {"credits": 0})) == (400, "validation_error")
    assert p.accounts(READER)["payable"] == 2 * share
    assert _pay(api, {"credits": 60}).status_code == 201
    assert p.accounts(READER)["payable"] == 2 * share - 60
    p.ledger_ok()


def test_a_retried_request_with_the_same_idempotency_key_returns_the_first_payout(api, world):
    p.mature()
    first = _pay(api, {"credits": 60}, headers={"Idempotency-Key": "k-1"})
    again = _pay(api, {"credits": 60}, headers={"Idempotency-Key": "k-1"})
    other = _pay(api, {"credits": 61}, headers={"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert _error(other) == (409, "idempotency_key_reused")
    assert p.accounts(READER)["payable"] == 2 * world["share"] - 60


def test_a_reader_without_an_enabled_payout_account_is_refused(api, world):
    from chalicelib.models.payouts import PayoutAccountItem

    p.mature()
    PayoutAccountItem(reader_id=READER).delete()
    assert _error(_pay(api)) == (422, "payout_account_not_ready")
    assert _error(api.post("/reader/payouts", as_user=CLIENT, json_body={})) == (403, "forbidden_role")


@pytest.mark.usefixtures("atomic_dynamodb")
def test_twenty_concurrent_payout_requests_make_one_payout_and_one_transfer(api, world, drain):
    from chalicelib.models.payout_records import Payout, PayoutReader
    from chalicelib.services.payouts import requesting

    p.mature()
    assert PayoutReader.count() == 0 and Payout.count() == 0  # clients made before the threads start
    outcomes = race([lambda: requesting.request_payout(READER, credits=50) for _ in range(20)])

    made = [o for o in outcomes if not isinstance(o, Exception)]
    refused = sorted({getattr(o, "code", repr(o)) for o in outcomes if isinstance(o, Exception)})
    assert len(made) == 1, outcomes
    assert set(refused) <= {"payout_in_progress", "insufficient_credits", "payouts_busy", "payouts_changed"}, refused
    drain()
    assert len(p.transfers_of()) == 1
    assert p.accounts(READER)["payable"] == 2 * world["share"] - 50
    p.ledger_ok()
    report(f"payouts: 20 concurrent requests -> 1 payout, 1 transfer; refused: {refused}")


# --- failures and reversals --------------------------------------------------------------------


def _paid(api, drain, credits=60):
    p.mature()
    payout = _pay(api, {"credits": credits}).json
    drain()
    [transfer] = p.transfers_of({payout["id"]})
    return payout, transfer


def test_a_reversed_transfer_restores_the_credits_once_and_a_replayed_webhook_changes_nothing(api, world, drain):
    from chalicelib.config import get_settings
    from chalicelib.integrations import stripe_signature
    from chalicelib.models.base import utcnow

    share = world["share"]
    payout, transfer = _paid(api, drain)
    assert p.accounts(READER)["payable"] == 2 * share - 60

    reversed_ = api.post(f"/local/transfers/{transfer['id']}", json_body={"action": "reverse"})
    assert reversed_.status_code == 200, reversed_.json
    drain()
    assert _payout(payout["id"]).status == "reversed"
    assert p.accounts(READER)["payable"] == 2 * share

    # The same event again (Stripe's retry) and another event about the same reversal.
    event = p.gateway().transfers[transfer["id"]]
    body_event = {
        "id": "evt_local_replayed",
        "object": "event",
        "type": "transfer.reversed",
        "created": 1,
        "data": {"object": event},
    }
    import json

    body = json.dumps(body_event).encode()
    now = utcnow()
    header = stripe_signature.header(get_settings().stripe_webhook_secret, int(now.timestamp()), body)
    for _ in range(2):
        assert (
            api.post(
                "/webhooks/stripe", body=body, headers={"Stripe-Signature": header, "Content-Type": "application/json"}
            ).status_code
            == 200
        )
    drain()
    assert p.accounts(READER)["payable"] == 2 * share
    assert _error(api.post(f"/local/transfers/{transfer['id']}", json_body={"action": "reverse"})) == (
        409,
        "transfer_reversed",
    )
    notes = api.get("/notifications", as_user=READER).json["data"]
    assert [n["type"] for n in notes].count("payout_failed") == 1
    p.ledger_ok()


def test_a_payout_the_bank_refuses_is_reversed_and_returned(api, world, drain):
    payout, transfer = _paid(api, drain)

    response = api.post(f"/local/transfers/{transfer['id']}", json_body={"action": "fail_payout"})
    assert response.status_code == 200, response.json
    drain()

    stored = _payout(payout["id"])
    assert stored.status == "failed" and "closed" in (stored.failure_reason or "")
    # When the transfer was sent stays (sentAt, never "paid"), beside when it came back.
    [listed] = api.get("/reader/payouts", as_user=READER).json["data"]
    assert (listed["status"], listed["sentAt"] is not None, listed["returnedAt"] is not None) == ("failed", True, True)
    assert "paidAt" not in listed
    assert p.gateway().transfers[transfer["id"]]["reversed"] is True  # the money came back to the platform
    assert p.accounts(READER)["payable"] == 2 * world["share"]
    p.ledger_ok()


def test_a_transfer_stripe_refuses_fails_the_payout_and_frees_the_reader(api, world, drain):
    p.gateway().refused_destinations.add(f"acct_local_{READER}")
    p.mature()
    payout = _pay(api, {"credits": 60}).json
    drain()

    assert _payout(payout["id"]).status == "failed"
    assert p.accounts(READER)["payable"] == 2 * world["share"]
    p.gateway().refused_destinations.clear()
    assert _pay(api, {"credits": 60}).status_code == 201  # the lock was released with it
    p.ledger_ok()


# --- refunds after payout ----------------------------------------------------------------------


def test_a_refund_after_payout_leaves_the_reader_owing_and_their_next_earnings_settle_it(api, world, drain):
    from chalicelib.services import readings

    share = world["share"]
    _, second = world["readings"]
    # The second reading's window closes at this instant: the job matures it, and its client may
    # still dispute it (the window includes its last moment); the reader is paid in between.
    closing = MONDAY + timedelta(hours=2) + p.WINDOW
    p.mature(closing)
    payout = _pay(api, {"credits": 2 * share}).json
    drain()
    assert _payout(payout["id"]).status == "paid"
    readings.open_dispute(second, CLIENT, "client", reason="Never happened.", now=closing)
    readings.resolve_dispute(
        second, ADMIN, outcome="full_refund", amount=None, note="Refunded.", now=closing + timedelta(days=2)
    )

    owed = -p.accounts(READER)["receivable"]
    assert owed == share and p.accounts(READER)["payable"] == 0
    assert _error(_pay(api)) in {(422, "payouts_restricted"), (422, "below_payout_minimum")}
    earnings = api.get("/reader/earnings", as_user=READER).json
    assert earnings["payouts"]["owed"] == share
    assert earnings["data"][0]["kind"] == "refund" and earnings["data"][0]["credits"] == -share

    p.complete_reading(CLIENT, READER, at=p.AFTER_WINDOW)
    p.mature(p.AFTER_WINDOW + timedelta(days=15))
    assert p.accounts(READER)["receivable"] == 0
    assert p.accounts(READER)["payable"] == max(0, share - owed)
    p.ledger_ok()


# --- admin -------------------------------------------------------------------------------------


def test_an_admin_holds_and_releases_a_readers_payouts(api, world):
    p.mature()
    held = api.post(f"/admin/readers/{READER}/payouts/hold", as_user=ADMIN, json_body={"reason": "Chargebacks."})
    assert held.status_code == 200 and held.json["held"] is True
    assert _error(
        api.post(f"/admin/readers/{READER}/payouts/hold", as_user=ADMIN, json_body={"reason": "Held again, twice."})
    ) == (409, "payouts_already_held")
    assert _error(_pay(api)) == (422, "payouts_on_hold")
    assert api.get("/reader/earnings", as_user=READER).json["payouts"]["onHold"] is True
    assert _error(
        api.post(f"/admin/readers/{CLIENT}/payouts/hold", as_user=ADMIN, json_body={"reason": "Not a reader."})
    ) == (404, "not_found")

    released = api.post(
        f"/admin/readers/{READER}/payouts/release", as_user=ADMIN, json_body={"reason": "The review is finished."}
    )
    assert released.status_code == 200 and released.json["held"] is False
    made = _pay(api)
    assert made.status_code == 201
    listed = api.get("/admin/payouts?status=pending", as_user=ADMIN).json["data"]
    assert [x["id"] for x in listed] == [made.json["id"]]
    assert api.get("/admin/payouts?status=paid", as_user=ADMIN).json["data"] == []
    assert _error(api.get("/admin/payouts?status=lost", as_user=ADMIN))[0] == 400


def test_the_weekly_run_pays_every_due_reader_once_and_never_a_held_or_suspended_one(api, world, drain):
    from chalicelib.models.users import User
    from chalicelib.services.payouts import holds, scheduled

    share = world["share"]
    for reader in ("rdr_held", "rdr_susp", "rdr_low"):
        make_reader(reader)
        p.enable_payouts(reader)
    for reader in ("rdr_held", "rdr_susp"):
        for n in range(2):
            p.complete_reading(CLIENT, reader, at=MONDAY + timedelta(hours=n + 1))
    p.complete_reading(CLIENT, "rdr_low", at=MONDAY + timedelta(hours=3))
    p.mature()
    holds.hold("rdr_held", admin_id=ADMIN, reason="Review.")
    User.get("rdr_susp").update(actions=[User.status.set("suspended")])
    monday = p.AFTER_WINDOW + timedelta(days=(7 - p.AFTER_WINDOW.weekday()) % 7)

    assert scheduled.pay_due(now=monday - timedelta(days=1))["due"] is False  # Sunday: not the payout day
    run = scheduled.pay_due(now=monday)
    again = scheduled.pay_due(now=monday)

    assert (run["paid"], run["credits"], run["skipped"]) == (1, 2 * share, 3), run
    assert (again["paid"], again["skipped"]) == (0, 4)
    drain()
    assert [t["destination"] for t in p.transfers_of()] == [f"acct_local_{READER}"]
    assert {r: p.accounts(r)["payable"] for r in ("rdr_held", "rdr_susp")} == {
        "rdr_held": 2 * share,
        "rdr_susp": 2 * share,
    }
    p.ledger_ok()


# --- the earnings page's payouts block, admin views (tryout fixes) -----------------------------


def test_the_payouts_block_adds_up_while_a_payout_commits_during_the_read(api, world):
    """A payout that commits in the middle of GET /reader/earnings: the block reads the user
    item and the payout state in one snapshot, so its credits show once (available before, or
    sent to the bank after), never in both."""
    from chalicelib.models.base import connection
    from chalicelib.models.payout_records import PayoutReader
    from chalicelib.models.users import User
    from chalicelib.services.payouts import requesting

    share = world["share"]
    p.mature()
    paid: list[str] = []
    started: list[bool] = []

    def pay_before_the_payout_state_is_read(model=None, params=None, **_):
        gets = ("GetItem", "BatchGetItem", "TransactGetItems")
        if started or model.name not in gets or "payout-readers" not in repr(params):
            return None
        started.append(True)  # the payout's own reads pass
        paid.append(requesting.request_payout(READER, credits=50).payout.payout_id)
        return None

    clients = {
        id(c): c
        for c in (
            User._get_connection().connection.client,
            PayoutReader._get_connection().connection.client,
            connection().client,
        )
    }
    for client in clients.values():
        client.meta.events.register("before-call", pay_before_the_payout_state_is_read)
    try:
        earnings = api.get("/reader/earnings", as_user=READER).json
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call", pay_before_the_payout_state_is_read)

    block = earnings["payouts"]
    assert paid and block["payoutInProgress"] == paid[0]
    assert (block["available"], block["sentToBank"]) == (2 * share - 50, 50)
    assert block["available"] + block["sentToBank"] + block["inDisputeWindow"] == 2 * share
    assert earnings["balance"] == block["inDisputeWindow"]


def test_hold_and_release_need_a_reason_and_tell_the_reader(api, world, drain):
    hold, release = (f"/admin/readers/{READER}/payouts/{action}" for action in ("hold", "release"))

    assert _error(api.post(hold, as_user=ADMIN, json_body={"reason": "  Risk.  "})) == (400, "validation_error")
    assert _error(api.post(hold, as_user=ADMIN, json_body={})) == (400, "validation_error")
    assert api.post(hold, as_user=ADMIN, json_body={"reason": "Chargebacks under review."}).status_code == 200
    assert _error(api.post(release, as_user=ADMIN, json_body={})) == (400, "validation_error")
    assert _error(api.post(release, as_user=ADMIN, json_body={"note": "Review finished."})) == (400, "validation_error")
    assert _error(api.post(release, as_user=ADMIN, json_body={"reason": "Done."})) == (400, "validation_error")
    assert api.post(release, as_user=ADMIN, json_body={"reason": "The review is finished."}).status_code == 200
    drain()

    notes = api.get("/notifications", as_user=READER).json["data"]
    assert [n["type"] for n in notes if n["type"].startswith("payouts_")] == ["payouts_released", "payouts_held"]
    held_note = next(n for n in notes if n["type"] == "payouts_held")
    assert "on hold" in held_note["message"] and "Chargebacks" not in held_note["message"]  # the reason stays internal
    from chalicelib.models.audit import AuditRecord
    from chalicelib.models.base import plain

    reasons = {e.action: plain(e.after).get("reason") for e in AuditRecord.scan() if e.action.startswith("payouts.")}
    assert reasons == {"payouts.hold": "Chargebacks under review.", "payouts.release": "The review is finished."}


def test_an_admin_lists_every_payout_newest_first_with_the_readers_name_in_one_batch_read(api, world, drain):
    from tests.support.calls import dynamodb_calls

    p.mature()
    p.gateway().refused_destinations.add(f"acct_local_{READER}")
    failed = _pay(api, {"credits": 50}).json
    drain()
    p.gateway().refused_destinations.clear()
    pending = _pay(api, {"credits": 50}).json

    with dynamodb_calls() as calls:
        every = api.get("/admin/payouts?status=all", as_user=ADMIN).json["data"]
    default = api.get("/admin/payouts", as_user=ADMIN).json["data"]
    only_failed = api.get("/admin/payouts?status=failed", as_user=ADMIN).json["data"]

    assert [(x["id"], x["status"]) for x in every] == [(pending["id"], "pending"), (failed["id"], "failed")]
    assert {x["readerName"] for x in every} == {f"{READER.title()} Reader"}
    assert default == every and [x["id"] for x in only_failed] == [failed["id"]]
    assert calls.count("BatchGetItem") == 1 and "Scan" not in calls and calls.count("Query") == 1, calls


def test_an_admin_sees_a_readers_hold_and_payout_figures(api, world):
    share = world["share"]
    p.mature()
    assert _pay(api, {"credits": 50}).status_code == 201
    api.post(f"/admin/readers/{READER}/payouts/hold", as_user=ADMIN, json_body={"reason": "Chargebacks under review."})

    seen = api.get(f"/admin/readers/{READER}/payouts", as_user=ADMIN)

    assert seen.status_code == 200, seen.json
    body = seen.json
    assert (body["onHold"], body["reason"], body["heldBy"], body["heldAt"] is not None) == (
        True,
        "Chargebacks under review.",
        ADMIN,
        True,
    )
    assert (body["available"], body["availableAmount"], body["sentToBank"], body["sentToBankAmount"]) == (
        2 * share - 50,
        (2 * share - 50) * 20,
        50,
        50 * 20,
    )
    assert body["currency"] == "usd" and body["payoutInProgress"] is not None
    assert _error(api.get(f"/admin/readers/{CLIENT}/payouts", as_user=ADMIN)) == (404, "not_found")
    assert api.get(f"/admin/readers/{READER}/payouts", as_user=READER).status_code == 403
