"""The service with its worker on real PostgreSQL and RabbitMQ: other services' events arrive through
the broker, our events leave through the outbox relay in order, and the scheduled job validates
unanswered tasks when the clock moves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from missions_helpers import Api, Clock, make_services

from clikopro_chassis import migrations
from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.queues import publish_raw, take_all, tap
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.worker import Worker
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, with_data
from clikopro_missions.entrypoints.cli import jobs
from clikopro_missions.entrypoints.web import build
from clikopro_missions.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, api: Api, broker_url: str, prefix: str, tapped) -> None:
        self.api = api
        self.broker_url = broker_url
        self.prefix = prefix
        self.tapped = tapped

    def send(self, type_: str, **data) -> None:
        """Publish another service's event on the exchange, as its relay would."""
        message = with_data(example(type_), **data)
        message["id"] = str(uuid.uuid4())
        publish_raw(self.broker_url, self.prefix, message)


@pytest.fixture
def stack(postgres_databases, bus, tmp_path: Path, issuer: TokenFactory) -> Iterator[Stack]:
    url = postgres_databases.create(f"missions_worker_{uuid.uuid4().hex[:6]}")
    migrations.upgrade("clikopro_missions", url)
    clock = Clock()
    services = make_services(
        url, tmp_path, issuer, clock,
        BROKER_URL=bus.broker_url, BUS_PREFIX=bus.prefix, TASK_DEADLINES_INTERVAL_SECONDS="1",
        CONSUMER_RETRY_DELAYS_MS="100,200",
    )  # fmt: skip
    bus.topology("missions")
    with tap(bus.broker_url, f"{bus.prefix}.events", f"{bus.prefix}.missions-test-tap") as queue:
        worker = Worker(services.settings, services.database, HANDLERS, services.joined_uow, jobs(services))
        worker.start()
        try:
            assert worker.consumer is not None and worker.consumer.ready.wait(10)
            with serve(build(services)) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
                tapped: list = []

                def collect() -> list:
                    tapped.extend(parse_event(m["body"]) for m in take_all(bus.broker_url, queue))
                    return tapped

                yield Stack(Api(http, issuer, services, clock), bus.broker_url, bus.prefix, collect)
        finally:
            worker.shutdown()


def test_plans_payments_and_the_delay_through_the_broker_to_missioncompleted(
    stack: Stack, wait_until
) -> None:
    api = stack.api
    client, pro = api.client(), api.pro()
    missions = [api.publish(client) for _ in range(7)]
    proposals = [api.propose(pro, m["id"]) for m in missions[:5]]
    assert api.propose_raw(pro, missions[5]["id"]).status_code == 429  # free plan: 5 a month

    # Subscriptions says the pro is on a paid plan: the quota is lifted without any call.
    stack.send("SubscriptionActivated", pro_id=pro.user_id, effective_at="2026-03-10T08:00:00Z")
    wait_until(lambda: api.propose_raw(pro, missions[5]["id"]).status_code == 201, timeout=15,
               message="the plan projection")  # fmt: skip
    assert api.propose_raw(pro, missions[6]["id"]).status_code == 201

    # The client accepts a Secure proposal; payments confirms through the broker.
    mission_id = missions[0]["id"]
    rival = api.propose(api.pro(), mission_id)
    assert api.accept(client, proposals[0]["id"])["status"] == "awaiting_payment"
    stack.send("PaymentSecured", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id)
    wait_until(lambda: api.get(client, f"/api/v1/missions/{mission_id}").json()["status"] == "in_progress",
               timeout=15, message="the payment")  # fmt: skip

    # The pro submits every task; the client never answers; the worker's job validates them.
    for task in api.tasks(pro, mission_id):
        assert api.task_command(pro, mission_id, task["id"], "submit").status_code == 200
    api.clock.advance(days=14)
    wait_until(lambda: api.get(client, f"/api/v1/missions/{mission_id}").json()["status"] == "completed",
               timeout=15, message="the auto-validation job")  # fmt: skip

    def relayed() -> list | None:
        ours = [
            e for e in stack.tapped() if e.producer == "missions" and e.data.get("mission_id") == mission_id
        ]
        return ours if any(e.type == "MissionCompleted" for e in ours) else None

    events = wait_until(relayed, timeout=15, message="the relayed events")
    assert [e.type for e in events] == [
        "MissionPublished", "ProposalSubmitted", "ProposalSubmitted", "ProposalAccepted", "ProposalRejected",
        "TaskSubmitted", "TaskSubmitted", "TaskSubmitted", "TaskValidated", "TaskValidated", "TaskValidated",
        "MissionCompleted",
    ]  # fmt: skip
    for event in events:
        assert_like_example(event)
    assert events[4].data["proposal_id"] == rival["id"]
    assert all(e.data["auto_validated"] for e in events if e.type == "TaskValidated")
