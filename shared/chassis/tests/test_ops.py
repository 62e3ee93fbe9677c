"""Operations can see dead letters with their errors and replay them (R22)."""

from __future__ import annotations

import json
import uuid

import pytest
from probe_service import HANDLERS, count_effects, create_schema, joined_uow, producer_uow, user_registered

from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.ops.cli import main as ops
from clikopro_chassis.worker import Worker

pytestmark = pytest.mark.integration


def always_fails(event, uow) -> None:
    raise ValueError("downstream rejected it")


def test_dead_letters_are_listed_with_their_error_then_replayed(
    postgres_databases, bus, capsys, wait_until
) -> None:
    url = postgres_databases.create(f"probe_{uuid.uuid4().hex[:6]}")
    settings = Settings.from_env(
        "probe",
        {
            "DATABASE_URL": url,
            "BROKER_URL": bus.broker_url,
            "BUS_PREFIX": bus.prefix,
            "CONSUMER_RETRY_DELAYS_MS": "20",
        },
    )
    bus.topology("probe")
    database = Database(url)
    create_schema(database)
    cli = ["--broker", bus.broker_url, "--prefix", bus.prefix]

    broken = Worker(settings, database, {"UserRegistered": always_fails}, joined_uow(database))
    broken.start()
    try:
        assert broken.consumer is not None and broken.consumer.ready.wait(10)
        with producer_uow(database) as uow:
            event_id = uow.publish("UserRegistered", user_registered()).id
            uow.commit()

        def dead_letter_count() -> int:
            capsys.readouterr()
            ops([*cli, "queues", "--services", "probe"])
            dead_queue = f"{bus.prefix}.probe.dead-letter"
            line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith(dead_queue))
            return int(line.split()[1])

        wait_until(lambda: dead_letter_count() == 1, message="the dead letter")
    finally:
        broken.shutdown()

    ops([*cli, "dead-letters", "probe"])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 1
    assert listed[0]["id"] == event_id and listed[0]["attempts"] == 2
    assert "downstream rejected it" in listed[0]["error"]
    assert dead_letter_count() == 1  # listing left it in place

    mended = Worker(settings, database, HANDLERS, joined_uow(database))
    mended.start()
    try:
        assert mended.consumer is not None and mended.consumer.ready.wait(10)
        ops([*cli, "replay", "probe"])
        assert "replayed 1 message" in capsys.readouterr().out
        wait_until(lambda: count_effects(database, event_id) == 1, message="the replayed event handled")
        assert dead_letter_count() == 0
    finally:
        mended.shutdown()
