"""The Stripe emulator's Billing (tools/stripe-emulator, billing.py) behaves as Stripe does where the
subscriptions service relies on it, seen through the real ``stripe`` SDK: default payment method,
``error_if_incomplete``, periods on the items, renewals when its clock passes a period's end (paid,
declined: ``past_due``; renewal off: the end), paying an open invoice, and the signed webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from clikopro_chassis.testing.waiting import wait_until
from clikopro_stripe_emulator import StripeEmulator
from clikopro_stripe_emulator.billing_control import (
    CARD_CHARGE_FAILS,
    create_card,
    renew_now,
    run_renewals,
)
from clikopro_stripe_emulator.process import EmulatorError

PRICE = "price_test_yearly"
SECRET = "whsec_billing_emulator_test"
YEAR = 365 * 86400


class Receiver:
    """A webhook endpoint that verifies Stripe's signature with the SDK and keeps the events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                event = stripe.Webhook.construct_event(payload, self.headers["Stripe-Signature"], SECRET)
                receiver.events.append(event.to_dict())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    def wait_for(self, type_: str, count: int = 1) -> list[dict[str, Any]]:
        return wait_until(lambda: len(self.of(type_)) >= count and self.of(type_), timeout=10, message=type_)


@pytest.fixture
def receiver(stripe_emulator: StripeEmulator) -> Iterator[Receiver]:
    found = Receiver()
    stripe_emulator.add_webhook("billing-test", found.url, SECRET)
    yield found
    found.server.shutdown()


@pytest.fixture
def customer(stripe_client, stripe_emulator: StripeEmulator) -> tuple[str, str]:
    """A customer with a card attached, and the yearly price."""
    stripe_client.v1.products.create({"id": "prod_test", "name": "Pro"})
    stripe_client.v1.plans.create(
        {"id": PRICE, "amount": 29900, "currency": "eur", "interval": "year", "product": "prod_test"}
    )
    created = stripe_client.v1.customers.create({})
    card = stripe_client.v1.payment_methods.attach(create_card(stripe_emulator), {"customer": created.id})
    return created.id, card.id


def subscribe(client, customer: str, card: str, **extra: Any) -> Any:
    params = {"customer": customer, "items": [{"plan": PRICE}], "default_payment_method": card,
              "payment_behavior": "error_if_incomplete", "expand": ["latest_invoice"], **extra}  # fmt: skip
    return client.v1.subscriptions.create(params)


def period(subscription: Any) -> tuple[int, int]:
    item = subscription["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def test_a_subscription_charges_its_default_payment_method_and_has_its_period_on_its_item(
    stripe_client, stripe_emulator, customer, receiver
) -> None:
    customer_id, card = customer
    subscription = subscribe(stripe_client, customer_id, card, metadata={"ours": "1"})
    assert subscription.status == "active" and subscription.default_payment_method == card
    start, end = period(subscription)
    assert end - start in (YEAR, YEAR + 86400) and subscription["current_period_end"] == end
    invoice = subscription.latest_invoice
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        29900,
        "subscription_create",
    )
    assert invoice["parent"]["subscription_details"]["subscription"] == subscription.id
    created = receiver.wait_for("customer.subscription.created")[0]
    assert created["data"]["object"]["metadata"] == {"ours": "1"}
    receiver.wait_for("invoice.paid")

    # A payment method that is not the customer's is refused, as on Stripe.
    stranger = stripe_client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError):
        subscribe(stripe_client, stranger.id, card)
    with pytest.raises(stripe.InvalidRequestError):
        subscribe(stripe_client, stranger.id, "pm_card_visa")  # not attached either


def test_error_if_incomplete_refuses_a_first_payment_that_fails_and_leaves_nothing(
    stripe_client, stripe_emulator, customer
) -> None:
    customer_id, _ = customer
    failing = stripe_client.v1.payment_methods.attach(
        create_card(stripe_emulator, CARD_CHARGE_FAILS), {"customer": customer_id}
    )
    with pytest.raises(stripe.CardError) as refused:
        subscribe(stripe_client, customer_id, failing.id)
    assert refused.value.http_status == 402 and refused.value.code == "card_declined"
    assert stripe_client.v1.subscriptions.list({"customer": customer_id, "status": "all"}).data == []


