"""``clikopro-subscriptions migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_chassis.jobs import PeriodicJob
from clikopro_subscriptions.bootstrap import Services, bootstrap
from clikopro_subscriptions.service_layer import jobs as deadlines
from clikopro_subscriptions.service_layer.handlers import HANDLERS


def jobs(services: Services) -> list[PeriodicJob]:
    """The worker's periodic job: renewal notices, lapses, overdue renewals (R12)."""
    return [
        PeriodicJob(
            name="subscription-deadlines",
            interval=services.settings.subscription_jobs_interval_seconds,
            run=lambda: deadlines.run(services),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_subscriptions", bootstrap, HANDLERS, jobs=jobs, argv=argv)  # type: ignore[arg-type]
