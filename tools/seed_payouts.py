"""The demo readers' payouts (issue 18): earnings in every state, through the services.

- Rowan Ashby (reader10): four live video readings over the last month. The three older ones
  matured when their dispute windows closed; two of them were paid out (paid), the third
  was paid out and its transfer reversed (``reversed``: its credits are available again);
  the newest is still inside its dispute window (pending).
- Mira Okafor (reader5): a phone reading whose earnings matured and were paid out at the very
  moment its dispute window closed, when its client disputed it; the refund came after the
  payout, so Mira owes its credits until her next earnings settle them.
- Every other reading of the demo past its dispute window matures too (Luna's history).

Both readers onboard through the local Connect stand-in (their accounts enabled by the
``account.updated`` it sends). Each step runs at its own moment (``tools.seed.at``). Their
client is a regular of this story only (no token), given what the readings cost.

Run after the demo and its history at start (tools/run_local.py); idempotent within a process
(idempotency keys; a payout already made or reversed is left as it is).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from tools.seed import READERS, at, promotion, provision, reading_options, user_id
from tools.seed_history import request_times

PATRON = ("patron", "Iris Calloway")
# reader, reading type, minutes, readings over the last days
ROWAN = ("reader10", "live_video", 30, 4, 32)
MIRA = ("reader5", "phone_call", 30, 1, 20)
WINDOW = timedelta(days=14)  # chalicelib.domain.readings.DISPUTE_WINDOW


def _spec(handle: str) -> dict[str, Any]:
    return next(reader for reader in READERS if reader["handle"] == handle)


def _enable_payouts(handle: str, moment: datetime) -> None:
    """Onboarding as the reader does it: the account, then the local page's "submit", whose
    ``account.updated`` is applied now (the payment worker finds it applied)."""
    from chalicelib.integrations.payments import LocalGateway, gateway
    from chalicelib.services.payouts import accounts, local

    reader_id = user_id(handle)
    onboarding = accounts.start_onboarding(reader_id, f"{handle}@demo.auralumic.example", now=moment)
    if onboarding.account.payouts_enabled:
        return
    account_id = onboarding.account.account_id
    delivered = local.finish_local_onboarding(account_id, "complete", now=moment)
    local_gateway = gateway()
    assert isinstance(local_gateway, LocalGateway)
    state = local_gateway.account(account_id) or {}
    accounts.account_updated(
        state, created=int(moment.timestamp()), event_id=delivered[0].event_id if delivered else "", now=moment
    )


def _completed(handle: str, reading_type: str, minutes: int, booked: datetime, key: str) -> tuple[str, datetime]:
    """A reading booked at ``booked`` by the patron, accepted, held and completed: (id, completion)."""
    from chalicelib.models.users import User
    from chalicelib.services import readings

    reader_id, client_id = user_id(handle), user_id(PATRON[0])
    option = next(o for o in reading_options(_spec(handle)) if o["type"] == reading_type and o["duration"] == minutes)
    reading, created = at(
        booked,
        readings.request,
        User.get(client_id),
        reader_id=reader_id,
        option_type=reading_type,
        option_id=option["id"],
        duration=minutes,
        scheduled_at=None,
        topic_id="general-reading",
        question=None,
        idempotency_key=key,
    )
    answered, begins = booked + timedelta(minutes=2), booked + timedelta(minutes=4)
    ended = begins + timedelta(minutes=minutes)
    if created:
        at(answered, readings.accept, reading.reading_id, reader_id, "reader")
        at(begins, readings.start, reading.reading_id, reader_id, "reader")
        at(ended, readings.complete, reading.reading_id, reader_id, "reader")
    return reading.reading_id, ended


def _paid_out(handle: str, credits: int, moment: datetime, key: str) -> str:
    """A payout the reader asks for at ``moment``, and its transfer: the payout id."""
    from chalicelib.services.payouts import requesting, transfers

    reader_id = user_id(handle)
    done = at(moment, requesting.request_payout, reader_id, credits=credits, idempotency_key=key)
    at(moment + timedelta(seconds=2), transfers.send_transfer, done.payout.payout_id)
    return str(done.payout.payout_id)


def _quote(handle: str, reading_type: str, minutes: int) -> int:
    from chalicelib.services import readings

    option = next(o for o in reading_options(_spec(handle)) if o["type"] == reading_type and o["duration"] == minutes)
    return int(readings.prepare(user_id(handle), reading_type, option["id"], minutes, None).price.total)


def seed_payouts(now: datetime) -> dict[str, Any]:
    """Seed the stories above; returns what each reader's earnings look like for the log."""
    from chalicelib.errors import Conflict
    from chalicelib.models.payout_records import Payout
    from chalicelib.services import ledger
    from chalicelib.services.payouts import local_transfers, maturity

    rowan, mira = ROWAN[0], MIRA[0]
    rowan_times = request_times(_spec(rowan), ROWAN[3], ROWAN[4], now)
    mira_times = request_times(_spec(mira), MIRA[3], MIRA[4], now)
    first = min(rowan_times + mira_times)
    provision(PATRON[0], PATRON[1], "client", first - timedelta(days=1))
    cost = ROWAN[3] * _quote(*ROWAN[:3]) + MIRA[3] * _quote(*MIRA[:3])
    promotion(
        user_id(PATRON[0]),
        cost,
        entry_id="demo-payout-readings:patron",
        memo="Credits for the demo payouts' readings",
        moment=first - timedelta(hours=1),
    )
    for handle in (rowan, mira):
        _enable_payouts(handle, first - timedelta(hours=2))

    # Rowan: the three older readings mature; two are paid out, the third paid out and reversed.
    done = [_completed(rowan, *ROWAN[1:3], booked, f"demo-payouts-{rowan}-{n}") for n, booked in enumerate(rowan_times)]
    for reading_id, completed in done[:3]:
        maturity.mature_reading(reading_id, now=completed + WINDOW)
    shares = _shares([reading_id for reading_id, _ in done])
    paid_at = done[1][1] + WINDOW + timedelta(hours=1)
    _paid_out(rowan, shares[0] + shares[1], paid_at, "demo-payout-rowan-1")
    reversed_at = done[2][1] + WINDOW + timedelta(hours=1)
    payout_id = _paid_out(rowan, shares[2], reversed_at, "demo-payout-rowan-2")
    transfer_id = Payout.get(payout_id, consistent_read=True).transfer_id
    if transfer_id:
        with contextlib.suppress(Conflict):  # reversed before (a second run)
            local_transfers.act_on_transfer(transfer_id, "reverse", now=reversed_at + timedelta(hours=3))

    # Mira: matured and paid out when the window closed, disputed at that moment, refunded after.
    reading_id, completed = _completed(mira, *MIRA[1:3], mira_times[0], f"demo-payouts-{mira}-0")
    closing = completed + WINDOW
    maturity.mature_reading(reading_id, now=closing)
    _paid_out(mira, _shares([reading_id])[0], closing, "demo-payout-mira-1")
    _dispute_after_payout(reading_id, closing)

    figures = maturity.mature_due(now=now)  # every other demo reading past its window (Luna's history)
    return {
        "matured": figures["matured"],
        **{handle: ledger.balance_of(ledger.read_user(user_id(handle))) for handle in (rowan, mira)},
    }


def _shares(reading_ids: list[str]) -> list[int]:
    """What each reading paid its reader (after the platform fee)."""
    from chalicelib.models.readings import Reading

    return [int(Reading.get(reading_id, consistent_read=True).paid_out or 0) for reading_id in reading_ids]


def _dispute_after_payout(reading_id: str, closing: datetime) -> None:
    from chalicelib.models.readings import Reading
    from chalicelib.services import readings

    reading = Reading.get(reading_id, consistent_read=True)
    if reading.dispute is not None:
        return
    at(
        closing,
        readings.open_dispute,
        reading_id,
        reading.client_id,
        "client",
        reason="The call kept dropping; I did not get my answer.",
    )
    at(
        closing + timedelta(days=1),
        readings.resolve_dispute,
        reading_id,
        user_id("admin"),
        outcome="full_refund",
        amount=None,
        note="Connection trouble confirmed; refunded in full.",
    )
