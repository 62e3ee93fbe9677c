"""What survives failures, on real PostgreSQL and RabbitMQ: a broker outage,
a worker killed mid-message, a stop signal mid-message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kombu import Connection
from probe_service import HANDLERS, count_effects, create_schema, joined_uow, producer_uow, user_registered
from sqlalchemy import func, select

from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import outbox_messages
from clikopro_chassis.testing.tcp_proxy import TcpProxy
from clikopro_chassis.worker import Worker, topology_for

pytestmark = pytest.mark.integration
PROBE = Path(__file__).parent / "probe_service.py"


@pytest.fixture
def probe_env(postgres_databases, bus) -> Iterator[dict[str, str]]:
    url = postgres_databases.create(f"probe_{uuid.uuid4().hex[:6]}")
    bus.topology("probe")
    create_schema(Database(url))
    yield {
        "DATABASE_URL": url,
        "BROKER_URL": bus.broker_url,
        "BUS_PREFIX": bus.prefix,
        "CONSUMER_RETRY_DELAYS_MS": "50,100",
        "RELAY_POLL_INTERVAL_MS": "200",
    }


def publish(database: Database, first_name: str = "Ana") -> str:
    with producer_uow(database) as uow:
        event = uow.publish("UserRegistered", user_registered(first_name))
        uow.commit()
    return event.id


def pending(database: Database) -> tuple[int, int]:
    """(unpublished outbox rows, the most attempts any of them has had)."""
    with database.session() as session:
        return session.execute(
            select(func.count(), func.coalesce(func.max(outbox_messages.c.attempts), 0)).where(
                outbox_messages.c.published_at.is_(None)
            )
        ).one()


def queue_depth(settings: Settings) -> int:
    with Connection(settings.broker_url) as conn:
        return conn.channel().queue_declare(topology_for(settings).queue_name, passive=True).message_count


def consuming(settings: Settings) -> bool:
    """The worker has declared its queue and is attached to it."""
    try:
        with Connection(settings.broker_url) as conn:
            return (
                conn.channel().queue_declare(topology_for(settings).queue_name, passive=True).consumer_count
                > 0
            )
    except Exception:  # noqa: BLE001 - not declared yet
        return False


def test_events_written_while_the_broker_is_unreachable_are_published_once_it_is_back(
    probe_env: dict[str, str], wait_until
) -> None:
    target = urlsplit(probe_env["BROKER_URL"])
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    settings = Settings.from_env("probe", {**probe_env, "BROKER_URL": proxy.url_for(probe_env["BROKER_URL"])})
    database = Database(settings.database_url)
    worker = Worker(settings, database, HANDLERS, joined_uow(database))
    worker.start()
    try:
        assert worker.consumer is not None and worker.consumer.ready.wait(10)
        before = publish(database)
        wait_until(lambda: count_effects(database, before) == 1)

        proxy.disable()  # the broker goes away: connections cut, new ones refused
        written = [publish(database) for _ in range(50)]
        wait_until(lambda: pending(database)[1] >= 1, timeout=15, message="a failed publication attempt")
        assert pending(database)[0] == 50
        assert count_effects(database) == 1

        proxy.enable()  # back: the relay and the consumer reconnect by themselves
        wait_until(lambda: count_effects(database) == 51, timeout=60, message="all 50 events handled")
        # The relay marks rows published after the broker's confirms: the consumer may be faster.
        wait_until(lambda: pending(database)[0] == 0, timeout=10, message="the outbox rows marked published")
        assert all(count_effects(database, e) == 1 for e in written)
    finally:
        worker.shutdown()
        proxy.close()


def _spawn_worker(env: dict[str, str], tmp_path: Path, slow_seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(PROBE)],
        env={
            **os.environ,
            **env,
            "PROBE_MARKER_DIR": str(tmp_path),
            "PROBE_SLOW_SECONDS": str(slow_seconds),
            "LOG_FORMAT": "text",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_message_loses_nothing(
    probe_env: dict[str, str], tmp_path: Path, wait_until
) -> None:
    settings = Settings.from_env("probe", probe_env)
    database = Database(settings.database_url)
    worker = _spawn_worker(probe_env, tmp_path, slow_seconds=60)
    try:
        wait_until(lambda: consuming(settings), timeout=20, message="the worker to attach")
        event_id = publish(database, "slow")
        wait_until(
            lambda: (tmp_path / f"{event_id}.started").exists(), timeout=20, message="the handler to start"
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert count_effects(database, event_id) == 0  # killed before its transaction committed
    finally:
        worker.kill()

    restarted = _spawn_worker(probe_env, tmp_path, slow_seconds=0)
    try:
        wait_until(
            lambda: count_effects(database, event_id) == 1, timeout=30, message="redelivery after the kill"
        )
        wait_until(lambda: queue_depth(settings) == 0, timeout=10)
        assert count_effects(database, event_id) == 1
    finally:
        restarted.terminate()
        restarted.wait(20)


def test_sigterm_finishes_the_message_in_hand_and_acknowledges_nothing_else(
    probe_env: dict[str, str], tmp_path: Path, wait_until
) -> None:
    settings = Settings.from_env("probe", probe_env)
    database = Database(settings.database_url)
    worker = _spawn_worker(probe_env, tmp_path, slow_seconds=2)
    try:
        wait_until(lambda: consuming(settings), timeout=20, message="the worker to attach")
        in_hand = publish(database, "slow")
        wait_until(
            lambda: (tmp_path / f"{in_hand}.started").exists(), timeout=20, message="the handler to start"
        )
        later = [publish(database) for _ in range(3)]  # arrive while the first is being handled
        wait_until(lambda: pending(database)[0] == 0, message="the later events published")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        worker.kill()
    assert count_effects(database, in_hand) == 1  # finished, committed, acknowledged
    assert all(count_effects(database, e) == 0 for e in later)
    assert queue_depth(settings) == 3  # not acknowledged: still in the queue for the next worker

    restarted = _spawn_worker(probe_env, tmp_path, slow_seconds=0)
    try:
        wait_until(lambda: all(count_effects(database, e) == 1 for e in later), timeout=30)
        assert count_effects(database, in_hand) == 1
    finally:
        restarted.terminate()
        restarted.wait(20)
