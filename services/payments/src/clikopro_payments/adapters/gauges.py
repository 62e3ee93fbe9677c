"""The money figures operations watch (R22), read from payments' own tables when ``/metrics`` is
scraped (chassis ``metrics.register_gauges``): payouts waiting for the professional's onboarding,
money frozen by incidents, failed payouts and refunds. Alerts: deploy/prometheus/alerts.yml."""

from __future__ import annotations

from sqlalchemy import case, func, select

from clikopro_chassis.db import Database
from clikopro_payments.adapters.orm import refunds, releases


def read(database: Database) -> dict[str, float]:
    with database.session() as session:
        waiting, waiting_cents, frozen_cents, failed_payouts = session.execute(
            select(
                func.count().filter(releases.c.status == "waiting_for_account"),
                func.coalesce(
                    func.sum(case((releases.c.status == "waiting_for_account", releases.c.amount_cents))), 0
                ),
                func.coalesce(func.sum(case((releases.c.status == "frozen", releases.c.amount_cents))), 0),
                func.count().filter(releases.c.status == "failed"),
            )
        ).one()
        failed_refunds = session.execute(
            select(func.count()).select_from(refunds).where(refunds.c.status == "failed")
        ).scalar_one()
    return {
        "clikopro_payments_payouts_waiting_onboarding": waiting,
        "clikopro_payments_payouts_waiting_onboarding_cents": waiting_cents,
        "clikopro_payments_frozen_cents": frozen_cents,
        "clikopro_payments_failed_payouts": failed_payouts,
        "clikopro_payments_failed_refunds": failed_refunds,
    }
