"""The service with its worker on real PostgreSQL and RabbitMQ, Stripe being the emulator: the events
leave through the outbox relay onto the bus (contract-checked), missions' ProposalSubmitted arrives
through the broker (a redelivery counts once), and the worker's own periodic job sends the renewal
notice and lapses a failed renewal when the clock moves a year."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from subscriptions_helpers import CARD_CHARGE_FAILS, WEBHOOK_PATH, WEBHOOK_SECRET, Api, Clock, make_services

from clikopro_chassis import migrations
from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.queues import publish_raw, take_all, tap
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.worker import Worker
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, with_data
from clikopro_stripe_emulator import StripeEmulator
from clikopro_subscriptions.entrypoints.cli import jobs
from clikopro_subscriptions.entrypoints.web import build
from clikopro_subscriptions.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, api: Api, broker_url: str, prefix: str, tapped) -> None:
        self.api = api
        self.broker_url = broker_url
        self.prefix = prefix
        self.tapped = tapped

    def send(self, type_: str, *, event_id: str | None = None, **data) -> None:
        """Publish another service's event on the exchange, as its relay would."""
        message = with_data(example(type_), **data)
        message["id"] = event_id or str(uuid.uuid4())
        publish_raw(self.broker_url, self.prefix, message)


@pytest.fixture
def stack(
    postgres_databases, bus, tmp_path: Path, issuer: TokenFactory, stripe_emulator: StripeEmulator
) -> Iterator[Stack]:
    url = postgres_databases.create(f"subscriptions_worker_{uuid.uuid4().hex[:6]}")
    migrations.upgrade("clikopro_subscriptions", url)
    clock = Clock(stripe_emulator)
    services = make_services(
        url, stripe_emulator, issuer, clock, tmp_path,
        BROKER_URL=bus.broker_url, BUS_PREFIX=bus.prefix, SUBSCRIPTION_JOBS_INTERVAL_SECONDS="1",
        CONSUMER_RETRY_DELAYS_MS="100,200",
    )  # fmt: skip
    bus.topology("subscriptions")
    with tap(bus.broker_url, f"{bus.prefix}.events", f"{bus.prefix}.subscriptions-test-tap") as queue:
        worker = Worker(services.settings, services.database, HANDLERS, services.joined_uow, jobs(services))
        worker.start()
        try:
            assert worker.consumer is not None and worker.consumer.ready.wait(10)
            with serve(build(services)) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
                stripe_emulator.add_webhook("subscriptions-worker", base_url + WEBHOOK_PATH, WEBHOOK_SECRET)
                tapped: list = []

                def collect() -> list:
                    tapped.extend(parse_event(m["body"]) for m in take_all(bus.broker_url, queue))
                    return tapped

                api = Api(http, issuer, services, clock, stripe_emulator, base_url + WEBHOOK_PATH)
                yield Stack(api, bus.broker_url, bus.prefix, collect)
        finally:
            worker.shutdown()


def test_a_year_of_a_subscription_through_the_broker(stack: Stack, wait_until) -> None:
    api = stack.api
    pro = api.pro()
    subscription = api.subscribe(pro)
    end = dt.datetime.fromisoformat(subscription["period_end"].replace("Z", "+00:00"))

    def published(*types: str) -> list | None:
        ours = [
            e for e in stack.tapped() if e.producer == "subscriptions" and e.data["pro_id"] == pro.user_id
        ]
        return ours if [e.type for e in ours] == list(types) else None

    wait_until(
        lambda: published("SubscriptionActivated"), timeout=15, message="SubscriptionActivated on the bus"
    )

    # Missions' proposals arrive through the broker; a redelivered one counts once (the inbox).
    event_id = str(uuid.uuid4())
    submitted_at = api.clock().isoformat()
    stack.send("ProposalSubmitted", event_id=event_id, pro_id=pro.user_id, submitted_at=submitted_at)
    stack.send("ProposalSubmitted", event_id=event_id, pro_id=pro.user_id, submitted_at=submitted_at)
    stack.send("ProposalSubmitted", pro_id=pro.user_id, submitted_at=submitted_at)
    wait_until(
        lambda: api.entitlements(pro)["proposals_used_this_month"] == 2, timeout=15, message="the count"
    )

    # 11 months later the worker's job tells the pro of the renewal; the card on file now fails.
    api.command(pro, "payment-method", json={"payment_method": api.card(CARD_CHARGE_FAILS)})
    api.pass_time(until=end, days=-29)
    wait_until(
        lambda: published("SubscriptionActivated", "RenewalReminderDue"), timeout=15, message="the notice"
    )

    # The renewal fails at Stripe; a week later the worker's job lapses the plan.
    api.pass_time(until=end, seconds=1)
    assert api.mine(pro)["status"] == "past_due"
    api.pass_time(days=7)
    events = wait_until(
        lambda: published("SubscriptionActivated", "RenewalReminderDue", "SubscriptionLapsed"),
        timeout=15, message="SubscriptionLapsed on the bus",
    )  # fmt: skip
    for event in events:
        assert_like_example(event)
    assert events[-1].data["reason"] == "payment_failed" and events[-1].data["plan"] == "free"
    assert api.stripe_subscription(pro)["status"] == "canceled"
