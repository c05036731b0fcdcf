"""A reader's payout account: the Stripe Connect (Express) account payouts are sent to.

Shared interface (PAYOUTS.md): ``PayoutAccount``, ``payout_account`` and
``enabled_accounts`` are what the payouts side reads; the rest is onboarding and the
account's state as Stripe's ``account.updated`` events report it.

- **Onboarding** (``start_onboarding``, ``POST /reader/payout-account``): an approved reader's
  first call creates the Express account (``create_connect_account`` with the idempotency key
  ``connect-account:<readerId>``, so concurrent or retried calls get Stripe's one account) and
  stores it with a conditional put (one item per reader: a loser of the race reads the
  winner's); every call, first or later, returns a fresh account link (links are single use
  and expire within minutes). Stripe sends the reader back to the frontend's
  ``/reader/payouts?onboarding=return`` (left the flow, finished or not) or
  ``?onboarding=refresh`` (the link expired or was used: ask for a new one).
- **State** (``account_updated``): Stripe's signed ``account.updated`` (through the Stripe
  webhook and the payments consumer) sets details submitted, payouts enabled and the
  requirements due. Each applied event's ``created`` is stored; an update is conditional on
  it being newer, so a replay or an older event delivered late changes nothing. Two events
  of the same second cannot be ordered by ``created``: the later to arrive reads the account
  from Stripe (``retrieve_account``) and stores what Stripe holds now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden
from chalicelib.integrations.payments import gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.payouts import STATUS_ENABLED, STATUS_PENDING, STATUS_RESTRICTED, PayoutAccountItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.pagination import PageResult, query_page

APPROVED = "approved"
# Where Stripe's onboarding sends the reader back to (the frontend, settings.app_base_url).
RETURN_PATH = "/reader/payouts?onboarding=return"
REFRESH_PATH = "/reader/payouts?onboarding=refresh"


@dataclass(frozen=True)
class PayoutAccount:
    reader_id: str
    account_id: str  # Stripe Connect account id ("acct_...")
    details_submitted: bool
    payouts_enabled: bool  # Stripe says it can receive transfers/payouts
    requirements_due: tuple[str, ...]
    updated_at: str
    status: str = STATUS_PENDING  # pending | enabled | restricted (models.payouts)
    disabled_reason: str | None = None  # Stripe's requirements.disabled_reason, e.g. "requirements.past_due"


@dataclass(frozen=True)
class Onboarding:
    account: PayoutAccount
    url: str  # Stripe's onboarding page for this account (single use)
    expires_at: int  # unix seconds: after it, ask for a new link
    created: bool  # this call created the account


def _account(item: PayoutAccountItem) -> PayoutAccount:
    return PayoutAccount(
        reader_id=item.reader_id,
        account_id=item.account_id,
        details_submitted=bool(item.details_submitted),
        payouts_enabled=bool(item.payouts_enabled),
        requirements_due=tuple(item.requirements_due or ()),
        updated_at=item.updated_at,
        status=item.status,
        disabled_reason=item.disabled_reason,
    )


def _item(reader_id: str) -> PayoutAccountItem | None:
    try:
        return PayoutAccountItem.get(reader_id, consistent_read=True)
    except PayoutAccountItem.DoesNotExist:
        return None


def payout_account(reader_id: str) -> PayoutAccount | None:
    """The reader's payout account, or None before onboarding started: one consistent GetItem."""
    item = _item(reader_id)
    return _account(item) if item is not None else None


