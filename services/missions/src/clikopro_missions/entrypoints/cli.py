"""``clikopro-missions migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_chassis.jobs import PeriodicJob
from clikopro_missions.bootstrap import Services, bootstrap
from clikopro_missions.service_layer import tasks
from clikopro_missions.service_layer.handlers import HANDLERS


def jobs(services: Services) -> list[PeriodicJob]:
    """The worker's periodic jobs: task reminders and auto-validation (R8)."""
    return [
        PeriodicJob(
            name="task-deadlines",
            interval=services.settings.task_deadlines_interval_seconds,
            run=lambda: tasks.run_deadlines(services.uow, now=services.now, settings=services.settings),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_missions", bootstrap, HANDLERS, jobs=jobs, argv=argv)  # type: ignore[arg-type]
