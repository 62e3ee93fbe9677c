"""How the API shows subscriptions and their audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from clikopro_subscriptions.domain.billing import lapse_at, renews
from clikopro_subscriptions.domain.lifecycle import ACTIVE, PAST_DUE
from clikopro_subscriptions.domain.plans import Catalog
from clikopro_subscriptions.settings import SubscriptionsSettings


def subscription(
    row: Mapping[str, Any], catalog: Catalog, settings: SubscriptionsSettings, now: dt.datetime
) -> dict[str, Any]:
    plan = catalog.plan_or_free(row["plan"])
    status = row["status"]
    window = dt.timedelta(days=settings.retry_window_days)
    return {
        "id": row["id"],
        "plan": row["plan"],
        "plan_name": plan.name,
        "status": status,
        "renews": renews(status),
        "features": list(plan.features),
        "price_cents": row["price_cents"],
        "currency": row["currency"],
        "interval": "year",
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        #: When the next tacit renewal is charged (null once renewal is off or the plan lapsed).
        "renews_at": row["period_end"] if status == ACTIVE else None,
        "cancelled_at": row["cancelled_at"],
        "renewal_failed_at": row["renewal_due_at"] if status == PAST_DUE else None,
        "lapses_at": lapse_at(status, row["period_end"], row["renewal_due_at"], window),
        "lapsed_at": row["lapsed_at"],
        "lapse_reason": row["lapse_reason"],
        "activated_at": row["activated_at"],
    }


def transition(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "command": row["command"],
        "from": row["from_state"],
        "to": row["to_state"],
        "actor": row["actor"],
        "actor_id": row["actor_id"],
        "detail": row["detail"] or {},
        "occurred_at": row["occurred_at"],
    }