def test_moving_the_clock_renews_at_the_end_of_the_period_and_sends_the_webhooks(
    stripe_client, stripe_emulator, customer, receiver
) -> None:
    customer_id, card = customer
    subscription = subscribe(stripe_client, customer_id, card)
    _, end = period(subscription)
    stripe_emulator.advance_clock(end - time.time() - 60)
    assert run_renewals(stripe_emulator) == []  # not due yet
    stripe_emulator.advance_clock(120)  # no call: the emulator's background task renews it

    updated = receiver.wait_for("customer.subscription.updated")[0]["data"]["object"]
    renewed = stripe_client.v1.subscriptions.retrieve(subscription.id, {"expand": ["latest_invoice"]})
    assert renewed.status == "active" and period(renewed) == (end, period(updated)[1])
    assert period(renewed)[0] == end and period(renewed)[1] - end in (YEAR, YEAR + 86400)
    assert renewed.latest_invoice.billing_reason == "subscription_cycle"
    assert renewed.latest_invoice.amount_paid == 29900
    paid = receiver.wait_for("invoice.paid", 2)[-1]["data"]["object"]
    assert paid["id"] == renewed.latest_invoice.id and paid["billing_reason"] == "subscription_cycle"


def test_a_declined_renewal_is_past_due_and_paying_the_invoice_makes_it_active(
    stripe_client, stripe_emulator, customer, receiver
) -> None:
    customer_id, card = customer
    subscription = subscribe(stripe_client, customer_id, card)
    failing = stripe_client.v1.payment_methods.attach(
        create_card(stripe_emulator, CARD_CHARGE_FAILS), {"customer": customer_id}
    )
    stripe_client.v1.subscriptions.update(subscription.id, {"default_payment_method": failing.id})
    assert receiver.wait_for("customer.subscription.updated")

    assert renew_now(stripe_emulator, subscription.id)["outcome"] == "payment_failed"
    past_due = stripe_client.v1.subscriptions.retrieve(subscription.id, {"expand": ["latest_invoice"]})
    assert past_due.status == "past_due" and past_due.latest_invoice.status == "open"
    assert (
        receiver.wait_for("invoice.payment_failed")[0]["data"]["object"]["id"] == past_due.latest_invoice.id
    )
    with pytest.raises(stripe.CardError):
        stripe_client.v1.invoices.pay(past_due.latest_invoice.id)  # still the failing card: 402

    stripe_client.v1.subscriptions.update(subscription.id, {"default_payment_method": card})
    paid = stripe_client.v1.invoices.pay(past_due.latest_invoice.id)
    assert paid.status == "paid"
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    receiver.wait_for("invoice.paid", 2)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.invoices.pay(past_due.latest_invoice.id)  # already paid


def test_renewal_off_ends_the_subscription_at_the_end_of_the_period(
    stripe_client, stripe_emulator, customer, receiver
) -> None:
    customer_id, card = customer
    subscription = subscribe(stripe_client, customer_id, card)
    _, end = period(subscription)
    stripe_client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True})
    stripe_emulator.advance_clock(end - time.time() + 1)
    run_renewals(stripe_emulator)
    ended = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert ended.status == "canceled" and ended.ended_at == end
    deleted = receiver.wait_for("customer.subscription.deleted")[0]["data"]["object"]
    assert deleted["status"] == "canceled"
    assert len(stripe_client.v1.invoices.list({"subscription": subscription.id}).data) == 1  # never renewed
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": False})
    with pytest.raises(EmulatorError) as refused:
        renew_now(stripe_emulator, subscription.id)
    assert refused.value.status == 400
    # Canceling again changes nothing and sends nothing more.
    assert stripe_client.v1.subscriptions.cancel(subscription.id).status == "canceled"
    time.sleep(0.3)
    assert len(receiver.of("customer.subscription.deleted")) == 1


def test_renew_now_ends_the_period_now_with_the_card_on_file(
    stripe_client, stripe_emulator, customer
) -> None:
    customer_id, card = customer
    subscription = subscribe(stripe_client, customer_id, card)
    answer = renew_now(stripe_emulator, subscription.id)
    assert answer["outcome"] == "renewed" and answer["subscription"]["status"] == "active"
    invoices = stripe_client.v1.invoices.list({"subscription": subscription.id}).data
    assert sorted(i.billing_reason for i in invoices) == ["subscription_create", "subscription_cycle"]
    assert json.dumps(answer)  # plain JSON, for scripts
