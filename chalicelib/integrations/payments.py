"""The payments gateway: Stripe in the cloud stages, a local stand-in on the embedded default.

Both speak Stripe's object shapes (plain dicts) so the services above them cannot tell
them apart. The stripe package is imported only when a call needs Stripe's API (checkout,
subscription fetch/cancel, refund listing), never on the webhook request path.
"""

from __future__ import annotations

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


class PaymentsGateway(Protocol):
    def create_checkout(self, *, mode: str, item: LineItem, metadata: dict[str, str], customer_email: str | None,
                        success_url: str, cancel_url: str, idempotency_key: str,
                        trial_days: int = 0) -> dict[str, Any]: ...

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]: ...

    def cancel_at_period_end(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]: ...

    def list_refunds(self, charge_id: str) -> list[dict[str, Any]]: ...

    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any]: ...


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
        self._by_idempotency_key: dict[str, str] = {}

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


def _event(event_type: str, obj: dict[str, Any], now: int) -> dict[str, Any]:
    return {"id": "evt_local_" + secrets.token_hex(12), "object": "event", "type": event_type,
            "api_version": API_VERSION, "created": now, "livemode": False,
            "data": {"object": dict(obj)}}


@lru_cache(maxsize=1)
def gateway() -> PaymentsGateway:
    settings = get_settings()
    return LocalGateway(settings) if settings.payments_are_local else StripeGateway(settings)
