"""The command line every service shares: ``clikopro-<service> migrate|worker``, plus the
service's own commands (``extra_commands``, e.g. identity's ``create-staff``).

``migrate`` brings the service's database to the latest Alembic revision and
declares its queues and bindings on the broker, so that events published
before its worker first starts wait in its queue rather than being dropped
as unroutable. ``worker`` runs the outbox relay, the event consumer and the
periodic jobs until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clikopro_chassis import migrations, worker
from clikopro_chassis.bus.connection import broker_connection, describe
from clikopro_chassis.bus.consumer import Handler
from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.jobs import PeriodicJob
from clikopro_chassis.logs import configure_logging

log = logging.getLogger(__name__)


class ServiceRuntime(Protocol):
    """What a service's bootstrap gives the chassis."""

    settings: Settings
    database: Database

    def joined_uow(self, session: Session) -> Any: ...


@dataclass(frozen=True)
class Command:
    """A service's own sub-command: ``arguments`` adds its options, ``run`` does it (its return is
    the exit status; ``None`` is 0)."""

    help: str
    run: Callable[[Any, argparse.Namespace], int | None]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


def declare_topology(settings: Settings, handlers: Mapping[str, Handler]) -> None:
    topology = worker.topology_for(settings)
    with broker_connection(settings.broker_url) as conn:
        conn.ensure_connection(max_retries=5)
        channel = conn.channel()
        if handlers:
            topology.declare(channel, handlers)
        else:
            topology.declare_exchange(channel)


def run_worker(
    runtime: ServiceRuntime, handlers: Mapping[str, Handler], jobs: Sequence[PeriodicJob] = ()
) -> None:
    worker.main(runtime.settings, runtime.database, handlers, runtime.joined_uow, jobs)


def service_cli(
    package: str,
    bootstrap: Callable[[], ServiceRuntime],
    handlers: Mapping[str, Handler],
    *,
    jobs: Callable[[ServiceRuntime], Sequence[PeriodicJob]] | None = None,
    extra_commands: Mapping[str, Command] | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    runtime = bootstrap()
    settings = runtime.settings
    parser = argparse.ArgumentParser(prog=f"clikopro-{settings.service}")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="migrate the database and declare the queues")
    migrate.add_argument("--no-broker", action="store_true", help="only migrate the database")
    migrate.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 unless the database is at the latest revision",
    )
    sub.add_parser("worker", help="run the outbox relay, the event consumer and the periodic jobs")
    extra_commands = dict(extra_commands or {})
    for name, command in extra_commands.items():
        if name in {"migrate", "worker"}:
            raise ValueError(f"{name} is a chassis command")
        command_parser = sub.add_parser(name, help=command.help)
        if command.arguments:
            command.arguments(command_parser)
    args = parser.parse_args(argv)
    if args.command == "migrate" and args.check:
        current = migrations.is_current(package, settings.database_url)
        print(f"database of {settings.service} is {'at' if current else 'NOT at'} the latest revision")
        # Exits rather than returns: some services' entry points drop service_cli's status.
        raise SystemExit(0 if current else 1)
    if args.command == "migrate":
        configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
        migrations.upgrade(package, settings.database_url)
        log.info("database of %s migrated", settings.service)
        if not args.no_broker:
            declare_topology(settings, handlers)
            log.info("queues of %s declared on %s", settings.service, describe(settings.broker_url))
    elif args.command == "worker":
        run_worker(runtime, handlers, jobs(runtime) if jobs else ())
    else:
        configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
        return extra_commands[args.command].run(runtime, args) or 0
    return 0
