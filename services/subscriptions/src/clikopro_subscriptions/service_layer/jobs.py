"""The worker's periodic work on subscriptions, on the service's clock (so a test can make a year pass).

- **renewal notices**: RenewalReminderDue ``RENEWAL_REMINDER_DAYS`` (30) days before each tacit renewal,
  once per subscription and period (a row per notice; Stripe's ``invoice.upcoming`` is not used);
- **end of a period not renewed** (renewal turned off): the plan lapses (``not_renewed``);
- **end of the retry window** of a failed renewal (``RETRY_WINDOW_DAYS``, 7): the subscription is
  ended at Stripe (no more retries, nothing charged later) and the plan lapses (``payment_failed``);
- **overdue renewals**: an active subscription whose period ended without news is fetched again.

Each subscription is handled in its own transaction, locked and compared with Stripe first, so a
webhook or a pro acting at that moment is not overwritten, and several workers never lapse one twice.
A subscription Stripe cannot be asked about now is left for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from clikopro_chassis.stripe.adapter import StripeNotConfigured, StripeRefused, StripeUnavailable
from clikopro_subscriptions.domain.billing import PAYMENT_FAILED, lapse_at, reminder_due
from clikopro_subscriptions.domain.lifecycle import CANCEL_PENDING, PAST_DUE, SYSTEM
from clikopro_subscriptions.service_layer.common import SYSTEM_CALLER, apply
from clikopro_subscriptions.service_layer.sync import sync

log = logging.getLogger(__name__)

BATCH = 200
JOB = "job:subscription-deadlines"


def run(svc: Any) -> dict[str, int]:
    at = svc.now()
    done = {"reminded": 0, "lapsed": 0, "synced": 0, "failed": 0}
    settings = svc.settings
    with svc.uow() as uow:
        horizon = at + dt.timedelta(days=settings.renewal_reminder_days)
        to_remind = uow.subscriptions.awaiting_reminder(at, horizon, limit=BATCH)
    for subscription_id in to_remind:
        done["reminded"] += _remind(svc, subscription_id, at)

    window = dt.timedelta(days=settings.retry_window_days)
    with svc.uow() as uow:
        to_lapse = [
            *uow.subscriptions.not_renewed_ended(at, limit=BATCH),
            *uow.subscriptions.past_due_since(at - window, limit=BATCH),
        ]
    for subscription_id in to_lapse:
        outcome = _guarded(lambda sid=subscription_id: _lapse_if_due(svc, sid, at, window), subscription_id)
        done["lapsed" if outcome == "lapsed" else "failed" if outcome == "failed" else "synced"] += 1

    overdue = dt.timedelta(seconds=settings.overdue_renewal_check_seconds)
    with svc.uow() as uow:
        late = uow.subscriptions.overdue_renewals(at - overdue, at - overdue, limit=BATCH)
    for subscription_id in late:
        outcome = _guarded(lambda sid=subscription_id: _resync(svc, sid, at), subscription_id)
        done["failed" if outcome == "failed" else "synced"] += 1
    if any(done.values()):
        log.info("subscription deadlines: %s", done)
    return done


def _guarded(step: Callable[[], str], subscription_id: uuid.UUID) -> str:
    try:
        return step()
    except (StripeUnavailable, StripeNotConfigured, StripeRefused) as exc:
        log.warning("subscription %s left for the next run: Stripe: %s", subscription_id, exc)
        return "failed"


def _remind(svc: Any, subscription_id: uuid.UUID, at: dt.datetime) -> int:
    with svc.uow() as uow:
        row = uow.subscriptions.get(subscription_id, lock=True)
        if row is None or not reminder_due(
            row["status"], row["period_end"], at, svc.settings.renewal_reminder_days
        ):
            return 0
        recorded = uow.reminders.add(
            {
                "subscription_id": row["id"],
                "renews_at": row["period_end"],
                "pro_id": row["pro_id"],
                "amount_cents": row["price_cents"],
                "sent_at": at,
            }
        )
        if not recorded:
            return 0
        uow.publish(
            "RenewalReminderDue",
            {
                "subscription_id": row["id"],
                "pro_id": row["pro_id"],
                "plan": row["plan"],
                "renews_at": row["period_end"],
                "amount_cents": row["price_cents"],
                "currency": row["currency"],
            },
        )
        uow.commit()
    log.info(
        "pro %s told of the renewal of %s on %s", row["pro_id"], row["id"], row["period_end"].isoformat()
    )
    return 1


def _lapse_if_due(svc: Any, subscription_id: uuid.UUID, at: dt.datetime, window: dt.timedelta) -> str:
    with svc.uow() as uow:
        row = uow.subscriptions.get(subscription_id)
        if row is None:
            return "gone"
        # Stripe first: the pro may have paid, or turned renewal on again, at this very moment.
        row, _ = sync(uow, svc.catalog, svc.stripe, row["stripe_subscription_id"], at=at, cause=JOB)
        assert row is not None
        deadline = lapse_at(row["status"], row["period_end"], row["renewal_due_at"], window)
        if row["status"] not in (CANCEL_PENDING, PAST_DUE) or deadline is None or deadline > at:
            uow.commit()
            return "synced"
        reason = None
        remote = None
        if row["status"] == PAST_DUE:
            # No more retries, nothing charged later: the subscription ends at Stripe, then here.
            remote = svc.stripe.cancel_subscription(
                row["stripe_subscription_id"], idempotency_key=f"lapse:{row['id']}"
            )
            reason = PAYMENT_FAILED
        apply(
            uow, svc.catalog, row, "lapse", actor=SYSTEM, caller=SYSTEM_CALLER, at=at, cause=JOB,
            remote=remote, reason=reason,
        )  # fmt: skip
        uow.commit()
    log.info("subscription %s of pro %s lapsed", row["id"], row["pro_id"])
    return "lapsed"


def _resync(svc: Any, subscription_id: uuid.UUID, at: dt.datetime) -> str:
    with svc.uow() as uow:
        row = uow.subscriptions.get(subscription_id)
        if row is None:
            return "gone"
        _, outcome = sync(uow, svc.catalog, svc.stripe, row["stripe_subscription_id"], at=at, cause=JOB)
        uow.commit()
    return outcome
