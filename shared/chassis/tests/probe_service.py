"""A tiny service that exercises the chassis: it consumes UserRegistered and
records one row per effect, so that tests can count effects.

Its handler's behaviour is chosen by the event's ``first_name``:
``fail`` always raises, ``slow`` writes a marker file then sleeps
(``PROBE_SLOW_SECONDS``) before recording, anything else records at once.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from clikopro_chassis.config import Settings
from clikopro_chassis.db import BigIntPK, Database
from clikopro_chassis.messaging import metadata as messaging_metadata
from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_contracts import Event

SERVICE = "probe"
metadata = MetaData()
effects = Table(
    "effects",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("attempt_marker", Integer, nullable=False, default=0),
)


def create_schema(database: Database) -> None:
    messaging_metadata.create_all(database.engine)
    metadata.create_all(database.engine)


def record(event: Event, uow: UnitOfWork) -> None:
    name = event.data["first_name"]
    if name == "fail":
        raise RuntimeError("probe handler failure")
    if name == "slow":
        marker = Path(os.environ["PROBE_MARKER_DIR"]) / f"{event.id}.started"
        marker.write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("PROBE_SLOW_SECONDS", "5")))
    uow.session.execute(insert(effects).values(event_id=event.id, first_name=name))


HANDLERS = {"UserRegistered": record}


def count_effects(database: Database, event_id: str | None = None) -> int:
    query = select(func.count()).select_from(effects)
    if event_id:
        query = query.where(effects.c.event_id == event_id)
    with database.session() as session:
        return int(session.execute(query).scalar_one())


def user_registered(first_name: str = "Ana") -> dict:
    return {
        "user_id": uuid.uuid4(),
        "role": "client",
        "email": f"{uuid.uuid4().hex[:8]}@example.fr",
        "first_name": first_name,
        "last_name": "Martin",
        "registered_at": "2026-11-26T08:00:00Z",
    }


def joined_uow(database: Database):
    return lambda session: UnitOfWork.joined(database, producer=SERVICE, session=session)


def producer_uow(database: Database) -> UnitOfWork:
    """A unit of work that may publish identity's events (the probe plays the producer too)."""
    return UnitOfWork(database, producer="identity")


if __name__ == "__main__":
    # Run as a worker process: ``python probe_service.py`` with DATABASE_URL, BROKER_URL, BUS_PREFIX.
    from clikopro_chassis import worker

    settings = Settings.from_env(SERVICE)
    database = Database(settings.database_url)
    worker.main(settings, database, HANDLERS, joined_uow(database))
