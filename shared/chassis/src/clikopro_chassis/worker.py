"""The worker process of a service: its event consumer, its outbox relay and
its periodic jobs, each in a thread, stopped cleanly on SIGTERM/SIGINT.

On a stop signal the consumer finishes the batch in hand (commit, then ack)
and acknowledges nothing else; the relay finishes its batch. What was not
finished goes back to the broker or stays in the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import start_http_server
from sqlalchemy.orm import Session

from clikopro_chassis.bus.connection import broker_connection, describe, heartbeat_dir
from clikopro_chassis.bus.consumer import EventConsumer, Handler
from clikopro_chassis.bus.publisher import ConfirmingPublisher
from clikopro_chassis.bus.relay import OutboxRelay
from clikopro_chassis.bus.topology import Topology
from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.housekeeping import housekeeping_job
from clikopro_chassis.jobs import PeriodicJob, run_jobs
from clikopro_chassis.logs import configure_logging
from clikopro_chassis.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def topology_for(settings: Settings) -> Topology:
    return Topology(
        prefix=settings.bus_prefix,
        service=settings.service,
        queue_type=settings.bus_queue_type if settings.broker_url.startswith("amqp") else "classic",
        delivery_limit=settings.consumer_delivery_limit,
    )


@dataclass
class Worker:
    settings: Settings
    database: Database
    handlers: Mapping[str, Handler]
    uow_factory: Callable[[Session], UnitOfWork]
    jobs: Sequence[PeriodicJob] = ()
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        settings = self.settings
        topology = topology_for(settings)
        self.relay = OutboxRelay(
            service=settings.service,
            database=self.database,
            topology=topology,
            publisher_factory=lambda: ConfirmingPublisher(broker_connection(settings.broker_url)),
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval_ms / 1000,
        )
        self.consumer = (
            EventConsumer(
                service=settings.service,
                database=self.database,
                topology=topology,
                handlers=self.handlers,
                uow_factory=self.uow_factory,
                connection_factory=lambda: broker_connection(settings.broker_url),
                prefetch=settings.consumer_prefetch,
                batch_size=settings.consumer_batch_size,
                retry_delays=[ms / 1000 for ms in settings.consumer_retry_delays_ms],
                heartbeat_dir=heartbeat_dir(settings.broker_url),
            )
            if self.handlers
            else None
        )
        self.jobs = [
            *self.jobs,
            housekeeping_job(
                self.database,
                dt.timedelta(hours=settings.outbox_retention_hours),
                dt.timedelta(days=settings.inbox_retention_days),
            ),
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        targets: list[tuple[str, Callable[[threading.Event], None]]] = [("relay", self.relay.run)]
        if self.consumer is not None:
            targets.append(("consumer", self.consumer.run))
        if self.jobs:
            targets.append(("jobs", lambda stop: run_jobs(self.jobs, stop)))
        for name, target in targets:
            thread = threading.Thread(
                target=target, args=(self.stop,), name=f"{self.settings.service}-{name}"
            )
            thread.start()
            self._threads.append(thread)

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self.database.dispose()

    def run_forever(self) -> None:
        """Start, then block until SIGTERM or SIGINT, then stop cleanly."""

        def on_signal(signum: int, _frame: object) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if self.settings.worker_metrics_port:
            start_http_server(self.settings.worker_metrics_port, addr="0.0.0.0")
        log.info(
            "worker of %s starting (broker %s)", self.settings.service, describe(self.settings.broker_url)
        )
        self.start()
        while not self.stop.wait(1.0):
            if not all(t.is_alive() for t in self._threads):
                log.error("a worker thread died; stopping so that the supervisor restarts us")
                self.stop.set()
        self.shutdown()


def main(
    settings: Settings,
    database: Database,
    handlers: Mapping[str, Handler],
    uow_factory: Callable[[Session], UnitOfWork],
    jobs: Sequence[PeriodicJob] = (),
) -> None:
    """The body of every service's worker entry point."""
    configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
    Worker(settings, database, handlers, uow_factory, jobs).run_forever()
