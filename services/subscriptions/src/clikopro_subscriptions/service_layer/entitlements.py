"""What a professional may do now: their plan's entitlements (GET /api/v1/entitlements/me, and the
internal read the gateway makes when its copy from the events is missing or stale)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from clikopro_chassis.errors import NotFound
from clikopro_subscriptions.domain.billing import lapse_at, paid_plan_in_force, renews
from clikopro_subscriptions.domain.lifecycle import LIVE
from clikopro_subscriptions.domain.months import month_key
from clikopro_subscriptions.service_layer.common import Caller, require_pro


def _in_force(svc: Any, row: Any, now: dt.datetime) -> dict[str, Any]:
    """The entitlements in force for a pro whose latest subscription is ``row`` (None: never subscribed).

    ``period_end`` is how long they hold with no further news: the paid period's end, or, after a
    failed renewal, the end of its retry window; null on the free plan."""
    window = dt.timedelta(days=svc.settings.retry_window_days)
    if (
        row is not None
        and row["status"] in LIVE
        and paid_plan_in_force(row["status"], row["period_end"], row["renewal_due_at"], now, window)
    ):
        plan = svc.catalog.plan_or_free(row["plan"])
        holds_until = lapse_at(row["status"], row["period_end"], row["renewal_due_at"], window)
        return {
            "plan": plan.id,
            "features": list(plan.features),
            "proposals_per_month": plan.proposals_per_month,
            "commission_rate_bps": plan.commission_rate_bps,
            "status": row["status"],
            "subscription_id": row["id"],
            "period_start": row["period_start"],
            "period_end": max(row["period_end"], holds_until) if holds_until else row["period_end"],
            "renews": renews(row["status"]),
            "effective_at": row["effective_at"],
        }
    free = svc.catalog.free
    return {
        "plan": free.id,
        "features": list(free.features),
        "proposals_per_month": free.proposals_per_month,
        "commission_rate_bps": free.commission_rate_bps,
        "status": "free",
        "subscription_id": None,
        "period_start": None,
        "period_end": None,
        "renews": False,
        "effective_at": (row["lapsed_at"] or row["updated_at"]) if row is not None else None,
    }


def mine(svc: Any, caller: Caller) -> dict[str, Any]:
    pro_id = require_pro(caller)
    now = svc.now()
    with svc.uow() as uow:
        row = uow.subscriptions.latest_of(pro_id)
        used = uow.proposal_counts.used(pro_id, month_key(now))
    return {"pro_id": pro_id, **_in_force(svc, row, now), "proposals_used_this_month": used}


def of_pro(svc: Any, pro_id: uuid.UUID) -> dict[str, Any]:
    """404 for a pro who never subscribed (the gateway reads it as the free plan)."""
    now = svc.now()
    with svc.uow() as uow:
        row = uow.subscriptions.latest_of(pro_id)
    if row is None:
        raise NotFound("This professional never subscribed: free plan.")
    return {"pro_id": pro_id, **_in_force(svc, row, now)}
