"""Stripe Billing, as the subscriptions service sees it: a port and its adapter on the official SDK.

Failures come in two kinds:

- :class:`StripeRefused`: Stripe answered and did nothing (card declined, unknown payment method,
  invalid request). A new attempt needs a new idempotency key (Stripe replays the first answer).
- :class:`StripeUnavailable`: we do not know what happened (timeout, connection lost, 5xx, rate
  limit, a concurrent request with the same key). Before trying again, ask Stripe.

What is read of Stripe's objects (API 2026-10-28 of stripe-python 16, older shapes accepted too):
the subscription's ``status``, ``cancel_at_period_end``, ``metadata``, its current period from its
item (``items.data[0].current_period_start|end``; the subscription's own fields before API
2025-03-31) and its ``latest_invoice`` (expanded: ``status``, ``amount_paid``); an invoice's
subscription from ``parent.subscription_details.subscription`` (``subscription`` before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from clikopro_chassis.stripe.adapter import (
    StripeAdapter,
    StripeRefused,
    StripeUnavailable,
    get_field,
    object_id,
    plain,
)
from clikopro_subscriptions.domain.billing import StripeInvoice, StripeSubscription
from clikopro_subscriptions.domain.plans import Plan


class StripeBilling(Protocol):
    def construct_event(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...

    def ensure_price(self, plan: Plan) -> None: ...

    def create_customer(self, *, pro_id: str, idempotency_key: str) -> str: ...

    def attach_payment_method(self, payment_method: str, *, customer: str, idempotency_key: str) -> str: ...

    def create_subscription(
        self,
        *,
        customer: str,
        price: str,
        payment_method: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> StripeSubscription: ...

    def retrieve_subscription(self, subscription_id: str) -> StripeSubscription | None: ...

    def find_subscription(
        self, *, customer: str, clikopro_subscription_id: str
    ) -> StripeSubscription | None: ...

    def update_subscription(
        self,
        subscription_id: str,
        *,
        cancel_at_period_end: bool | None = None,
        default_payment_method: str | None = None,
        idempotency_key: str,
    ) -> StripeSubscription: ...

    def cancel_subscription(
        self, subscription_id: str, *, idempotency_key: str
    ) -> StripeSubscription | None: ...

    def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None: ...


def _time(seconds: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def invoice_subscription_id(invoice: Mapping[str, Any]) -> str | None:
    """The subscription an invoice bills (Stripe moved it under ``parent`` in API 2025-03-31)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return object_id(details.get("subscription")) or object_id(invoice.get("subscription"))


def _invoice(value: Any) -> StripeInvoice | None:
    if value is None or isinstance(value, str):
        # Not expanded: known by id only (its status is what matters; callers expand it).
        return (
            None
            if value is None
            else StripeInvoice(id=value, status="unknown", amount_paid=0, currency="EUR")
        )
    return StripeInvoice(
        id=value["id"],
        status=str(get_field(value, "status", "unknown")),
        amount_paid=int(get_field(value, "amount_paid", 0)),
        currency=str(get_field(value, "currency", "eur")).upper(),
        billing_reason=get_field(value, "billing_reason"),
    )


def subscription_of(obj: Any) -> StripeSubscription:
    items = get_field(get_field(obj, "items", {}), "data", []) or []
    first = items[0] if items else {}
    start = get_field(first, "current_period_start") or get_field(obj, "current_period_start")
    end = get_field(first, "current_period_end") or get_field(obj, "current_period_end")
    return StripeSubscription(
        id=obj["id"],
        customer=object_id(get_field(obj, "customer")) or "",
        status=str(obj["status"]),
        cancel_at_period_end=bool(get_field(obj, "cancel_at_period_end", False)),
        period_start=_time(start),
        period_end=_time(end),
        latest_invoice=_invoice(get_field(obj, "latest_invoice")),
        metadata={str(k): str(v) for k, v in dict(plain(get_field(obj, "metadata", {}))).items()},
        default_payment_method=object_id(get_field(obj, "default_payment_method")),
    )


EXPAND = ["latest_invoice"]


