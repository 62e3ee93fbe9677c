"""Subscribing (R12) through the API, with the real stripe SDK against the Stripe emulator: the plan,
the first year charged, SubscriptionActivated once, the entitlements; declines, authorisation,
Idempotency-Key, racing copies, a request that dies half-way."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
from subscriptions_helpers import CARD_CHARGE_FAILS, CARD_DECLINED, Api, assert_problem

from clikopro_chassis.stripe.adapter import StripeUnavailable
from clikopro_contracts.testing import assert_like_example
from clikopro_subscriptions.adapters.stripe_billing import SdkStripeBilling
from clikopro_subscriptions.service_layer import subscribing

PAID_FEATURES = ["direct_payment", "appointments", "unlimited_proposals"]


def stripe_subscriptions_of(api: Api, pro) -> list[dict]:
    return [
        s.to_dict()
        for s in api.stripe.v1.subscriptions.list({"status": "all", "limit": 100}).data
        if s["metadata"].to_dict().get("pro_id") == pro.user_id
    ]


def test_the_plans_are_public_and_are_the_catalog(api: Api) -> None:
    response = api.get(None, "/api/v1/plans")
    assert response.status_code == 200, response.text
    plans = {p["id"]: p for p in response.json()["items"]}
    assert plans["free"] == {
        "id": "free", "name": "Gratuit", "price_cents": 0, "currency": "EUR", "interval": "year",
        "features": [], "proposals_per_month": 5, "commission_rate_bps": 800,
    }  # fmt: skip
    assert plans["pro"]["price_cents"] == 29900 and plans["pro"]["features"] == PAID_FEATURES
    assert plans["pro"]["proposals_per_month"] is None


def test_a_pro_subscribes_with_a_card_pays_the_year_and_gets_the_paid_plan(api: Api) -> None:
    pro = api.pro()
    before = api.entitlements(pro)
    assert (before["plan"], before["features"], before["proposals_per_month"]) == ("free", [], 5)
    assert before["status"] == "free" and before["renews"] is False
    assert_problem(api.get(pro, "/api/v1/subscriptions/me"), 404, "not_found")
    assert api.internal(f"/internal/entitlements/{pro.user_id}").status_code == 404  # the gateway's "free"

    subscription = api.subscribe(pro)

    assert subscription["plan"] == "pro" and subscription["status"] == "active" and subscription["renews"]
    assert subscription["price_cents"] == 29900 and subscription["renews_at"] == subscription["period_end"]
    at_stripe = api.stripe_subscription(pro)
    assert at_stripe["status"] == "active" and at_stripe["cancel_at_period_end"] is False
    assert at_stripe["metadata"] == {
        "clikopro_subscription_id": subscription["id"],
        "pro_id": pro.user_id,
        "plan": "pro",
    }
    invoice = api.stripe.v1.invoices.retrieve(at_stripe["latest_invoice"])
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 29900)
    item = at_stripe["items"]["data"][0]
    assert item["plan"]["id"] == "clikopro_pro_yearly_29900_eur" and item["plan"]["interval"] == "year"
    assert item["current_period_end"] - item["current_period_start"] in (365 * 86400, 366 * 86400)

    [activated] = api.events("SubscriptionActivated")
    assert_like_example(activated)
    assert activated.data | {"effective_at": None} == {
        "subscription_id": subscription["id"], "pro_id": pro.user_id, "plan": "pro",
        "features": PAID_FEATURES, "proposals_per_month": None, "commission_rate_bps": 500,
        "period_start": subscription["period_start"], "period_end": subscription["period_end"],
        "effective_at": None,
    }  # fmt: skip

    after = api.entitlements(pro)
    assert (
        after["plan"] == "pro" and after["features"] == PAID_FEATURES and after["proposals_per_month"] is None
    )
    assert after["renews"] and after["period_end"] == subscription["period_end"]
    internal = api.internal(f"/internal/entitlements/{pro.user_id}").json()
    assert internal["plan"] == "pro" and internal["features"] == PAID_FEATURES
    assert internal["effective_at"] == activated.data["effective_at"]
    assert internal["period_end"] == subscription["period_end"]
    # Only the gateway, which holds the internal secret, reads it: not the pro, not a guess.
    for headers in ({**pro.headers}, {"X-Internal-Token": "guess"}):
        refused = api.http.get(f"/internal/entitlements/{pro.user_id}", headers=headers)
        assert_problem(refused, 401, "unauthenticated")

    # Stripe's webhooks about it (created, invoice paid...) arrive afterwards and change nothing.
    api.settle()
    assert len(api.events()) == 1
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [("activate", "pro")]


def test_a_declined_card_subscribes_nothing_and_another_card_then_does(api: Api) -> None:
    pro = api.pro()
    declined = assert_problem(api.subscribe_raw(pro, card=api.card(CARD_DECLINED)), 402, "payment_failed")
    assert declined["decline_code"] == "card_declined"
    # Attached fine, but the first year's charge fails: Stripe creates no subscription either.
    assert_problem(api.subscribe_raw(pro, card=api.card(CARD_CHARGE_FAILS)), 402, "payment_failed")
    assert stripe_subscriptions_of(api, pro) == []
    assert api.entitlements(pro)["plan"] == "free" and api.events() == []
    assert_problem(api.subscribe_raw(pro, card="pm_unknown_card"), 422, "validation_error")

    subscription = api.subscribe(pro)
    assert [s["id"] for s in stripe_subscriptions_of(api, pro)] == [api.stripe_subscription(pro)["id"]]
    api.settle()
    [activated] = api.events("SubscriptionActivated")
    assert activated.data["subscription_id"] == subscription["id"]


def test_only_a_professional_subscribes_and_only_to_a_paid_plan_once(api: Api) -> None:
    client = api.person("client")
    assert_problem(api.subscribe_raw(client), 403, "forbidden")
    assert_problem(api.get(client, "/api/v1/entitlements/me"), 403, "forbidden")
    assert_problem(api.post(None, "/api/v1/subscriptions", {"plan": "pro", "payment_method": "pm_card_visa"}),
                   401, "unauthenticated")  # fmt: skip
    pro = api.pro()
    assert (
        assert_problem(api.subscribe_raw(pro, plan="free"), 422, "validation_error")["errors"][0]["field"]
        == "plan"
    )
    assert_problem(api.subscribe_raw(pro, plan="gold"), 422, "validation_error")
    assert (
        api.post(
            pro, "/api/v1/subscriptions", {"plan": "pro", "payment_method": "4242424242424242"}
        ).status_code
        == 400
    )
    assert api.post(pro, "/api/v1/subscriptions", {"plan": "pro"}).status_code == 400
    assert (
        api.post(
            pro, "/api/v1/subscriptions", {"plan": "pro", "payment_method": "pm_x", "price_cents": 1}
        ).status_code
        == 400
    )

    api.subscribe(pro)
    conflict = assert_problem(api.subscribe_raw(pro, plan="premium"), 409, "conflict")
    assert conflict["subscription_id"] == api.mine(pro)["id"]
    other = api.pro()
    assert_problem(api.get(other, "/api/v1/subscriptions/me"), 404, "not_found")  # nobody sees another's
    assert_problem(api.command(other, "cancel"), 404, "not_found")
    assert len(stripe_subscriptions_of(api, pro)) == 1


def test_the_same_idempotency_key_subscribes_once_and_answers_the_same(api: Api) -> None:
    pro = api.pro()
    body = {"plan": "pro", "payment_method": api.card()}
    headers = {"Idempotency-Key": f"subscribe-{uuid.uuid4()}"}
    first = api.post(pro, "/api/v1/subscriptions", body, headers=headers)
    again = api.post(pro, "/api/v1/subscriptions", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert_problem(api.post(pro, "/api/v1/subscriptions", {**body, "plan": "premium"}, headers=headers),
                   422, "idempotency_key_reused")  # fmt: skip
    assert len(stripe_subscriptions_of(api, pro)) == 1 and len(api.events("SubscriptionActivated")) == 1


def test_racing_requests_of_one_pro_charge_once(api: Api) -> None:
    pro = api.pro()
    cards = [api.card() for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda card: api.subscribe_raw(pro, card=card), cards))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, [a.text for a in answers]
    api.settle()
    assert len(stripe_subscriptions_of(api, pro)) == 1 and len(api.events("SubscriptionActivated")) == 1


def test_a_request_that_dies_after_stripe_is_completed_by_the_webhook(api: Api, monkeypatch) -> None:
    """The subscription was created and paid at Stripe, then the request died before recording it:
    customer.subscription.created records it (order-proof activation), once."""
    pro = api.pro()

    def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(subscribing, "_record", crash)
    assert api.subscribe_raw(pro).status_code == 500
    api.settle()
    monkeypatch.undo()
    entitlements = api.entitlements(pro)
    assert entitlements["plan"] == "pro" and entitlements["status"] == "active"
    [activated] = api.events("SubscriptionActivated")
    assert (
        activated.data["subscription_id"]
        == api.stripe_subscription(pro)["metadata"]["clikopro_subscription_id"]
    )
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [("activate", "stripe")]
    assert_problem(api.subscribe_raw(pro), 409, "conflict")  # and no second subscription
    assert len(stripe_subscriptions_of(api, pro)) == 1


def test_an_attempt_without_answer_is_looked_up_at_stripe_before_another(api: Api, monkeypatch) -> None:
    """Stripe created the subscription but the answer was lost (timeout): the retry finds it by our id
    instead of charging the pro a second time."""
    api.emulator.request("DELETE", "/_config/webhooks")  # no webhook to the rescue: the lookup must do it
    pro = api.pro()
    real = SdkStripeBilling.create_subscription

    def lost_answer(self, **kwargs):
        real(self, **kwargs)
        raise StripeUnavailable("Timeout: the answer never came")

    monkeypatch.setattr(SdkStripeBilling, "create_subscription", lost_answer)
    assert_problem(api.subscribe_raw(pro), 503, "service_unavailable")
    monkeypatch.undo()
    subscription = api.subscribe(pro, card=api.card())
    [at_stripe] = stripe_subscriptions_of(api, pro)
    assert at_stripe["metadata"]["clikopro_subscription_id"] == subscription["id"]
    assert len(api.events("SubscriptionActivated")) == 1


@pytest.mark.parametrize("route", ["cancel", "resume", "payment-method"])
def test_commands_on_a_subscription_need_one(api: Api, route: str) -> None:
    pro = api.pro()
    body = {"json": {"payment_method": "pm_card_visa"}} if route == "payment-method" else {}
    assert_problem(api.command(pro, route, **body), 404, "not_found")
    assert_problem(api.command(api.person("client"), route, **body), 403, "forbidden")