def enabled_accounts(limit: int, cursor: str | None) -> PageResult[PayoutAccount]:
    """The accounts Stripe lets us pay out to, by reader id, a page at a time: one Query of the
    ``byStatus`` index per page (never a Scan). ``cursor`` is the previous page's ``next_cursor``."""

    def run(page_limit: int, start: dict[str, Any] | None) -> Any:
        return PayoutAccountItem.by_status.query(STATUS_ENABLED, limit=page_limit, last_evaluated_key=start)

    page = query_page(run, limit=limit, cursor=cursor, scope="payout-accounts:enabled")
    return PageResult(
        items=[_account(item) for item in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
        page=page.page,
        generated_at=page.generated_at,
    )


# --- onboarding -------------------------------------------------------------------------------


def require_approved(reader_id: str) -> None:
    """Payout accounts are for approved readers: Forbidden for a profile in any other state."""
    try:
        status = ReaderProfile.get(reader_id, attributes_to_get=["readerId", "status"]).status
    except ReaderProfile.DoesNotExist:
        status = None
    if status != APPROVED:
        raise Forbidden(
            "Only an approved reader has a payout account.", code="reader_not_approved", details={"status": status}
        )


def start_onboarding(reader_id: str, email: str | None, *, now: datetime | None = None) -> Onboarding:
    """Create the reader's Express account once (or find it) and return a fresh onboarding
    link. Safe under concurrency: one account per reader (see the module docstring)."""
    require_approved(reader_id)
    item = _item(reader_id)
    created = False
    if item is None:
        item, created = _create(reader_id, email, iso(now or utcnow()))
    settings = get_settings()
    link = gateway().create_account_link(
        item.account_id,
        refresh_url=settings.app_base_url + REFRESH_PATH,
        return_url=settings.app_base_url + RETURN_PATH,
    )
    return Onboarding(account=_account(item), url=link["url"], expires_at=int(link["expires_at"]), created=created)


def _create(reader_id: str, email: str | None, stamp: str) -> tuple[PayoutAccountItem, bool]:
    account = gateway().create_connect_account(
        reader_id=reader_id, email=email, idempotency_key=f"connect-account:{reader_id}"
    )
    item = PayoutAccountItem(
        reader_id=reader_id, account_id=account["id"], created_at=stamp, updated_at=stamp, **_state(account)
    )
    try:
        item.save(condition=PayoutAccountItem.reader_id.does_not_exist())
        return item, True
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    # Another request (or the account's first event) stored it first: theirs is the account.
    winner = _item(reader_id)
    assert winner is not None  # items are never deleted while the reader exists
    if winner.account_id != account["id"]:
        logger.warning(
            "payout account created twice",
            extra={"readerId": reader_id, "kept": winner.account_id, "unused": account["id"]},
        )
    return winner, False


# --- account.updated --------------------------------------------------------------------------


def _state(account: dict[str, Any]) -> dict[str, Any]:
    """Our item's fields from Stripe's account object."""
    requirements = account.get("requirements") or {}
    due = sorted(set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or []))
    details, payouts = bool(account.get("details_submitted")), bool(account.get("payouts_enabled"))
    status = STATUS_ENABLED if payouts else STATUS_RESTRICTED if details else STATUS_PENDING
    return {
        "details_submitted": details,
        "payouts_enabled": payouts,
        "requirements_due": due,
        "status": status,
        "disabled_reason": requirements.get("disabled_reason") or None,
    }


def account_updated(
    account: dict[str, Any], *, created: int | None, event_id: str = "", now: datetime | None = None
) -> bool:
    """Apply Stripe's ``account.updated``: True when it changed the stored state, False for a
    replay, an event older than the one applied, or an account that is no reader's."""
    account_id = account.get("id")
    if not isinstance(account_id, str):
        return False
    reader_id = (account.get("metadata") or {}).get("readerId") or _reader_of(account_id)
    if not reader_id:
        logger.info("account.updated for an account of no reader", extra={"accountId": account_id})
        return False
    return _apply(reader_id, account, int(created or 0), event_id, iso(now or utcnow()))


def _reader_of(account_id: str) -> str | None:
    for item in PayoutAccountItem.by_account.query(account_id, limit=1):
        return str(item.reader_id)
    return None


def _apply(
    reader_id: str, account: dict[str, Any], created: int, event_id: str, stamp: str, *, tie: bool = False
) -> bool:
    state = _state(account)
    a = PayoutAccountItem
    actions: list[Action] = [
        a.details_submitted.set(state["details_submitted"]),
        a.payouts_enabled.set(state["payouts_enabled"]),
        a.requirements_due.set(state["requirements_due"]),
        a.status.set(state["status"]),
        a.disabled_reason.set(state["disabled_reason"]) if state["disabled_reason"] else a.disabled_reason.remove(),
        a.event_created.set(created),
        a.event_id.set(event_id),
        a.updated_at.set(stamp),
    ]
    newer = (a.event_created <= created) if tie else (a.event_created < created)
    try:
        PayoutAccountItem(reader_id=reader_id).update(
            actions=actions, condition=(a.account_id == account["id"]) & newer
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    current = _item(reader_id)
    if current is None:  # the event overtook the creating request: store the account from it
        item = PayoutAccountItem(
            reader_id=reader_id,
            account_id=account["id"],
            created_at=stamp,
            updated_at=stamp,
            event_created=created,
            event_id=event_id,
            **state,
        )
        try:
            item.save(condition=PayoutAccountItem.reader_id.does_not_exist())
            return True
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return _apply(reader_id, account, created, event_id, stamp, tie=tie)
    if current.account_id != account["id"]:
        logger.warning(
            "account.updated for an account the reader does not use",
            extra={"readerId": reader_id, "accountId": account["id"], "current": current.account_id},
        )
        return False
    if not tie and int(current.event_created) == created and current.event_id != event_id:
        # Same second, another event: which is newer is unknown, so store what Stripe holds now.
        return _apply(reader_id, gateway().retrieve_account(account["id"]), created, event_id, stamp, tie=True)
    return False  # a replay, or older than what is stored
