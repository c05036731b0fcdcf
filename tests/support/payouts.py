"""Building blocks for payout tests: an enabled payout account, a reading completed at a given
time (its earnings pending until the dispute window closes), the local gateway's transfers.

chalicelib is imported lazily: its settings are read at import, after the test environment
is configured.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.readings import MONDAY, book

WINDOW = timedelta(days=14)  # domain.readings.DISPUTE_WINDOW
AFTER_WINDOW = MONDAY + WINDOW + timedelta(days=1)  # every reading of the first day matured


def enable_payouts(reader_id: str, account_id: str | None = None) -> str:
    """The reader's payout account as ``account.updated`` leaves it once Stripe enables payouts."""
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.payouts import STATUS_ENABLED, PayoutAccountItem

    account = account_id or f"acct_local_{reader_id}"
    now = iso(utcnow())
    PayoutAccountItem(
        reader_id=reader_id,
        account_id=account,
        status=STATUS_ENABLED,
        details_submitted=True,
        payouts_enabled=True,
        requirements_due=[],
        created_at=now,
        updated_at=now,
    ).save()
    return account


def complete_reading(client_id: str, reader_id: str, *, at: datetime = MONDAY) -> Any:
    """A phone reading booked, accepted, started and completed by ``at`` (completion at ``at``)."""
    from chalicelib.services import readings

    reading = book(client_id, reader_id, now=at - timedelta(minutes=40))
    readings.accept(reading.reading_id, reader_id, "reader", now=at - timedelta(minutes=39))
    readings.start(reading.reading_id, reader_id, "reader", now=at - timedelta(minutes=31))
    readings.complete(reading.reading_id, client_id, "client", now=at)
    return readings.get(reading.reading_id)


def accounts(user_id: str) -> dict[str, int]:
    """The user's ledger accounts as stored."""
    from chalicelib.models.users import User

    user = User.get(user_id, consistent_read=True)
    return {
        "available": int(user.credits_available or 0),
        "earnings": int(user.credits_earnings or 0),
        "payable": int(user.credits_payable or 0),
        "receivable": int(user.credits_receivable or 0),
    }


def mature(now: datetime = AFTER_WINDOW) -> dict[str, int]:
    from chalicelib.services.payouts import maturity

    return maturity.mature_due(now=now)


def gateway() -> Any:
    from chalicelib.integrations.payments import LocalGateway, gateway

    local = gateway()
    assert isinstance(local, LocalGateway)
    return local


def transfers_of(payout_ids: set[str] | None = None) -> list[dict[str, Any]]:
    return [t for t in gateway().transfers.values() if payout_ids is None or t["transfer_group"] in payout_ids]


def ledger_ok() -> None:
    from chalicelib.services import ledger_check

    report = ledger_check.run()
    assert report.ok, report.lines()
