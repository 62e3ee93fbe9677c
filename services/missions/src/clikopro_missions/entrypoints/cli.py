"""``clikopro-missions migrate|worker``."""

from __future__ import annotations

import argparse

from clikopro_chassis import migrations
from clikopro_missions.bootstrap import bootstrap


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clikopro-missions")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("worker", help="run the outbox relay and event consumer")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrations.upgrade("clikopro_missions", bootstrap().settings.database_url)
    elif args.command == "worker":
        from clikopro_missions.entrypoints.worker import main as worker_main

        worker_main()
