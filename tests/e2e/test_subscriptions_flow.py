"""A paid plan's life through the gateway, on the processes of ``make run`` (PostgreSQL, RabbitMQ and
the local Stripe emulator the launcher starts), issue 5 / R12 end to end:

subscribe with a card -> SubscriptionActivated -> the gateway lets the pro use Paiement Direct and
appointments, missions lifts the proposal quota -> a renewal paid at Stripe -> SubscriptionRenewed ->
a renewal declined -> past due -> lapsed after the retry window (0 days here) -> SubscriptionLapsed
-> the gateway refuses Paiement Direct (``plan_required``) and missions applies the free quota again.
And renewal turned off -> the plan lapses at the end of the period.

Renewals are made at Stripe by the emulator's ``POST /_config/subscriptions/{id}/renew`` (the
period ends now: charged with the card on file, or ended if renewal is off), with the same webhooks
Stripe sends. Access tokens come from a test issuer whose JWKS every process trusts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clikopro_chassis.testing.queues import take_all, tap
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import parse_event
from clikopro_contracts.testing import assert_like_example
from clikopro_stripe_emulator.billing_control import CARD_CHARGE_FAILS, create_card, renew_now

from .conftest import launcher
from .subscriptions_edge import Edge, ours, plan_required

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

#: A failed renewal lapses at the worker's next run (every second) instead of a week later.
PLATFORM_ENV = {"RETRY_WINDOW_DAYS": "0", "SUBSCRIPTION_JOBS_INTERVAL_SECONDS": "1"}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenFactory]:
    """Created before the platform, whose processes inherit JWKS_URL from the environment."""
    factory = TokenFactory(tmp_path_factory.mktemp("e2e-subscriptions-jwks"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JWKS_URL", factory.jwks_url)
        yield factory
    factory.close()


@pytest.fixture(scope="module")
def platform(issuer: TokenFactory, request: pytest.FixtureRequest) -> Any:
    platform = request.getfixturevalue("servers_platform")
    if not platform.stripe_emulated:
        pytest.skip("needs the local Stripe emulator (STRIPE_API_KEY is set)")
    return platform


@pytest.fixture(scope="module")
def tapped(platform: Any) -> Iterator[Any]:
    """Every event published on the platform's exchange from now on."""
    broker = platform.service_env("identity")["BROKER_URL"]
    seen: list = []
    with tap(
        broker, f"{platform.bus.prefix}.events", f"{platform.bus.prefix}.subscriptions-e2e-tap"
    ) as queue:

        def collect() -> list:
            seen.extend(parse_event(m["body"]) for m in take_all(broker, queue))
            return seen

        yield collect


def test_a_paid_plan_from_subscription_to_lapse_through_the_platform(platform, issuer, tapped) -> None:
    edge = Edge(platform, issuer)
    plans = edge.call("GET", "/api/v1/plans")  # public
    assert plans.status_code == 200 and "pro" in {p["id"] for p in plans.json()["items"]}
    _, client = edge.person("client")
    pro_id, pro = edge.person("pro")
    missions = [edge.mission(client) for _ in range(7)]

    # The free plan: no Paiement Direct, no appointments (refused by the gateway).
    assert plan_required(edge.propose(pro, missions[0], "direct"))
    assert plan_required(edge.availability(pro))
    assert edge.call("GET", "/api/v1/entitlements/me", pro).json()["plan"] == "free"

    subscription = edge.subscribe(pro, create_card(edge.stripe))
    assert subscription["status"] == "active" and subscription["plan"] == "pro"
    wait_until(lambda: [e.type for e in ours(tapped, pro_id)] == ["SubscriptionActivated"], timeout=20,
               message="SubscriptionActivated")  # fmt: skip

    # Paid: Paiement Direct and appointments pass the gateway; the proposal quota is lifted.
    wait_until(lambda: not plan_required(edge.availability(pro)), timeout=10, message="the gateway's plan")
    for index, mission_id in enumerate(missions[:6]):
        answer = edge.propose(pro, mission_id, "direct" if index % 2 == 0 else "secure")
        assert answer.status_code == 201, answer.text  # a 6th proposal this month: beyond the free 5
    wait_until(
        lambda: edge.call("GET", "/api/v1/entitlements/me", pro).json()["proposals_used_this_month"] == 6,
        timeout=20, message="missions' ProposalSubmitted counted by subscriptions",
    )  # fmt: skip

    # A renewal paid at Stripe.
    stripe_id = edge.stripe_subscription_of(pro_id)
    assert renew_now(edge.stripe, stripe_id)["outcome"] == "renewed"
    wait_until(lambda: [e.type for e in ours(tapped, pro_id)][-1:] == ["SubscriptionRenewed"], timeout=20,
               message="SubscriptionRenewed")  # fmt: skip

    # The card on file now fails; the next renewal is declined; the retry window (0 days) ends.
    changed = edge.call("POST", "/api/v1/subscriptions/me/payment-method", pro,
                        json={"payment_method": create_card(edge.stripe, CARD_CHARGE_FAILS)})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert renew_now(edge.stripe, stripe_id)["outcome"] == "payment_failed"
    events = wait_until(
        lambda: (found := ours(tapped, pro_id)) and found[-1].type == "SubscriptionLapsed" and found,
        timeout=20, message="SubscriptionLapsed",
    )  # fmt: skip
    assert [e.type for e in events] == ["SubscriptionActivated", "SubscriptionRenewed", "SubscriptionLapsed"]
    for event in events:
        assert_like_example(event)
    assert events[-1].data["reason"] == "payment_failed" and events[-1].data["plan"] == "free"

    # Lapsed everywhere: the gateway refuses Paiement Direct, missions applies the free quota again.
    wait_until(lambda: plan_required(edge.propose(pro, missions[6], "direct")), timeout=10,
               message="the gateway refusing Paiement Direct")  # fmt: skip
    refused = edge.propose(pro, missions[6], "direct").json()
    assert refused["feature"] == "direct_payment"
    assert plan_required(edge.availability(pro))

    def quota_refused() -> bool:
        answer = edge.propose(pro, missions[6], "secure")
        assert answer.status_code in (201, 429), answer.text
        return answer.status_code == 429 and answer.json()["code"] == "proposal_quota_exceeded"

    wait_until(quota_refused, timeout=10, message="missions' free quota")
    mine = edge.call("GET", "/api/v1/subscriptions/me", pro).json()
    assert (mine["status"], mine["lapse_reason"]) == ("lapsed", "payment_failed")
    entitlements = edge.call("GET", "/api/v1/entitlements/me", pro).json()
    assert (entitlements["plan"], entitlements["proposals_per_month"]) == ("free", 5)
    stripe_status = edge.stripe.request("GET", f"/v1/subscriptions/{stripe_id}")["status"]
    assert stripe_status == "canceled"


