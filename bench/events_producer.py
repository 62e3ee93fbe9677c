"""A producing process of the events benchmark: one UserRegistered per transaction,
written through the chassis's UnitOfWork (outbox insert + NOTIFY, then COMMIT).

``python -m bench.events_producer --db URL --count N [--rate R] --ready F --go F --out F``

It warms up, writes ``--ready``, waits for ``--go`` (which holds the common start
time), then produces: as fast as it can, or paced at ``--rate`` events/s on an
open-loop schedule (event i is due at start + (i + phase) / rate, whatever the
previous ones took). For each event it records the wall-clock time right after
``commit()`` returned: the producer's commit time of the latency figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path

from clikopro_chassis.db import Database
from clikopro_chassis.unit_of_work import UnitOfWork


def user_registered() -> dict:
    return {
        "user_id": uuid.uuid4(),
        "role": "client",
        "email": f"{uuid.uuid4().hex[:12]}@example.fr",
        "first_name": "Ana",
        "last_name": "Martin",
        "registered_at": dt.datetime.now(dt.UTC),
    }


def publish_one(database: Database) -> str:
    with UnitOfWork(database, producer="identity") as uow:
        event = uow.publish("UserRegistered", user_registered())
        uow.commit()
    return event.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events_producer")
    parser.add_argument("--db", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s of this process; 0 = flat out")
    parser.add_argument("--phase", type=float, default=0.0, help="offset of the schedule, in events")
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--go", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    patches = [p for p in os.environ.get("BENCH_PATCHES", "").split(",") if p]
    if patches:
        from bench import events_patches

        events_patches.apply(patches)

    database = Database(args.db, pool_size=1, max_overflow=0)
    with database.engine.connect() as conn:  # open the connection, load the contracts catalog
        conn.exec_driver_sql("SELECT 1")
    from clikopro_contracts import make_event

    make_event("UserRegistered", user_registered(), correlation_id="warm-up", producer="identity")
    args.ready.write_text("ready")
    deadline = time.monotonic() + 60
    while not args.go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go signal")
        time.sleep(0.005)
    start = float(args.go.read_text())
    time.sleep(max(0.0, start - time.time()))

    events: list[tuple[str, float, float]] = []  # (event id, due or begin, after commit)
    began = time.time()
    for i in range(args.count):
        if args.rate:
            due = start + (i + args.phase) / args.rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        else:
            due = time.time()
        event_id = publish_one(database)
        events.append((event_id, due, time.time()))
    finished = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    database.dispose()
    args.out.write_text(
        json.dumps(
            {
                "began": began,
                "finished": finished,
                "events": events,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
