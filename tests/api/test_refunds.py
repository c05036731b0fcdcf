"""Refunds and chargebacks of purchased credits, from Stripe's events.

charge.refunded reads the charge's refunds from Stripe (the recording stand-in) and takes
back the matching credits; what was already spent cannot be taken, so the balance stops at
zero and the rest is owed (GET /credits: owed > 0, restricted). A failed refund and a won
dispute give the credits back, paying what is owed first. Replays change nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.fakes import stripe_api as fake_stripe
from tests.fakes import stripe_events as se
from tests.fakes.stripe_api import StripeApi, stripe_api  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("default_catalog")

PRICE, CREDITS = 1799, 60  # the "seeker" package
_refund_clock = itertools.count()  # refunds' "created", in the order the tests make them


def send(api: Any, drain: Any, event_type: str, obj: dict[str, Any]) -> None:
    if event_type.startswith("charge.dispute.") and fake_stripe.CURRENT:
        fake_stripe.CURRENT[0].put_dispute(obj)  # Stripe holds the dispute the event is about
    response = se.deliver(api, se.event(event_type, obj))
    assert response.status_code == 200, response.body
    drain()


def credits(api: Any, user: str) -> dict[str, Any]:
    return api.get("/credits", as_user=user).json_body


def balance(api: Any, user: str) -> dict[str, Any]:
    return credits(api, user)["balance"]


def buy(api: Any, drain: Any, user: str) -> tuple[str, str]:
    """A paid seeker package; returns (charge id, payment intent)."""
    payment_intent = se.unique("pi_")
    send(api, drain, "checkout.session.completed", se.ordered_checkout(api, user, payment_intent=payment_intent))
    assert balance(api, user)["available"] == CREDITS
    return se.unique("ch_"), payment_intent


def refunded(api: Any, drain: Any, stripe: StripeApi, charge_id: str, payment_intent: str, *refunds: tuple[str, int],
             status: str = "succeeded") -> None:
    """Stripe refunds (id, amount) pairs on the charge and sends charge.refunded."""
    for refund_id, amount in refunds:
        stripe.put_refund(se.refund(refund_id, charge_id, payment_intent, amount=amount, status=status,
                                    created=se.PERIOD_START + next(_refund_clock)))
    total = sum(r["amount"] for r in stripe.refunds[charge_id] if r["status"] != "failed")
    send(api, drain, "charge.refunded", se.charge(charge_id, payment_intent, amount=PRICE, amount_refunded=total))


def ledger_is_consistent() -> bool:
    from chalicelib.services import ledger_check

    return ledger_check.run().ok


def stripe_clearing() -> int:
    """The platform's Stripe clearing account (negative: credits Stripe's money bought)."""
    from chalicelib.services import ledger

    return ledger.system_balance("external:stripe")


# --- refunds --------------------------------------------------------------------------------

def test_a_full_refund_takes_the_purchased_credits_back_once(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_full", PRICE))

    seen = credits(api, "buyer")
    assert seen["balance"] == {"available": 0, "held": 0, "earnings": 0, "payable": 0, "owed": 0, "restricted": False}
    assert (seen["data"][0]["kind"], seen["data"][0]["changes"]) == ("refund", {"available": -CREDITS})
    [listing] = stripe_api.calls("GET", "/v1/refunds")
    assert listing.query["charge"] == charge_id
    assert stripe_clearing() == 0  # what Stripe paid in, it took back out

    # Stripe sends charge.refunded again (another event id), and replays the first one.
    refunded(api, drain, stripe_api, charge_id, payment_intent)
    assert balance(api, "buyer")["available"] == 0 and len(credits(api, "buyer")["data"]) == 2


def test_partial_refunds_take_back_their_share(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_half", PRICE // 2))  # 899 of 1799
    assert balance(api, "buyer")["available"] == CREDITS - CREDITS * (PRICE // 2) // PRICE == 31
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_half", PRICE // 2))  # replay: same refund
    assert balance(api, "buyer")["available"] == 31


def test_a_charge_refunded_in_two_parts_takes_back_every_credit(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_1", 900))
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_2", PRICE - 900))
    assert balance(api, "buyer")["available"] == 0


def test_refunding_spent_credits_leaves_a_debt_that_restricts_the_account(api, make_user, drain,
                                                                          stripe_api):  # noqa: F811
    from tests.support import ledger

    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    ledger.hold("buyer", 50, entry_id="hold:reading-1", ref="reading-1")  # booked a reading
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_full", PRICE))

    seen = credits(api, "buyer")
    assert seen["balance"] == {"available": 0, "held": 50, "earnings": 0, "payable": 0, "owed": 50, "restricted": True}
    assert seen["data"][0]["changes"] == {"available": -10, "owed": 50}
    assert api.get("/me", as_user="buyer").json_body["balance"]["owed"] == 50

    # The next purchase pays the debt first.
    send(api, drain, "checkout.session.completed", se.ordered_checkout(api, "buyer"))
    assert balance(api, "buyer") == {"available": 10, "held": 50, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}


def test_a_failed_refund_gives_the_credits_back_paying_the_debt_first(api, make_user, drain,
                                                                      stripe_api):  # noqa: F811
    from tests.support import ledger

    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    ledger.hold("buyer", 50, entry_id="hold:reading-1", ref="reading-1")
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_full", PRICE))
    assert balance(api, "buyer")["owed"] == 50

    failed = se.refund("re_full", charge_id, payment_intent, amount=PRICE, status="failed")
    stripe_api.put_refund(failed)
    send(api, drain, "refund.failed", failed)
    assert balance(api, "buyer") == {"available": 10, "held": 50, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}

    # Replays, and a stale charge.refunded, do nothing more.
    send(api, drain, "refund.failed", failed)
    refunded(api, drain, stripe_api, charge_id, payment_intent)
    assert balance(api, "buyer") == {"available": 10, "held": 50, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}
    assert [line["kind"] for line in credits(api, "buyer")["data"]] == [
        "grant.purchase", "refund", "hold", "grant.purchase"]
    assert ledger_is_consistent()


def test_a_refund_that_failed_before_its_charge_refunded_event_was_processed_takes_nothing(
        api, make_user, drain, stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    failed = se.refund("re_late", charge_id, payment_intent, amount=PRICE, status="failed")
    stripe_api.put_refund(failed)
    send(api, drain, "refund.failed", failed)
    refunded(api, drain, stripe_api, charge_id, payment_intent)
    assert balance(api, "buyer")["available"] == CREDITS


def test_a_refunded_subscription_invoice_takes_its_credits_back(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("subscriber")
    subscription_id = se.unique("sub_")
    stripe_api.put_subscription(se.subscription(subscription_id, "subscriber"))
    send(api, drain, "invoice.paid", se.invoice("in_1", subscription_id, payment_intent="pi_invoice_1",
                                                billing_reason="subscription_create"))
    assert balance(api, "subscriber")["available"] == 60
    stripe_api.put_refund(se.refund("re_invoice", "ch_invoice", "pi_invoice_1", amount=1599))
    send(api, drain, "charge.refunded", se.charge("ch_invoice", "pi_invoice_1", amount=1599, amount_refunded=1599))
    assert balance(api, "subscriber")["available"] == 0


def test_a_refund_of_a_charge_we_granted_nothing_for_is_acknowledged_and_ignored(api, make_user, drain,
                                                                                  stripe_api):  # noqa: F811
    make_user("buyer")
    buy(api, drain, "buyer")
    stripe_api.put_refund(se.refund("re_other", "ch_other", "pi_other", amount=500))
    send(api, drain, "charge.refunded", se.charge("ch_other", "pi_other", amount=500, amount_refunded=500))
    assert balance(api, "buyer")["available"] == CREDITS


# --- disputes ---------------------------------------------------------------------------------

def test_a_chargeback_takes_the_credits_back_and_a_won_dispute_returns_them(api, make_user, drain,
                                                                            stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    opened = se.dispute("dp_1", charge_id, payment_intent, amount=PRICE)
    send(api, drain, "charge.dispute.created", opened)
    assert balance(api, "buyer")["available"] == 0
    assert credits(api, "buyer")["data"][0]["kind"] == "chargeback"
    send(api, drain, "charge.dispute.created", opened)  # replay
    assert balance(api, "buyer")["available"] == 0

    won = {**opened, "status": "won"}
    send(api, drain, "charge.dispute.closed", won)
    assert balance(api, "buyer")["available"] == CREDITS
    send(api, drain, "charge.dispute.closed", won)  # replay
    send(api, drain, "charge.dispute.created", opened)  # a late redelivery of the opening
    assert balance(api, "buyer") == {"available": CREDITS, "held": 0, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}
    assert [line["kind"] for line in credits(api, "buyer")["data"]] == ["grant.purchase", "chargeback",
                                                                         "grant.purchase"]
    assert stripe_clearing() == -CREDITS
    assert ledger_is_consistent()


def test_a_lost_dispute_keeps_the_credits_taken_and_the_debt(api, make_user, drain, stripe_api):  # noqa: F811
    from tests.support import ledger

    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    ledger.hold("buyer", 45, entry_id="hold:reading-1", ref="reading-1")
    opened = se.dispute("dp_1", charge_id, payment_intent, amount=PRICE)
    send(api, drain, "charge.dispute.created", opened)
    assert balance(api, "buyer") == {"available": 0, "held": 45, "earnings": 0, "payable": 0,
                                     "owed": 45, "restricted": True}
    send(api, drain, "charge.dispute.closed", {**opened, "status": "lost"})
    assert balance(api, "buyer") == {"available": 0, "held": 45, "earnings": 0, "payable": 0,
                                     "owed": 45, "restricted": True}


def test_a_won_dispute_pays_the_debt_before_the_balance(api, make_user, drain, stripe_api):  # noqa: F811
    from tests.support import ledger

    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    ledger.hold("buyer", 45, entry_id="hold:reading-1", ref="reading-1")
    opened = se.dispute("dp_1", charge_id, payment_intent, amount=PRICE)
    send(api, drain, "charge.dispute.created", opened)
    send(api, drain, "charge.dispute.closed", {**opened, "status": "won"})
    assert balance(api, "buyer") == {"available": 15, "held": 45, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}


def test_a_won_dispute_processed_before_its_opening_leaves_the_credits(api, make_user, drain,
                                                                       stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    opened = se.dispute("dp_1", charge_id, payment_intent, amount=PRICE)
    send(api, drain, "charge.dispute.closed", {**opened, "status": "won"})
    send(api, drain, "charge.dispute.created", opened)
    assert balance(api, "buyer")["available"] == CREDITS


def test_refund_and_chargeback_of_one_charge_never_take_more_than_was_bought(api, make_user, drain,
                                                                             stripe_api):  # noqa: F811
    make_user("buyer")
    charge_id, payment_intent = buy(api, drain, "buyer")
    refunded(api, drain, stripe_api, charge_id, payment_intent, ("re_part", 600))
    after_refund = balance(api, "buyer")["available"]
    assert after_refund == CREDITS - CREDITS * 600 // PRICE
    send(api, drain, "charge.dispute.created", se.dispute("dp_1", charge_id, payment_intent, amount=PRICE))
    assert balance(api, "buyer") == {"available": 0, "held": 0, "earnings": 0, "payable": 0,
                                     "owed": 0, "restricted": False}
    assert stripe_clearing() == 0
