"""Per-run databases and bus names on shared servers, removed after the run."""

from __future__ import annotations

import contextlib
import re
import uuid

import psycopg
from kombu import Connection

from clikopro_chassis.bus.topology import Topology


def run_id() -> str:
    return uuid.uuid4().hex[:10]


class PostgresDatabases:
    """Creates ``clikopro_t<run>_<name>`` databases on a server, and drops them."""

    def __init__(self, server_url: str, run: str) -> None:
        self.server_url = server_url
        self.run = run
        self.created: list[str] = []

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.server_url, autocommit=True)

    def url_for(self, database: str) -> str:
        base, _, _ = self.server_url.rpartition("/")
        return f"{base}/{database}".replace("postgresql://", "postgresql+psycopg://", 1).replace(
            "postgres://", "postgresql+psycopg://", 1
        )

    def create(self, name: str) -> str:
        database = f"clikopro_t{self.run}_{re.sub(r'[^a-z0-9_]', '_', name.lower())}"[:63]
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return self.url_for(database)

    def drop_all(self) -> None:
        with self._admin() as conn:
            for database in self.created:
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.created.clear()


class BusNamespace:
    """A per-run prefix for exchange and queue names; deletes what it named."""

    def __init__(self, broker_url: str, run: str) -> None:
        self.broker_url = broker_url
        self.prefix = f"t{run}"
        self.topologies: list[Topology] = []
        self.extra_queues: list[str] = []

    def topology(self, service: str, **kwargs: object) -> Topology:
        topology = Topology(prefix=self.prefix, service=service, **kwargs)  # type: ignore[arg-type]
        self.topologies.append(topology)
        return topology

    def cleanup(self) -> None:
        with Connection(self.broker_url, connect_timeout=5) as conn:
            channel = conn.channel()
            names = [q for t in self.topologies for q in (t.queue_name, t.dead_letter_queue_name)]
            for name in {*names, *self.extra_queues}:
                with contextlib.suppress(Exception):
                    channel.queue_delete(name)
            with contextlib.suppress(Exception):
                channel.exchange_delete(f"{self.prefix}.events")
