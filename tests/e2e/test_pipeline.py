"""The event pipeline of the running stack does not stall (issue 10): the outbox stream is
relayed to the queue and consumed promptly, also right after a rolled-back transaction
(moto used to replace the table on a rollback and the relay kept reading the old stream,
so events waited for the 5-minute sweep). The observable effect is a paid local checkout
(webhook -> outbox -> stream relay -> queue -> worker -> ledger grant) reaching GET /credits."""

from __future__ import annotations

import uuid

from tests.e2e.calls import READER, checkout_paid, demo, ledger_check, new_client
from tests.e2e.conftest import LocalStack
from tests.support.threads import all_at_once
from tests.support.wait import wait_for

NEXT_EVENT_WITHIN_S = 2
CREDITED_WITHIN_S = 5


def test_a_paid_local_checkout_is_credited_within_5_seconds(local_stack: LocalStack) -> None:
    client = new_client(local_stack, "paid")
    session, credits = checkout_paid(client, "starter")

    wait_for(lambda: client.balance()["available"] == credits, CREDITED_WITHIN_S,
             f"{credits} credits of checkout {session} on GET /credits")
    assert [line["kind"] for line in client.lines(session)] == ["grant.purchase"]


def test_after_rolled_back_transactions_the_next_event_is_consumed_within_2_seconds(local_stack: LocalStack) -> None:
    client = new_client(local_stack, "rollback")
    booking = {"readerId": demo(local_stack, READER).user_id, "optionType": "video_message", "duration": 10,
               "topicId": "love-relationships", "question": "Will it work out?"}
    # Requests whose hold (with its outbox event) is cancelled by the balance condition: one
    # alone, then several at once.
    refused = [client.post("/readings", booking, key=f"no-credits-{uuid.uuid4().hex}")]
    refused += all_at_once(5, lambda _: client.post("/readings", booking, key=f"no-credits-{uuid.uuid4().hex}"))
    assert {(answer.status_code, answer.json()["error"]["code"]) for answer in refused} == {
        (422, "insufficient_credits")}, [answer.text for answer in refused]

    session, credits = checkout_paid(client, "starter")

    wait_for(lambda: client.balance()["available"] == credits, NEXT_EVENT_WITHIN_S,
             f"{credits} credits of checkout {session} on GET /credits after rolled-back transactions")
    ledger_check(local_stack)
