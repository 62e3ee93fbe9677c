"""The service with its worker on real PostgreSQL and RabbitMQ: missions' and payments' events arrive
through the broker (the queue is bound to every type of HANDLERS), a card dispute opens an incident by
itself, and our events leave through the outbox relay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from trust_safety_helpers import Api, Clock, make_services

from clikopro_chassis import migrations
from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.queues import publish_raw, take_all, tap
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.worker import Worker
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, with_data
from clikopro_trust_safety.entrypoints.web import build
from clikopro_trust_safety.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, api: Api, broker_url: str, prefix: str, tapped) -> None:
        self.api = api
        self.broker_url = broker_url
        self.prefix = prefix
        self.tapped = tapped

    def send(self, type_: str, **data) -> None:
        message = with_data(example(type_), **data)
        message["id"] = str(uuid.uuid4())
        publish_raw(self.broker_url, self.prefix, message)


@pytest.fixture
def stack(postgres_databases, bus, tmp_path: Path, issuer: TokenFactory) -> Iterator[Stack]:
    url = postgres_databases.create(f"trust_safety_worker_{uuid.uuid4().hex[:6]}")
    migrations.upgrade("clikopro_trust_safety", url)
    clock = Clock()
    services = make_services(
        url, tmp_path, issuer, clock, BROKER_URL=bus.broker_url, BUS_PREFIX=bus.prefix,
        CONSUMER_RETRY_DELAYS_MS="100,200",
    )  # fmt: skip
    bus.topology("trust-safety")
    with tap(bus.broker_url, f"{bus.prefix}.events", f"{bus.prefix}.trust-safety-test-tap") as queue:
        worker = Worker(services.settings, services.database, HANDLERS, services.joined_uow, [])
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


def test_a_contract_and_a_dispute_through_the_broker(stack: Stack, wait_until) -> None:
    api = stack.api
    client, pro = api.client(), api.pro()
    mission_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"mission_id": mission_id, "category": "late", "description": "Trois semaines de retard."}
    assert api.post(client, "/api/v1/incidents", body).status_code == 404  # no contract known yet
    stack.send(
        "ProposalAccepted", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id,
        payment_mode="secure", amount_cents=50_000,
        tasks=[{"task_id": task_id, "title": "Pose", "amount_cents": 50_000, "due_date": "2026-04-01",
                "position": 1}],
    )  # fmt: skip
    stack.send("PaymentSecured", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id)
    opened = wait_until(
        lambda: (r := api.post(client, "/api/v1/incidents", body)).status_code == 201 and r.json(),
        timeout=15,
        message="the contract projection",
    )
    stack.send(
        "PaymentDisputed", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id,
        dispute_id="dp_Broker1",
    )  # fmt: skip

    def incidents() -> list | None:
        items = api.get(client, "/api/v1/incidents", params={"mission_id": mission_id}).json()["items"]
        return items if len(items) == 2 else None

    listed = wait_until(incidents, timeout=15, message="the dispute's incident")
    assert opened["id"] in {i["id"] for i in listed}
    system = next(i for i in listed if i["dispute_id"] == "dp_Broker1")
    assert system["opened_by"] is None and system["opened_by_role"] == "system"

    def relayed() -> list | None:
        ours = [e for e in stack.tapped() if e.producer == "trust-safety" and e.type == "IncidentOpened"]
        return ours if len(ours) == 2 else None

    for event in wait_until(relayed, timeout=15, message="the relayed IncidentOpened"):
        assert_like_example(event)
        assert (
            event.data["mission_id"] == uuid.UUID(mission_id) or str(event.data["mission_id"]) == mission_id
        )
