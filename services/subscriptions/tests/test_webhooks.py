"""Stripe's webhooks (R13): a bad signature is refused and changes nothing; an event is handled once
(replays are duplicates); events late, out of order or about something else change nothing twice,
because the subscription is fetched again from Stripe rather than taken from the event."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from subscriptions_helpers import WEBHOOK_PATH, WEBHOOK_SECRET, Api, assert_problem

from clikopro_chassis.stripe.adapter import StripeUnavailable
from clikopro_stripe_emulator import sign_webhook
from clikopro_stripe_emulator.billing_control import renew_now
from clikopro_subscriptions.adapters.stripe_billing import SdkStripeBilling
from clikopro_subscriptions.service_layer import subscribing


def post_event(
    api: Api,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    tamper: bool = False,
) -> httpx.Response:
    payload = json.dumps(event).encode()
    signature = sign_webhook(payload, secret, timestamp)
    if tamper:
        payload = payload.replace(b"cancel_at_period_end", b"cancel_at_period_End")
    return api.http.post(
        WEBHOOK_PATH,
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def webhooks_off(api: Api) -> None:
    """Stripe's events are kept, not delivered: the test delivers them, in the order it chooses."""
    api.emulator.request("DELETE", "/_config/webhooks")


def stripe_events(api: Api, type_: str) -> list[dict[str, Any]]:
    """Events Stripe emitted, oldest first."""
    return api.stripe_events(type_)


def outcome(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["outcome"]


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(api: Api) -> None:
    pro = api.pro()
    api.subscribe(pro)
    api.settle()
    webhooks_off(api)
    sub_id = api.stripe_subscription(pro)["id"]
    api.stripe.v1.subscriptions.update(sub_id, {"cancel_at_period_end": True})  # renewal off at Stripe
    [event] = stripe_events(api, "customer.subscription.updated")

    for response in (
        api.http.post(WEBHOOK_PATH, json=event),  # no signature
        post_event(api, event, secret="whsec_someone_else"),
        post_event(api, event, tamper=True),
        post_event(api, event, timestamp=int(time.time()) - 600),  # older than the 5-minute tolerance
        api.http.post(
            WEBHOOK_PATH,
            content=b"not json",
            headers={"Stripe-Signature": sign_webhook(b"not json", WEBHOOK_SECRET)},
        ),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["code"] in ("invalid_signature", "validation_error", "malformed_body")
    assert api.mine(pro)["status"] == "active" and api.events("SubscriptionCancelled") == []

    # Signed right, it is applied (Stripe turned renewal off: the dashboard, say), once.
    assert outcome(post_event(api, event)) == "cancel"
    assert api.mine(pro)["status"] == "cancel_pending"
    assert outcome(post_event(api, event)) == "duplicate"
    assert outcome(post_event(api, {**event, "id": f"evt_{uuid.uuid4().hex[:14]}"})) == "unchanged"
    assert len(api.events("SubscriptionCancelled")) == 1
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [
        ("activate", "pro"),
        ("cancel", "stripe"),
    ]


def test_events_late_or_out_of_order_change_nothing_backwards_or_twice(api: Api) -> None:
    pro = api.pro()
    api.subscribe(pro)
    api.settle()
    webhooks_off(api)
    sub_id = api.stripe_subscription(pro)["id"]
    api.stripe.v1.subscriptions.update(sub_id, {"cancel_at_period_end": True})
    api.stripe.v1.subscriptions.update(sub_id, {"cancel_at_period_end": False})
    turned_off, turned_on = stripe_events(api, "customer.subscription.updated")
    assert turned_off["data"]["object"]["cancel_at_period_end"] is True

    assert outcome(post_event(api, turned_on)) == "unchanged"
    # The older event arrives last; what it says is stale: Stripe says renewal is on.
    assert outcome(post_event(api, turned_off)) == "unchanged"
    assert api.mine(pro)["status"] == "active" and api.events("SubscriptionCancelled") == []

    # A renewal's events, delivered newest first, each twice: one renewal.
    seen = {e["id"] for e in api.stripe_events()}
    assert renew_now(api.emulator, sub_id)["outcome"] == "renewed"
    followed = ("invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated")
    renewal = [e for e in reversed(api.stripe_events()) if e["id"] not in seen and e["type"] in followed]
    assert {e["type"] for e in renewal} == set(followed)  # newest first
    outcomes = [outcome(post_event(api, e)) for e in renewal + renewal]
    assert outcomes.count("renew") == 1 and outcomes[len(renewal) :] == ["duplicate"] * len(renewal)
    assert len(api.events("SubscriptionRenewed")) == 1


def test_updated_before_created_records_the_subscription_once(api: Api, monkeypatch) -> None:
    """Stripe's known trap: customer.subscription.updated before .created (here: the request that
    created it died before recording it, and no webhook came yet)."""
    webhooks_off(api)
    pro = api.pro()
    monkeypatch.setattr(subscribing, "_record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("died")))
    assert api.subscribe_raw(pro).status_code == 500
    monkeypatch.undo()
    assert api.entitlements(pro)["plan"] == "free"
    [created] = stripe_events(api, "customer.subscription.created")
    updated = {**created, "id": f"evt_{uuid.uuid4().hex[:14]}", "type": "customer.subscription.updated"}

    assert outcome(post_event(api, updated)) == "activated"
    assert outcome(post_event(api, created)) == "unchanged"
    assert api.entitlements(pro)["plan"] == "pro"
    assert len(api.events("SubscriptionActivated")) == 1


def test_events_about_anything_else_are_ignored(api: Api) -> None:
    pro = api.pro()
    api.subscribe(pro)
    api.settle()
    webhooks_off(api)
    [paid] = stripe_events(api, "payment_intent.succeeded")
    assert outcome(post_event(api, paid)) == "ignored"
    # A subscription someone else made at Stripe (no metadata of ours).
    customer = api.stripe.v1.customers.create({})
    method = api.stripe.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    api.stripe.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"plan": "clikopro_pro_yearly_29900_eur"}],
            "default_payment_method": method.id,
        }
    )
    [foreign] = stripe_events(api, "customer.subscription.created")[-1:]
    assert outcome(post_event(api, foreign)) == "not ours"
    assert len(api.events()) == 1


def test_stripe_unreachable_answers_503_records_nothing_and_the_redelivery_applies(
    api: Api, monkeypatch
) -> None:
    pro = api.pro()
    api.subscribe(pro)
    api.settle()
    webhooks_off(api)
    api.stripe.v1.subscriptions.update(api.stripe_subscription(pro)["id"], {"cancel_at_period_end": True})
    [event] = stripe_events(api, "customer.subscription.updated")

    def down(self, subscription_id):
        raise StripeUnavailable("APIConnectionError: connection refused")

    monkeypatch.setattr(SdkStripeBilling, "retrieve_subscription", down)
    assert_problem(post_event(api, event), 503, "service_unavailable")
    monkeypatch.undo()
    assert api.mine(pro)["status"] == "active"
    assert outcome(post_event(api, event)) == "cancel"  # Stripe sends it again: not a duplicate
    assert api.mine(pro)["status"] == "cancel_pending"
