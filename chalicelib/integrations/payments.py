"""The payments gateway: Stripe in the cloud stages, a local stand-in on the embedded default.

Both speak Stripe's object shapes (plain dicts) so the services above them cannot tell
them apart. The stripe package is imported only when a call needs Stripe's API (checkout,
subscription fetch/cancel, refund listing, a purged account's customer, readers' Connect
accounts), never on the webhook request path.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from chalicelib.config import Settings, get_settings
from chalicelib.errors import DependencyUnavailable, sentence

API_VERSION = "2026-10-28.endive"  # pinned: the shapes the services read (metadata, items, parent)


@dataclass(frozen=True)
class LineItem:
    name: str
    amount: int  # minor units
    currency: str
    recurring_interval: str | None = None  # "month" for a plan


class TransferRefused(Exception):
    """Stripe refused a transfer for a reason a retry would meet again (the connected account
    cannot receive it, the platform balance is short): the payout fails and is returned."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PaymentsGateway(Protocol):
    def create_checkout(self, *, mode: str, item: LineItem, metadata: dict[str, str], customer_email: str | None,
                        success_url: str, cancel_url: str, idempotency_key: str,
                        trial_days: int = 0) -> dict[str, Any]: ...

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]: ...

    def cancel_at_period_end(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]: ...

    def list_refunds(self, charge_id: str) -> list[dict[str, Any]]: ...

    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any]: ...

    def delete_customer(self, customer_id: str) -> bool: ...

    # Stripe Connect (Express) accounts of readers (issue 18; services/payouts/accounts.py).
    def create_connect_account(self, *, reader_id: str, email: str | None, idempotency_key: str) -> dict[str, Any]: ...

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> dict[str, Any]: ...

    def retrieve_account(self, account_id: str) -> dict[str, Any]: ...

    # Payouts: Transfers to readers' connected accounts (issue 18; services/payouts/transfers.py).
    def create_transfer(self, *, amount_minor: int, currency: str, destination: str, payout_id: str,
                        idempotency_key: str) -> dict[str, Any]: ...

    def find_transfer(self, payout_id: str) -> dict[str, Any] | None: ...

    def reverse_transfer(self, transfer_id: str, *, idempotency_key: str) -> dict[str, Any]: ...


