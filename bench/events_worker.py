"""The two services of the events benchmark, each run as the chassis's real worker process.

``python -m bench.events_worker relay``: the producing service (``identity``):
its worker has no handlers, so it runs only the outbox relay of its database.

``python -m bench.events_worker sink``: a consuming service (``benchsink``) with
its own database: its handler projects each UserRegistered into a table (a real
insert, with the inbox row, in the consumer's batch transaction). Its worker
also runs its own (idle) relay, as every worker does.

Configuration is the chassis's own environment (DATABASE_URL, BROKER_URL,
BUS_PREFIX, CONSUMER_BATCH_SIZE, CONSUMER_PREFETCH, RELAY_BATCH_SIZE...), plus:

- ``BENCH_DIR``: where to write ``<role>.started`` / ``sink.ready`` / ``sink.commits.json`` /
  ``<role>.stats.json``;
- ``BENCH_PROFILE=1``: cProfile each worker thread into ``<role>-<thread>.prof``;
- ``BENCH_PATCHES``: experimental chassis changes to try (see :mod:`bench.events_patches`).

The consumer's commit time of each event is taken in Python right after the
batch transaction's COMMIT returns (SQLAlchemy ``after_commit`` on the outer
transaction, not the savepoints), before the messages are acked.
"""

from __future__ import annotations

import cProfile
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Column, DateTime, MetaData, String, Table, event, func, insert
from sqlalchemy.orm import Session

from clikopro_chassis import worker as chassis_worker
from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import metadata as messaging_metadata
from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_contracts import Event

SINK_SERVICE = "benchsink"
PRODUCER_SERVICE = "identity"

metadata = MetaData()
projected_users = Table(
    "bench_projected_users",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("email", String(320), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("registered_at", String(40), nullable=False),
    Column("projected_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def create_schema(database_url: str, *, sink: bool) -> None:
    database = Database(database_url)
    messaging_metadata.create_all(database.engine)
    if sink:
        metadata.create_all(database.engine)
    database.dispose()


# -- the sink's handler and its commit clock ----------------------------------------------------------

_PENDING_KEY = "bench_event_ids"
COMMITS: list[tuple[str, float]] = []


def project(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    uow.session.execute(
        insert(projected_users).values(
            event_id=event.id,
            user_id=data["user_id"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            registered_at=data["registered_at"],
        )
    )
    uow.session.info.setdefault(_PENDING_KEY, []).append(event.id)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the batch is not committed yet
    ids = session.info.pop(_PENDING_KEY, None)
    if ids:
        now = time.time()
        COMMITS.extend((event_id, now) for event_id in ids)


# -- running ------------------------------------------------------------------------------------------


def _instrument(role: str, name: str, target, out: Path, profile: bool, stats: dict):
    def run(stop: threading.Event) -> None:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        try:
            target(stop)
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(out / f"{role}-{name}.prof")
            stats[f"{name}_thread_cpu_s"] = round(time.thread_time(), 3)

    return run


def main(argv: list[str] | None = None) -> int:
    role = (argv or sys.argv[1:])[0]
    out = Path(os.environ["BENCH_DIR"])
    profile = os.environ.get("BENCH_PROFILE") == "1"
    patches = [p for p in os.environ.get("BENCH_PATCHES", "").split(",") if p]
    if patches:
        from bench import events_patches

        events_patches.apply(patches)
    service = SINK_SERVICE if role == "sink" else PRODUCER_SERVICE
    settings = Settings.from_env(service)
    database = Database(settings.database_url)
    handlers = {"UserRegistered": project} if role == "sink" else {}
    if role == "sink":
        event.listen(Session, "after_commit", _after_commit)
    worker = chassis_worker.Worker(
        settings,
        database,
        handlers,
        lambda session: UnitOfWork.joined(database, producer=service, session=session),
    )
    stats: dict[str, object] = {"role": role, "patches": patches}
    publish_pending = worker.relay.publish_pending
    calls = {"relay_batches": 0, "relay_empty_batches": 0, "relay_published": 0}

    def counted_publish_pending() -> int:
        published = publish_pending()
        calls["relay_batches"] += 1
        calls["relay_empty_batches"] += published == 0
        calls["relay_published"] += published
        return published

    worker.relay.publish_pending = counted_publish_pending
    worker.relay.run = _instrument(role, "relay", worker.relay.run, out, profile, stats)
    if worker.consumer is not None:
        worker.consumer.run = _instrument(role, "consumer", worker.consumer.run, out, profile, stats)

        def announce_ready() -> None:
            if worker.consumer.ready.wait(60):
                (out / "sink.ready").write_text(str(time.time()))

        threading.Thread(target=announce_ready, daemon=True).start()

    start = worker.start

    def timed_start() -> None:
        (out / f"{role}.started").write_text(repr(time.time()))
        start()

    worker.start = timed_start
    chassis_worker.configure_logging(service, level=settings.log_level, fmt=settings.log_format)
    try:
        worker.run_forever()
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats["process_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 3)
        stats.update(calls)
        (out / f"{role}.stats.json").write_text(json.dumps(stats))
        if role == "sink":
            (out / "sink.commits.json").write_text(json.dumps(COMMITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
