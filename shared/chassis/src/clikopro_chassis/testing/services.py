"""Helpers for a service's own tests: a migrated database, its outbox, the internal secret."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select, text

from clikopro_chassis import migrations
from clikopro_chassis.auth import internal_headers
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import metadata as messaging_metadata
from clikopro_chassis.messaging import outbox_messages
from clikopro_contracts import Event, parse_event

#: The INTERNAL_API_TOKEN of services under test; their internal routes refuse any other.
INTERNAL_TEST_TOKEN = "internal-test-token"
#: Headers of a test that calls an internal route as the gateway does.
INTERNAL_TEST_HEADERS = internal_headers(INTERNAL_TEST_TOKEN)


def migrated_sqlite(package: str, directory: Path) -> str:
    """A fresh SQLite database at the service's latest migration; returns its URL."""
    url = f"sqlite:///{directory / (package + '.sqlite3')}"
    migrations.upgrade(package, url)
    return url


def migrated_postgres(postgres_databases: Any, package: str) -> str:
    """A database of this test run (``postgres_databases`` fixture) at the service's latest
    migration; returns its URL."""
    url = postgres_databases.create(f"{package.removeprefix('clikopro_')}_{uuid.uuid4().hex[:6]}")
    migrations.upgrade(package, url)
    return url


def truncate_all(database: Database, metadata: MetaData) -> None:
    """Empty a PostgreSQL database shared by a session's tests: the service's tables and the
    messaging ones (outbox, inbox), so that each test starts from nothing."""
    names = ", ".join(t.name for t in [*metadata.sorted_tables, *messaging_metadata.sorted_tables])
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def outbox_events(database: Database, event_type: str | None = None) -> list[Event]:
    """The events a service wrote to its outbox, oldest first, parsed (so checked against their contract)."""
    query = select(outbox_messages.c.body).order_by(outbox_messages.c.id)
    if event_type:
        query = query.where(outbox_messages.c.event_type == event_type)
    with database.session() as session:
        return [parse_event(body) for body in session.execute(query).scalars()]