def _plain(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    return to_dict() if callable(to_dict) else obj


class StripeGateway:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import stripe  # ~250 ms: only on the paths that call Stripe

            options: dict[str, Any] = {"stripe_version": API_VERSION, "max_network_retries": 2}
            if self._settings.stripe_api_base:
                options["base_addresses"] = {"api": self._settings.stripe_api_base}
            self._client = stripe.StripeClient(self._settings.stripe_secret_key, **options)
        return self._client

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import stripe

        try:
            return _plain(fn(*args, **kwargs))
        except stripe.StripeError as exc:
            message = sentence(f"The payment provider (Stripe) failed: {exc.user_message or type(exc).__name__}")
            raise DependencyUnavailable(message, code="payments_unavailable") from exc

    def create_checkout(self, *, mode: str, item: LineItem, metadata: dict[str, str], customer_email: str | None,
                        success_url: str, cancel_url: str, idempotency_key: str,
                        trial_days: int = 0) -> dict[str, Any]:
        price_data: dict[str, Any] = {"currency": item.currency, "unit_amount": item.amount,
                                      "product_data": {"name": item.name}}
        if item.recurring_interval:
            price_data["recurring"] = {"interval": item.recurring_interval}
        params: dict[str, Any] = {
            "mode": mode,
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "metadata": metadata,
            "client_reference_id": metadata["userId"],
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if customer_email:
            params["customer_email"] = customer_email
        if mode == "payment":
            # Charges carry the same metadata: refunds and disputes find the purchase by it.
            params["payment_intent_data"] = {"metadata": metadata}
        else:
            params["subscription_data"] = {"metadata": metadata}
            if trial_days:
                params["subscription_data"]["trial_period_days"] = trial_days
        return self._call(self.client.v1.checkout.sessions.create, params,
                          {"idempotency_key": idempotency_key})  # type: ignore[no-any-return]

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call(self.client.v1.subscriptions.retrieve, subscription_id)  # type: ignore[no-any-return]

    def cancel_at_period_end(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call(self.client.v1.subscriptions.update, subscription_id,  # type: ignore[no-any-return]
                          {"cancel_at_period_end": True}, {"idempotency_key": idempotency_key})

    def list_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        page = self._call(self.client.v1.refunds.list, {"charge": charge_id, "limit": 100})
        return list(page.get("data", []))

    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any]:
        return self._call(self.client.v1.disputes.retrieve, dispute_id)  # type: ignore[no-any-return]

    def delete_customer(self, customer_id: str) -> bool:
        """Delete a customer (a purged account's): True when deleted now, False when Stripe has
        no such customer (deleted before: a DELETE needs no idempotency key, it is one)."""
        import stripe

        try:
            self._call(self.client.v1.customers.delete, customer_id)
        except DependencyUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, stripe.InvalidRequestError) and (
                    cause.code == "resource_missing" or cause.http_status == 404):
                return False
            raise
        return True

    # --- Stripe Connect: the readers' payout accounts -------------------------------------------
    def create_connect_account(self, *, reader_id: str, email: str | None, idempotency_key: str) -> dict[str, Any]:
        """An Express connected account for a reader (``POST /v1/accounts``: what
        ``stripe.Account.create(type="express", ...)`` sends): the ``transfers`` capability
        requested (payouts are Transfers to it), the reader id in its metadata (every
        ``account.updated`` carries it back), the email prefilled. The idempotency key (one per
        reader) makes concurrent or retried creations one account, within Stripe's 24 hours."""
        params: dict[str, Any] = {"type": "express", "metadata": {"readerId": reader_id},
                                  "capabilities": {"transfers": {"requested": True}}}
        if email:
            params["email"] = email
        return self._call(self.client.v1.accounts.create, params,  # type: ignore[no-any-return]
                          {"idempotency_key": idempotency_key})

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> dict[str, Any]:
        """A fresh ``account_onboarding`` link (``POST /v1/account_links``): single use, valid a
        few minutes (``expires_at``), so one is made per request, never stored. Stripe sends the
        reader to ``refresh_url`` when the link expired or was already used (the frontend asks
        for a new one) and to ``return_url`` when they leave the flow, finished or not (the
        state arrives with ``account.updated``)."""
        return self._call(self.client.v1.account_links.create, {  # type: ignore[no-any-return]
            "account": account_id, "type": "account_onboarding", "refresh_url": refresh_url,
            "return_url": return_url})

    def retrieve_account(self, account_id: str) -> dict[str, Any]:
        """The account as Stripe holds it now (``GET /v1/accounts/{id}``)."""
        return self._call(self.client.v1.accounts.retrieve, account_id)  # type: ignore[no-any-return]

    # --- payouts: Transfers to readers' connected accounts ---------------------------------------
    def create_transfer(self, *, amount_minor: int, currency: str, destination: str, payout_id: str,
                        idempotency_key: str) -> dict[str, Any]:
        """A Transfer to the reader's connected account (``POST /v1/transfers``), grouped and
        tagged with the payout id (``transfer.reversed`` finds its payout by it). The idempotency
        key (the payout id) makes a retry the same transfer within Stripe's 24 hours
        (``find_transfer`` covers later retries). A refusal a retry would meet again is
        ``TransferRefused``; anything else is ``DependencyUnavailable`` (retried)."""
        import stripe

        params = {"amount": amount_minor, "currency": currency, "destination": destination,
                  "transfer_group": payout_id, "metadata": {"payoutId": payout_id}}
        try:
            return self._call(self.client.v1.transfers.create, params,  # type: ignore[no-any-return]
                              {"idempotency_key": idempotency_key})
        except DependencyUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, stripe.InvalidRequestError | stripe.PermissionError):
                reason = cause.user_message or "The payment provider refused the transfer."
                raise TransferRefused(sentence(reason), code=cause.code) from cause
            raise

    def find_transfer(self, payout_id: str) -> dict[str, Any] | None:
        """The transfer made for this payout, if any (by its transfer group)."""
        page = self._call(self.client.v1.transfers.list, {"transfer_group": payout_id, "limit": 1})
        found = page.get("data") or []
        return dict(found[0]) if found else None

    def reverse_transfer(self, transfer_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """Take a transfer back from the connected account (``POST /v1/transfers/{id}/reversals``,
        the whole amount): a payout the reader's bank refused returns to the platform."""
        return self._call(self.client.v1.transfers.reversals.create, transfer_id,  # type: ignore[no-any-return]
                          {}, {"idempotency_key": idempotency_key})


class LocalGateway:
    """Stripe's objects kept in memory for the embedded default (one process runs the API
    and the workers). ``complete`` plays the customer paying on Stripe's page: it builds the
    events Stripe would send and hands them to ``deliver`` (the webhook, correctly signed)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, list[dict[str, Any]]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.deleted_customers: list[str] = []
        self._by_idempotency_key: dict[str, str] = {}
        self.accounts: dict[str, dict[str, Any]] = {}  # Connect accounts (acct_local_...)
        self.account_returns: dict[str, str] = {}  # account id -> its latest link's return_url
        self.transfers: dict[str, dict[str, Any]] = {}  # payouts' transfers (tr_local_...), in order made
        self.refused_destinations: set[str] = set()  # accounts whose transfers are refused (tests, demos)

    def create_checkout(self, *, mode: str, item: LineItem, metadata: dict[str, str], customer_email: str | None,
                        success_url: str, cancel_url: str, idempotency_key: str,
                        trial_days: int = 0) -> dict[str, Any]:
        with self._lock:
            existing = self._by_idempotency_key.get(idempotency_key)
            if existing:
                return dict(self.sessions[existing])
            session_id = "cs_local_" + secrets.token_hex(12)
            session = {
                "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
                "payment_status": "unpaid", "amount_total": item.amount, "currency": item.currency,
                "metadata": dict(metadata), "client_reference_id": metadata.get("userId"),
                "customer_email": customer_email, "success_url": success_url, "cancel_url": cancel_url,
                "url": f"{self._settings.api_base_url}/local/checkout/{session_id}",
                "expires_at": int(time.time()) + 24 * 3600, "payment_intent": None, "subscription": None,
                "line_item": {"name": item.name, "amount": item.amount, "interval": item.recurring_interval},
                "trial_days": trial_days,
            }
            self.sessions[session_id] = session
            self._by_idempotency_key[idempotency_key] = session_id
            return dict(session)

    def session(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.sessions.get(session_id)
            return dict(found) if found else None

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            found = self.subscriptions.get(subscription_id)
        if found is None:
            raise _no_subscription(subscription_id)
        return dict(found)

    def cancel_at_period_end(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        with self._lock:
            found = self.subscriptions.get(subscription_id)
            if found is None:
                raise _no_subscription(subscription_id)
            found["cancel_at_period_end"] = True
            return dict(found)

    def list_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(refund) for refund in self.refunds.get(charge_id, [])]

    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self.disputes.get(dispute_id) or {"id": dispute_id, "status": "needs_response"})

    def delete_customer(self, customer_id: str) -> bool:
        """Recorded in ``deleted_customers``; a second deletion is Stripe's ``resource_missing``."""
        with self._lock:
            if customer_id in self.deleted_customers:
                return False
            self.deleted_customers.append(customer_id)
            return True

    # --- Stripe Connect: the local onboarding stand-in (handlers/local_connect.py) --------------
    def create_connect_account(self, *, reader_id: str, email: str | None, idempotency_key: str) -> dict[str, Any]:
        """A new Express account as Stripe creates it: nothing submitted, payouts disabled,
        the onboarding requirements due. The same idempotency key returns the same account."""
        with self._lock:
            existing = self._by_idempotency_key.get(idempotency_key)
            if existing:
                return copy.deepcopy(self.accounts[existing])
            account_id = "acct_local_" + secrets.token_hex(8)
            self.accounts[account_id] = {
                "id": account_id, "object": "account", "type": "express", "email": email,
                "metadata": {"readerId": reader_id}, "created": int(time.time()),
                "details_submitted": False, "charges_enabled": False, "payouts_enabled": False,
                "capabilities": {"transfers": "inactive"},
                "requirements": _requirements(list(LOCAL_ONBOARDING_FIELDS), "requirements.past_due"),
            }
            self._by_idempotency_key[idempotency_key] = account_id
            return copy.deepcopy(self.accounts[account_id])

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> dict[str, Any]:
        """A link to the local onboarding page (``GET /local/connect/{accountId}``)."""
        with self._lock:
            if account_id not in self.accounts:
                raise _no_account(account_id)
            self.account_returns[account_id] = return_url
        now = int(time.time())
        return {"object": "account_link", "created": now, "expires_at": now + 300,
                "url": f"{self._settings.api_base_url}/local/connect/{account_id}"}

    def retrieve_account(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            found = self.accounts.get(account_id)
            if found is None:
                raise _no_account(account_id)
            return copy.deepcopy(found)

    def account(self, account_id: str) -> dict[str, Any] | None:
        """The account and its latest link's return URL (``_return_url``), or None."""
        with self._lock:
            found = self.accounts.get(account_id)
            if found is None:
                return None
            return {**copy.deepcopy(found), "_return_url": self.account_returns.get(account_id)}

    def finish_onboarding(self, account_id: str, outcome: str, now: int) -> list[dict[str, Any]]:
        """The reader finishing Stripe's onboarding: ``complete`` (details submitted, payouts
        enabled, nothing due) or ``requirements_due`` (submitted, but Stripe wants an identity
        document first: payouts disabled). The ``account.updated`` event Stripe would send
        (a Connect event: it names the ``account``); [] for an unknown account."""
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                return []
            complete = outcome == "complete"
            account.update(details_submitted=True, payouts_enabled=complete,
                           capabilities={"transfers": "active" if complete else "inactive"},
                           requirements=_requirements([], None) if complete else
                           _requirements(["individual.verification.document"], "requirements.past_due"))
            event = _event("account.updated", copy.deepcopy(account), now)
            return [{**event, "account": account_id}]

    # --- payouts: recorded transfers, and the events Stripe would send about them ----------------
    def create_transfer(self, *, amount_minor: int, currency: str, destination: str, payout_id: str,
                        idempotency_key: str) -> dict[str, Any]:
        """Recorded in ``transfers``; the same idempotency key returns the same transfer. A
        destination in ``refused_destinations`` is refused as Stripe refuses an account that
        cannot receive transfers."""
        with self._lock:
            existing = self._by_idempotency_key.get(idempotency_key)
            if existing:
                return dict(self.transfers[existing])
            if destination in self.refused_destinations:
                raise TransferRefused("The payout account cannot receive transfers yet.",
                                      code="account_invalid")
            transfer_id = "tr_local_" + secrets.token_hex(12)
            self.transfers[transfer_id] = {
                "id": transfer_id, "object": "transfer", "amount": amount_minor, "currency": currency,
                "destination": destination, "transfer_group": payout_id, "metadata": {"payoutId": payout_id},
                "created": int(time.time()), "reversed": False, "amount_reversed": 0, "reversals": [],
            }
            self._by_idempotency_key[idempotency_key] = transfer_id
            return dict(self.transfers[transfer_id])

    def find_transfer(self, payout_id: str) -> dict[str, Any] | None:
        with self._lock:
            for transfer in self.transfers.values():
                if transfer["transfer_group"] == payout_id:
                    return dict(transfer)
            return None

    def reverse_transfer(self, transfer_id: str, *, idempotency_key: str) -> dict[str, Any]:
        with self._lock:
            existing = self._by_idempotency_key.get(idempotency_key)
            transfer = self.transfers.get(transfer_id)
            if transfer is None:
                raise DependencyUnavailable(f"The payment provider has no transfer {transfer_id}.",
                                            code="payments_unavailable")
            if existing:
                return {"id": existing, "object": "transfer_reversal", "transfer": transfer_id,
                        "amount": transfer["amount"]}
            reversal_id = "trr_local_" + secrets.token_hex(12)
            transfer.update(reversed=True, amount_reversed=transfer["amount"])
            transfer["reversals"].append(reversal_id)
            self._by_idempotency_key[idempotency_key] = reversal_id
            return {"id": reversal_id, "object": "transfer_reversal", "transfer": transfer_id,
                    "amount": transfer["amount"]}

    def transfer_events(self, transfer_id: str, action: str, now: int) -> list[dict[str, Any]]:
        """The events Stripe would send when a transfer is reversed (``reverse``: from the
        dashboard, ``transfer.reversed``) or when the reader's bank refuses the payout of it
        (``fail_payout``: the connected account's ``payout.failed``, its ``account`` set). None
        when the transfer is unknown or already reversed."""
        with self._lock:
            transfer = self.transfers.get(transfer_id)
            if transfer is None or transfer["reversed"]:
                return []
            if action == "reverse":
                transfer.update(reversed=True, amount_reversed=transfer["amount"])
                transfer["reversals"].append("trr_local_" + secrets.token_hex(12))
                return [_event("transfer.reversed", transfer, now)]
            bank_payout = {"id": "po_local_" + secrets.token_hex(12), "object": "payout",
                           "amount": transfer["amount"], "currency": transfer["currency"], "status": "failed",
                           "failure_code": "account_closed",
                           "failure_message": "The bank account has been closed.", "arrival_date": now}
            return [{**_event("payout.failed", bank_payout, now), "account": transfer["destination"]}]

    def complete(self, session_id: str, outcome: str, now: int) -> list[dict[str, Any]]:
        """The events Stripe would send when the customer pays (``paid``) or the payment
        fails (``failed``), in Stripe's order. The session must be open."""
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session["status"] != "open":
                return []
            suffix = secrets.token_hex(8)
            events: list[dict[str, Any]] = []
            if session["mode"] == "payment":
                session["payment_intent"] = f"pi_local_{suffix}"
                if outcome == "paid":
                    session.update(status="complete", payment_status="paid")
                    events.append(_event("checkout.session.completed", session, now))
                else:
                    session.update(status="complete", payment_status="unpaid")
                    events.append(_event("checkout.session.completed", session, now))
                    events.append(_event("checkout.session.async_payment_failed", session, now))
                return events
            subscription_id = f"sub_local_{suffix}"
            period_end = now + 30 * 24 * 3600
            subscription = {
                "id": subscription_id, "object": "subscription", "customer": f"cus_local_{suffix}",
                "status": "active" if outcome == "paid" else "incomplete", "cancel_at_period_end": False,
                "canceled_at": None, "created": now, "metadata": dict(session["metadata"]),
                "items": {"data": [{"current_period_start": now, "current_period_end": period_end}]},
            }
            self.subscriptions[subscription_id] = subscription
            session.update(status="complete", subscription=subscription_id,
                           payment_status="paid" if outcome == "paid" else "unpaid")
            invoice = {
                "id": f"in_local_{suffix}", "object": "invoice", "billing_reason": "subscription_create",
                "amount_paid": session["amount_total"] if outcome == "paid" else 0,
                "amount_due": session["amount_total"], "currency": session["currency"],
                "status": "paid" if outcome == "paid" else "open", "payment_intent": f"pi_local_{suffix}",
                "parent": {"subscription_details": {"subscription": subscription_id,
                                                    "metadata": dict(session["metadata"])}},
                "period_start": now, "period_end": period_end,
            }
            events.append(_event("checkout.session.completed", session, now))
            events.append(_event("customer.subscription.created", subscription, now))
            events.append(_event("invoice.paid" if outcome == "paid" else "invoice.payment_failed", invoice, now))
            return events


def _no_subscription(subscription_id: str) -> DependencyUnavailable:
    return DependencyUnavailable(f"The payment provider has no subscription {subscription_id}.",
                                 code="payments_unavailable")


# What a new Express account must submit (Stripe's ``requirements.currently_due``, abridged).
LOCAL_ONBOARDING_FIELDS = ("business_type", "external_account", "individual.first_name", "individual.last_name",
                           "tos_acceptance.date", "tos_acceptance.ip")


def _requirements(due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {"currently_due": list(due), "eventually_due": list(due), "past_due": list(due),
            "pending_verification": [], "disabled_reason": disabled_reason}


def _no_account(account_id: str) -> DependencyUnavailable:
    return DependencyUnavailable(f"The payment provider has no account {account_id}.", code="payments_unavailable")


def _event(event_type: str, obj: dict[str, Any], now: int) -> dict[str, Any]:
    return {"id": "evt_local_" + secrets.token_hex(12), "object": "event", "type": event_type,
            "api_version": API_VERSION, "created": now, "livemode": False,
            "data": {"object": dict(obj)}}


@lru_cache(maxsize=1)
def gateway() -> PaymentsGateway:
    settings = get_settings()
    return LocalGateway(settings) if settings.payments_are_local else StripeGateway(settings)