class SdkStripeBilling(StripeAdapter):
    """The adapter: ``stripe.StripeClient`` with our key, API base and retry policy."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prices: set[str] = set()

    # -- catalog ----------------------------------------------------------------------------------

    def ensure_price(self, plan: Plan) -> None:
        """Make sure the Stripe product and yearly price of a paid plan exist (created on first use,
        with the catalog's ids, so every process and every run agrees on them)."""
        price = plan.stripe_price
        if price is None or price in self._prices:
            return
        try:
            self._call(self.client.v1.plans.retrieve, price)
        except StripeRefused as exc:
            if exc.status != 404:
                raise
            self._create_price(plan)
        self._prices.add(price)

    def _create_price(self, plan: Plan) -> None:
        assert plan.stripe_product and plan.stripe_price
        try:
            self._call(self.client.v1.products.retrieve, plan.stripe_product)
        except StripeRefused as exc:
            if exc.status != 404:
                raise
            try:
                self._call(
                    self.client.v1.products.create,
                    {"id": plan.stripe_product, "name": f"CLIKOPRO {plan.name}"},
                    {"idempotency_key": f"product:{plan.stripe_product}"},
                )
            except (StripeRefused, StripeUnavailable):
                self._call(self.client.v1.products.retrieve, plan.stripe_product)  # created meanwhile?
        params = {
            "id": plan.stripe_price,
            "amount": plan.price_cents,
            "currency": plan.currency.lower(),
            "interval": plan.interval,
            "product": plan.stripe_product,
            "nickname": f"{plan.name}, 12 mois",
        }
        try:
            self._call(self.client.v1.plans.create, params, {"idempotency_key": f"price:{plan.stripe_price}"})
        except (StripeRefused, StripeUnavailable):
            self._call(self.client.v1.plans.retrieve, plan.stripe_price)  # created meanwhile?

    # -- customers and payment methods ------------------------------------------------------------

    def create_customer(self, *, pro_id: str, idempotency_key: str) -> str:
        obj = self._call(
            self.client.v1.customers.create,
            {"metadata": {"pro_id": pro_id}, "description": f"CLIKOPRO professional {pro_id}"},
            {"idempotency_key": idempotency_key},
        )
        return obj["id"]

    def attach_payment_method(self, payment_method: str, *, customer: str, idempotency_key: str) -> str:
        """Attach a payment method the app created (Stripe's SDK on the device) to the customer; returns
        the attached method's id (a test method such as ``pm_card_visa`` becomes a new one)."""
        obj = self._call(
            self.client.v1.payment_methods.attach,
            payment_method,
            {"customer": customer},
            {"idempotency_key": idempotency_key},
        )
        return obj["id"]

    # -- subscriptions ----------------------------------------------------------------------------

    def create_subscription(
        self,
        *,
        customer: str,
        price: str,
        payment_method: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> StripeSubscription:
        params = {
            "customer": customer,
            # A Plan id is accepted where a Price id is expected; `plan` works with both.
            "items": [{"plan": price}],
            "default_payment_method": payment_method,
            # The first year is paid now or the subscription is not created (402): no half-made state.
            "payment_behavior": "error_if_incomplete",
            "metadata": dict(metadata),
            "expand": EXPAND,
        }
        obj = self._call(self.client.v1.subscriptions.create, params, {"idempotency_key": idempotency_key})
        return subscription_of(obj)

    def retrieve_subscription(self, subscription_id: str) -> StripeSubscription | None:
        try:
            obj = self._call(self.client.v1.subscriptions.retrieve, subscription_id, {"expand": EXPAND})
        except StripeRefused as exc:
            if exc.status == 404:
                return None
            raise
        return subscription_of(obj)

    def find_subscription(self, *, customer: str, clikopro_subscription_id: str) -> StripeSubscription | None:
        """The Stripe subscription an earlier attempt created for ours, if any (asked before trying again
        after an attempt whose outcome is unknown)."""
        listing = self._call(
            self.client.v1.subscriptions.list, {"customer": customer, "status": "all", "limit": 100}
        )
        for obj in listing.data:
            metadata = plain(get_field(obj, "metadata", {}))
            if metadata.get("clikopro_subscription_id") == clikopro_subscription_id:
                return self.retrieve_subscription(obj["id"])
        return None

    def update_subscription(
        self,
        subscription_id: str,
        *,
        cancel_at_period_end: bool | None = None,
        default_payment_method: str | None = None,
        idempotency_key: str,
    ) -> StripeSubscription:
        params: dict[str, Any] = {"expand": EXPAND}
        if cancel_at_period_end is not None:
            params["cancel_at_period_end"] = cancel_at_period_end
        if default_payment_method is not None:
            params["default_payment_method"] = default_payment_method
        obj = self._call(
            self.client.v1.subscriptions.update, subscription_id, params, {"idempotency_key": idempotency_key}
        )
        return subscription_of(obj)

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> StripeSubscription | None:
        """End it now (no more charges, no more retries of its open invoice)."""
        try:
            self._call(
                self.client.v1.subscriptions.cancel, subscription_id, {}, {"idempotency_key": idempotency_key}
            )
        except StripeRefused as exc:
            if exc.status not in (400, 404):
                raise
            # Already canceled (or gone): fetch what it is now.
        return self.retrieve_subscription(subscription_id)

    def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        self._call(self.client.v1.invoices.pay, invoice_id, {}, {"idempotency_key": idempotency_key})
