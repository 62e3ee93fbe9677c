"""On PostgreSQL and RabbitMQ, with the payments worker running (consumer, relay, money jobs) and
the real SDK against the Stripe emulator: events arrive from the bus as the other services send
them, redelivered copies included, racing releases make one transfer and racing reminder passes
one reminder."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from payments_helpers import WEBHOOK_SECRET, Platform, payments_settings
from sqlalchemy import text

from clikopro_chassis import migrations
from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.queues import publish_raw
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.worker import Worker
from clikopro_contracts import Event
from clikopro_contracts.testing import assert_like_example, wire
from clikopro_payments.bootstrap import Services, bootstrap
from clikopro_payments.entrypoints.cli import jobs
from clikopro_payments.entrypoints.web import build
from clikopro_payments.service_layer import money
from clikopro_payments.service_layer.handlers import HANDLERS
from clikopro_stripe_emulator import StripeEmulator

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_platform(
    postgres_databases, bus, stripe_emulator: StripeEmulator, tokens: TokenFactory, tmp_path: Path
) -> Iterator[Platform]:
    url = postgres_databases.create(f"payments_{uuid.uuid4().hex[:6]}")
    migrations.upgrade("clikopro_payments", url)
    settings = payments_settings(
        url,
        stripe_emulator,
        tokens.jwks_url,
        BROKER_URL=bus.broker_url,
        BUS_PREFIX=bus.prefix,
        MONEY_JOB_INTERVAL_MS="200",
        CONSUMER_RETRY_DELAYS_MS="100,200",
    )
    bus.topology("payments")
    svc: Services = bootstrap(settings)
    with serve(build(svc)) as base_url:
        stripe_emulator.add_webhook(
            "payments", f"{base_url}/api/v1/payments/webhooks/stripe", WEBHOOK_SECRET, connect=None
        )
        yield Platform(svc, stripe_emulator, tokens, base_url)
    svc.database.dispose()


def send(platform: Platform, event: Event) -> None:
    """Put the event on the exchange as its producer's relay does."""
    settings = platform.svc.settings
    publish_raw(settings.broker_url, settings.bus_prefix, wire(event), routing_key=event.routing_key)


def test_secure_flow_through_rabbitmq_and_postgresql_with_redeliveries(pg_platform: Platform) -> None:
    platform = pg_platform
    svc = platform.svc
    worker = Worker(svc.settings, svc.database, HANDLERS, svc.joined_uow, jobs(svc))
    worker.start()
    try:
        assert worker.consumer is not None and worker.consumer.ready.wait(10)
        mission = platform.new_mission([33_333, 33_333, 33_334])
        accepted = platform.accepted(mission)
        for _ in range(2):  # a redelivered copy too
            send(platform, accepted)
        platform.wait(
            lambda: (
                platform.get(f"/api/v1/missions/{mission.mission_id}/payment", mission.client_id).status_code
                == 200
            )
        )
        platform.pay(mission)
        platform.onboard(mission.pro_id)
        for n in range(3):
            validated = platform.task_validated(mission, n)
            for _ in range(3):  # redelivered three times
                send(platform, validated)
        platform.wait(lambda: platform.payment(mission)["status"] == "completed", "all released", timeout=20)
        released = platform.events("FundsReleased")
        assert len(released) == 3
        for e in released:
            assert_like_example(e)
        view = platform.payment(mission)
        assert view["released_cents"] + view["commission_taken_cents"] == view["captured_cents"] == 100_000
        assert view["commission_taken_cents"] == 5_000
        assert sorted(t.amount for t in platform.transfers(mission)) == sorted(
            e.data["net_cents"] for e in released
        )
        # The relay published what the service wrote (PaymentSecured and the three releases).
        platform.wait(lambda: _all_published(svc), "outbox relayed")
    finally:
        worker.shutdown()


def _all_published(svc: Services) -> bool:
    with svc.database.session() as session:
        return (
            session.execute(
                text("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
            ).scalar_one()
            == 0
        )


def test_twenty_racing_release_attempts_on_postgresql_make_one_transfer(pg_platform: Platform) -> None:
    platform = pg_platform
    mission = platform.accept([77_777])
    platform.pay(mission)
    platform.onboard(mission.pro_id)
    platform.validate(mission, 0)
    [release] = platform.releases(mission).values()
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        barrier.wait()
        outcomes.append(money.process_release(platform.svc, release["id"]))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("released") == 1, outcomes
    [transfer] = platform.transfers(mission)
    assert transfer.amount == 77_777 - 77_777 * 500 // 10_000
    assert len(platform.events("FundsReleased")) == 1


def test_racing_onboarding_reminder_passes_on_postgresql_remind_once(pg_platform: Platform) -> None:
    platform = pg_platform
    started = platform.accept([12_345])  # a pro who started onboarding and left it there
    never = platform.accept([6_789])  # a pro who never started it
    for mission in (started, never):
        platform.pay(mission)
        platform.validate(mission, 0)
    response = platform.post("/api/v1/payments/onboarding", started.pro_id, "pro")
    assert response.status_code == 200, response.text
    money.dispatch_releases(platform.svc)
    reminded: list[int] = []
    barrier = threading.Barrier(8)

    def remind() -> None:
        barrier.wait()
        reminded.append(money.remind_onboarding(platform.svc))

    threads = [threading.Thread(target=remind) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The passes read "not reminded yet" before any of them recorded it: the conditional upsert
    # lets exactly one record each pro's reminder and publish its event, account or not.
    assert sum(reminded) == 2, reminded
    due = [
        (e.data["pro_id"], e.data["waiting_cents"]) for e in platform.events("PayoutOnboardingReminderDue")
    ]
    assert sorted(due) == sorted([(str(started.pro_id), 12_345), (str(never.pro_id), 6_789)])
    assert platform.reminder_row(started.pro_id)["reminders"] == 1
    assert platform.reminder_row(never.pro_id)["reminders"] == 1
    assert platform.account_row(never.pro_id) is None
