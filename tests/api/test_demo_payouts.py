"""The demo on `make run` shows readers' earnings in every state (tools/seed_payouts.py):
pending inside the dispute window, available, paid out, a reversed payout and a reader who
owes after a refund that came after her payout; and the books still balance."""

from __future__ import annotations


def test_demo_readers_have_earnings_in_every_state(api, issuer, drain):
    from chalicelib.integrations import payments
    from chalicelib.jobs.events import consumers
    from chalicelib.models.base import utcnow
    from tests.support import payouts as p
    from tools.seed import seed_demo, user_id
    from tools.seed_history import AT_START, seed_history
    from tools.seed_payouts import seed_payouts

    consumers()
    payments.gateway.cache_clear()
    try:
        seed_demo(issuer)
        seed_history(utcnow(), AT_START)
        seed_payouts(utcnow())
        drain()  # the worker's turn: the reversal's webhook event, the notifications

        rowan, mira, luna = user_id("reader10"), user_id("reader5"), user_id("reader1")
        states = api.get("/reader/earnings", as_user=rowan).json["payouts"]
        assert states["inDisputeWindow"] > 0 and states["available"] > 0 and states["sentToBank"] > 0, states
        # Every status in the admin's default list (one Query of byCreated), with the readers' names.
        admin = user_id("admin")
        every = api.get("/admin/payouts?limit=100", as_user=admin).json["data"]
        assert {"paid", "reversed"} <= {x["status"] for x in every} and all(x["readerName"] for x in every), every
        listed = api.get("/reader/payouts", as_user=rowan).json["data"]
        assert sorted(payout["status"] for payout in listed) == ["paid", "reversed"]
        owing = api.get("/reader/earnings", as_user=mira).json["payouts"]
        assert owing["owed"] > 0 and owing["available"] == 0, owing
        assert [x["status"] for x in api.get("/reader/payouts", as_user=mira).json["data"]] == ["paid"]
        assert api.get("/reader/earnings", as_user=luna).json["payouts"]["available"] > 0  # her history matured
        assert seed_payouts(utcnow())["matured"] == 0  # a second run changes nothing
        p.ledger_ok()
    finally:
        payments.gateway.cache_clear()