def test_renewal_turned_off_lapses_at_the_end_of_the_period(platform, issuer, tapped) -> None:
    edge = Edge(platform, issuer)
    pro_id, pro = edge.person("pro")
    edge.subscribe(pro, create_card(edge.stripe))
    cancelled = edge.call("POST", "/api/v1/subscriptions/me/cancel", pro)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancel_pending", cancelled.text
    wait_until(lambda: not plan_required(edge.availability(pro)), timeout=10, message="still paid")

    # The period ends at Stripe: not renewed, the subscription ends (customer.subscription.deleted).
    assert renew_now(edge.stripe, edge.stripe_subscription_of(pro_id))["outcome"] == "canceled"
    events = wait_until(
        lambda: (found := ours(tapped, pro_id)) and found[-1].type == "SubscriptionLapsed" and found,
        timeout=20, message="SubscriptionLapsed",
    )  # fmt: skip
    assert [e.type for e in events] == [
        "SubscriptionActivated",
        "SubscriptionCancelled",
        "SubscriptionLapsed",
    ]
    assert events[-1].data["reason"] == "not_renewed"
    for event in events:
        assert_like_example(event)
    wait_until(lambda: plan_required(edge.availability(pro)), timeout=10, message="the gateway refusing")


def test_stripe_reaches_subscriptions_and_a_forged_webhook_changes_nothing(platform, issuer) -> None:
    edge = Edge(platform, issuer)
    pro_id, pro = edge.person("pro")
    edge.subscribe(pro, create_card(edge.stripe))
    # Public at the gateway (the signature is the credential), as Stripe calls it.
    url = f"{platform.gateway_url}{launcher.SUBSCRIPTIONS_WEBHOOK_PATH}"
    stripe_id = edge.stripe_subscription_of(pro_id)
    ended = {"id": f"evt_{uuid.uuid4().hex[:14]}", "type": "customer.subscription.deleted",
             "data": {"object": {"id": stripe_id, "object": "subscription"}}}  # fmt: skip
    forged = httpx.post(url, json=ended, headers={"Stripe-Signature": "t=1,v1=00"}, timeout=10)
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_signature"
    assert edge.call("GET", "/api/v1/subscriptions/me", pro).json()["status"] == "active"

    # Every event the emulator sent to subscriptions was accepted (the launcher's endpoint, its secret).
    def delivered() -> list:
        ours = [d for d in edge.stripe.request("GET", "/_config/deliveries")["data"] if d["url"] == url]
        return ours if ours and all(d.get("status") == 200 for d in ours) else []

    assert wait_until(delivered, timeout=10, message="Stripe's deliveries to subscriptions")
