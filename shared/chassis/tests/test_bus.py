"""The event bus's guarantees, on the embedded transports (SQLite + kombu's
memory transport) and on the real thing (PostgreSQL + RabbitMQ).

Each test counts effects: the probe service records one row per handled event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer
from probe_service import HANDLERS, count_effects, create_schema, joined_uow, producer_uow, user_registered
from sqlalchemy import func, select

from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import inbox_messages, outbox_messages
from clikopro_chassis.testing.queues import take_all
from clikopro_chassis.worker import Worker, topology_for
from clikopro_contracts import make_event, parse_event


@dataclass
class Probe:
    settings: Settings
    database: Database
    worker: Worker

    def publish(self, first_name: str = "Ana") -> str:
        """Write a UserRegistered through the outbox, as a producer does."""
        with producer_uow(self.database) as uow:
            event = uow.publish("UserRegistered", user_registered(first_name))
            uow.commit()
        return event.id

    def send_raw(self, body: bytes | str, routing_key: str = "identity.UserRegistered") -> None:
        """Put a message on the exchange directly, bypassing the outbox (a duplicate, garbage...)."""
        topology = topology_for(self.settings)
        with Connection(self.settings.broker_url) as conn:
            Producer(conn.channel()).publish(
                body,
                exchange=Exchange(topology.exchange_name, type="topic", durable=True),
                routing_key=routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )

    def dead_letters(self) -> list[dict]:
        return take_all(self.settings.broker_url, topology_for(self.settings).dead_letter_queue())

    def inbox_count(self) -> int:
        with self.database.session() as session:
            return session.execute(select(func.count()).select_from(inbox_messages)).scalar_one()


def _start(settings: Settings, database: Database) -> Worker:
    create_schema(database)
    worker = Worker(settings, database, HANDLERS, joined_uow(database))
    worker.start()
    assert worker.consumer is not None and worker.consumer.ready.wait(10)
    return worker


@pytest.fixture(params=["embedded", pytest.param("rabbitmq-postgres", marks=pytest.mark.integration)])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Probe]:
    fast = {"CONSUMER_RETRY_DELAYS_MS": "50,100", "RELAY_POLL_INTERVAL_MS": "200"}
    if request.param == "embedded":
        settings = Settings.from_env("probe", {**fast, "DATA_DIR": str(tmp_path)})
        settings = settings.replace(broker_url="memory://", bus_prefix=f"m{uuid.uuid4().hex[:8]}")
    else:
        bus = request.getfixturevalue("bus")
        url = request.getfixturevalue("postgres_databases").create(f"probe_{uuid.uuid4().hex[:6]}")
        settings = Settings.from_env(
            "probe", {**fast, "DATABASE_URL": url, "BROKER_URL": bus.broker_url, "BUS_PREFIX": bus.prefix}
        )
        bus.topology("probe")
    database = Database(settings.database_url)
    worker = _start(settings, database)
    yield Probe(settings, database, worker)
    worker.shutdown()


def test_an_event_written_to_the_outbox_is_handled_once(probe: Probe, wait_until) -> None:
    event_ids = [probe.publish() for _ in range(25)]
    wait_until(lambda: count_effects(probe.database) == 25, message="25 effects")
    assert all(count_effects(probe.database, e) == 1 for e in event_ids)
    with probe.database.session() as session:
        pending = session.execute(
            select(func.count()).select_from(outbox_messages).where(outbox_messages.c.published_at.is_(None))
        ).scalar_one()
    assert pending == 0


def test_the_same_event_delivered_twice_has_one_effect(probe: Probe, wait_until) -> None:
    event = make_event("UserRegistered", user_registered(), correlation_id="c-1")
    body = json.dumps(event.to_dict())
    probe.send_raw(body)
    probe.send_raw(body)
    marker = probe.publish("after")  # processed after both copies: the queue is drained up to it
    wait_until(lambda: count_effects(probe.database, marker) == 1)
    wait_until(lambda: probe.inbox_count() == 2)
    assert count_effects(probe.database, event.id) == 1


def test_a_handler_that_keeps_failing_ends_in_the_dead_letter_queue(probe: Probe, wait_until) -> None:
    failing = probe.publish("fail")
    following = [probe.publish("next") for _ in range(5)]
    wait_until(lambda: all(count_effects(probe.database, e) == 1 for e in following), message="others flow")
    dead = wait_until(probe.dead_letters, timeout=10, message="a dead letter")
    assert len(dead) == 1
    headers = dead[0]["headers"]
    assert headers["x-attempts"] == 3  # first try + the two configured retries
    assert "probe handler failure" in headers["x-error"]
    assert headers["x-error-kind"] == "handler_failed"
    assert headers["x-original-routing-key"] == "identity.UserRegistered"
    assert parse_event(dead[0]["body"]).id == failing
    assert count_effects(probe.database, failing) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"\xff not even utf-8",
        "{ not json",
        json.dumps({"type": "UserRegistered"}),  # an envelope with most fields missing
        json.dumps(
            {**make_event("UserRegistered", user_registered(), correlation_id="c").to_dict(), "data": {}}
        ),
    ],
    ids=["not-utf8", "not-json", "bad-envelope", "payload-against-contract"],
)
def test_a_malformed_message_is_dead_lettered_at_once(probe: Probe, body: bytes | str, wait_until) -> None:
    probe.send_raw(body)
    marker = probe.publish("after")
    wait_until(lambda: count_effects(probe.database, marker) == 1)
    dead = wait_until(probe.dead_letters, message="the malformed message")
    assert len(dead) == 1
    assert dead[0]["headers"]["x-attempts"] == 1
    assert dead[0]["headers"]["x-error-kind"] == "malformed"
    assert count_effects(probe.database) == 1
