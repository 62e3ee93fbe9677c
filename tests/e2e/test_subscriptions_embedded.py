"""A paid plan through the gateway on both runs of ``make run``: the embedded default (SQLite files,
the filesystem broker) and PostgreSQL + RabbitMQ, with the local Stripe emulator: subscribe ->
the gateway lets Paiement Direct through -> the renewal is declined -> past due -> lapsed (retry
window 0 days here) -> the gateway refuses Paiement Direct again. The fuller story, on PostgreSQL and
RabbitMQ only, is test_subscriptions_flow.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import parse_event
from clikopro_contracts.testing import assert_like_example
from clikopro_stripe_emulator.billing_control import CARD_CHARGE_FAILS, create_card, renew_now

from .subscriptions_edge import Edge, plan_required

pytestmark = pytest.mark.e2e


@pytest.fixture
def issuer(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TokenFactory]:
    """Requested before ``platform``: its processes inherit this environment."""
    factory = TokenFactory(tmp_path_factory.mktemp("e2e-jwks"))
    monkeypatch.setenv("JWKS_URL", factory.jwks_url)
    monkeypatch.setenv("RETRY_WINDOW_DAYS", "0")
    monkeypatch.setenv("SUBSCRIPTION_JOBS_INTERVAL_SECONDS", "1")
    yield factory
    factory.close()


def test_subscribe_then_a_declined_renewal_lapses_the_plan_everywhere(issuer: TokenFactory, platform) -> None:
    if not platform.stripe_emulated:
        pytest.skip("needs the local Stripe emulator (STRIPE_API_KEY is set)")
    edge = Edge(platform, issuer)
    pro_id, pro = edge.person("pro")
    _, client = edge.person("client")
    mission = edge.mission(client)
    assert plan_required(edge.propose(pro, mission, "direct"))

    edge.subscribe(pro, create_card(edge.stripe))
    wait_until(
        lambda: not plan_required(edge.availability(pro)), timeout=15, message="the paid plan at the edge"
    )
    changed = edge.call("POST", "/api/v1/subscriptions/me/payment-method", pro,
                        json={"payment_method": create_card(edge.stripe, CARD_CHARGE_FAILS)})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert renew_now(edge.stripe, edge.stripe_subscription_of(pro_id))["outcome"] == "payment_failed"

    wait_until(lambda: edge.call("GET", "/api/v1/subscriptions/me", pro).json()["status"] == "lapsed",
               timeout=20, message="the lapse")  # fmt: skip
    wait_until(
        lambda: plan_required(edge.propose(pro, mission, "direct")), timeout=15, message="the free plan"
    )
    events = [parse_event(m["body"]) for m in platform.tapped()]
    ours = [e for e in events if e.producer == "subscriptions"]
    assert [e.type for e in ours] == ["SubscriptionActivated", "SubscriptionLapsed"]
    for event in ours:
        assert_like_example(event)
