"""``clikopro-payments migrate|worker|reconcile`` (see clikopro_chassis.cli).

The worker runs, besides the event consumer and the relay:
- ``payments-money`` (every ``MONEY_JOB_INTERVAL_MS``): creates the PaymentIntents of accepted
  Secure contracts, cancels abandoned ones, performs releases and refunds;
- ``payments-onboarding-reminders``: pros whose money waits for their onboarding;
- ``payments-reconciliation``: our ledger against Stripe for missions with recent activity.

``reconcile [--mission ID]`` prints the differences (exit status 1 if any).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence

from clikopro_chassis.cli import Command, service_cli
from clikopro_chassis.jobs import PeriodicJob
from clikopro_payments.bootstrap import Services, bootstrap
from clikopro_payments.service_layer import money, reconciliation
from clikopro_payments.service_layer.handlers import HANDLERS


def jobs(svc: Services) -> list[PeriodicJob]:
    settings = svc.settings
    return [
        PeriodicJob(
            "payments-money", settings.money_job_interval_ms / 1000, lambda: money.run_money_jobs(svc)
        ),
        PeriodicJob("payments-onboarding-reminders", 300, lambda: money.remind_onboarding(svc)),
        PeriodicJob(
            "payments-reconciliation",
            settings.reconciliation_interval_seconds,
            lambda: reconciliation.reconcile_recent(svc),
        ),
    ]


def _reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mission", type=uuid.UUID, default=None, help="one mission (default: recent ones)")


def _reconcile(svc: Services, args: argparse.Namespace) -> int:
    found = (
        {args.mission: reconciliation.reconcile_mission(svc, args.mission)}
        if args.mission
        else reconciliation.reconcile_recent(svc)
    )
    differences = 0
    for mission_id, issues in found.items():
        for kind, detail in issues:
            print(f"{mission_id}  {kind}: {detail}")
            differences += 1
    print(f"{differences} difference(s)" if differences else "ledger and Stripe agree")
    return 1 if differences else 0


COMMANDS = {
    "reconcile": Command(
        "compare our ledger with Stripe's transfers and refunds", _reconcile, _reconcile_arguments
    )
}


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(
        service_cli("clikopro_payments", bootstrap, HANDLERS, jobs=jobs, extra_commands=COMMANDS, argv=argv)
    )
