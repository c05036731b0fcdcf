"""The payout run: every reader who can be paid is paid everything payable.

The job is scheduled daily and runs on the configured day (``PAYOUT_SCHEDULE``: a weekday,
``daily`` or ``off``). It walks the enabled payout accounts a page at a time (one Query of
their ``byStatus`` index), reads the page's readers and payout states in one BatchGetItem
per table, and requests a payout (``requesting.request_payout``, one transaction) for each
active, unheld reader owing nothing whose payable credits reach the minimum. A reader is
paid once per day (a rerun of the job pays nobody twice); a suspended reader is never paid
by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.config import get_settings
from chalicelib.domain.accounts import ACTIVE
from chalicelib.errors import DomainError
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.payout_records import PayoutReader
from chalicelib.models.users import User
from chalicelib.services import ledger
from chalicelib.services.payouts.accounts import enabled_accounts
from chalicelib.services.payouts.requesting import request_payout
from chalicelib.services.users import account_status

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAGE = 100


def due_today(schedule: str, moment: datetime) -> bool:
    if schedule == "off":
        return False
    return schedule == "daily" or WEEKDAYS[moment.weekday()] == schedule


@dataclass
class Run:
    day: str
    due: bool
    accounts: int = 0
    paid: int = 0
    credits: int = 0
    skipped: int = 0
    refused: int = 0

    def dump(self) -> dict[str, int | str | bool]:
        return {
            "day": self.day,
            "due": self.due,
            "accounts": self.accounts,
            "paid": self.paid,
            "credits": self.credits,
            "skipped": self.skipped,
            "refused": self.refused,
        }


def why_not(user: User | None, state: PayoutReader | None, minimum: int) -> str | None:
    """Why the run does not pay this reader, or None when it does."""
    if user is None or user.role != "reader":
        return "not a reader"
    if account_status(user) != ACTIVE:
        return "suspended"
    if state is not None and state.held:
        return "held"
    if state is not None and state.lock:
        return "in progress"
    balance = ledger.balance_of(user)
    if balance.owed > 0:
        return "owes"
    if balance.payable < minimum:
        return "below minimum"
    return None


def pay_due(*, now: datetime | None = None, force: bool = False, page_size: int = PAGE) -> dict[str, int | str | bool]:
    """The payout run of ``now``'s day (``force``: whatever the schedule says)."""
    moment = now or utcnow()
    settings = get_settings()
    run = Run(day=moment.date().isoformat(), due=force or due_today(settings.payout_schedule, moment))
    if not run.due:
        return run.dump()
    cursor: str | None = None
    while True:
        page = enabled_accounts(page_size, cursor)
        accounts = [account for account in page.items if account.payouts_enabled]
        ids = [account.reader_id for account in accounts]
        users = {user.user_id: user for user in User.batch_get(ids, consistent_read=True)} if ids else {}
        states = {state.reader_id: state for state in PayoutReader.batch_get(ids, consistent_read=True)} if ids else {}
        for account in accounts:
            run.accounts += 1
            user, state = users.get(account.reader_id), states.get(account.reader_id)
            if why_not(user, state, settings.payout_minimum_credits) is not None:
                run.skipped += 1
                continue
            try:
                done = request_payout(
                    account.reader_id,
                    source="schedule",
                    day=run.day,
                    now=moment,
                    user=user,
                    state=state,
                    account=account,
                )
            except DomainError as refused:  # changed since the page was read (a hold, a payout, a refund)
                logger.info("scheduled payout refused", extra={"readerId": account.reader_id, "code": refused.code})
                run.refused += 1
                continue
            run.paid += 1
            run.credits += int(done.payout.credits)
        cursor = page.next_cursor
        if not cursor:
            return run.dump()
