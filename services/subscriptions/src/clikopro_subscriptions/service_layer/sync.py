"""Bringing our subscriptions to Stripe's state: activation, renewals, failures, cancellations, ends.

Every path that learns something from Stripe ends here: the API right after it called Stripe, each
verified webhook (whatever its type or order), and the jobs. The subscription is locked first, then
fetched again from Stripe, so two webhooks handled at once apply the newer state last; then
:func:`~clikopro_subscriptions.domain.billing.reconcile` says which transitions to fire.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from clikopro_subscriptions.domain import lifecycle
from clikopro_subscriptions.domain.billing import StripeSubscription, reconcile
from clikopro_subscriptions.domain.lifecycle import NEW, PRO, STRIPE
from clikopro_subscriptions.domain.plans import Catalog
from clikopro_subscriptions.service_layer.common import (
    SYSTEM_CALLER,
    Caller,
    apply,
    publish_state,
    record_transition,
)
from clikopro_subscriptions.service_layer.unit_of_work import SubscriptionsUnitOfWork

log = logging.getLogger(__name__)


def _ours(remote: StripeSubscription) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    try:
        return (
            uuid.UUID(remote.metadata["clikopro_subscription_id"]),
            uuid.UUID(remote.metadata["pro_id"]),
            remote.metadata["plan"],
        )
    except (KeyError, ValueError):
        return None


def activate(
    uow: SubscriptionsUnitOfWork,
    catalog: Catalog,
    remote: StripeSubscription,
    *,
    actor: str,
    caller: Caller,
    at: dt.datetime,
    cause: str | None,
) -> tuple[Mapping[str, Any] | None, str]:
    """Record a subscription Stripe created for us and paid for (the API's answer or a webhook,
    whichever comes first; the other finds it done). Returns the row and what happened."""
    ours = _ours(remote)
    if ours is None:
        return None, "not ours"
    subscription_id, pro_id, plan_id = ours
    existing = uow.subscriptions.get(subscription_id)
    if existing is not None:
        return existing, "known"
    if not remote.running or remote.paid_invoice is None:
        return None, f"not active at Stripe ({remote.status})"
    plan = catalog.plan_or_free(plan_id)
    status = lifecycle.decide(NEW, "activate", actor)
    row = {
        "id": subscription_id,
        "pro_id": pro_id,
        "plan": plan.id,
        "status": status,
        "price_cents": remote.paid_invoice.amount_paid or plan.price_cents,
        "currency": plan.currency,
        "stripe_customer_id": remote.customer,
        "stripe_subscription_id": remote.id,
        "period_start": remote.period_start,
        "period_end": remote.period_end,
        "paid_invoice_id": remote.paid_invoice.id,
        "renewal_due_at": None,
        "failed_invoice_id": None,
        "activated_at": at,
        "cancelled_at": None,
        "lapsed_at": None,
        "lapse_reason": None,
        "effective_at": at,
        "synced_at": at,
        "updated_at": at,
        "version": 1,
    }
    try:
        with uow.session.begin_nested():
            uow.subscriptions.add(row)
    except IntegrityError:
        # Recorded meanwhile by the other path (same id), or the pro has another live subscription.
        existing = uow.subscriptions.get(subscription_id)
        if existing is not None:
            return existing, "known"
        log.error(
            "Stripe subscription %s of pro %s is paid but the pro has another live subscription here: "
            "needs a person (refund or cancel one)", remote.id, pro_id,
        )  # fmt: skip
        return None, "pro already subscribed"
    uow.checkouts.close(subscription_id)
    record_transition(
        uow, row=row, command="activate", from_state=None, to_state=status, actor=actor, caller=caller,
        at=at, cause=cause, detail={"invoice": remote.paid_invoice.id, "amount_cents": row["price_cents"]},
    )  # fmt: skip
    publish_state(uow, catalog, "activate", row, at)
    return row, "activated"


def sync(
    uow: SubscriptionsUnitOfWork,
    catalog: Catalog,
    stripe: Any,
    stripe_subscription_id: str,
    *,
    at: dt.datetime,
    cause: str | None,
    requested: Collection[str] = (),
    caller: Caller = SYSTEM_CALLER,
) -> tuple[Mapping[str, Any] | None, str]:
    """Lock our subscription, fetch Stripe's, fire what reconciles them (``requested`` commands are
    the caller's own, recorded as theirs; the others are Stripe's). Returns the row and a summary."""
    row = uow.subscriptions.by_stripe_id(stripe_subscription_id, lock=True)
    remote = stripe.retrieve_subscription(stripe_subscription_id)
    if row is None:
        if remote is None:
            return None, "unknown at Stripe"
        return activate(uow, catalog, remote, actor=STRIPE, caller=SYSTEM_CALLER, at=at, cause=cause)
    commands = reconcile(row["status"], row["paid_invoice_id"], remote)
    for command in commands:
        actor = PRO if command in requested and caller.user_id is not None else STRIPE
        row = apply(
            uow, catalog, row, command, actor=actor, caller=caller if actor == PRO else SYSTEM_CALLER,
            at=at, cause=cause, remote=remote,
        )  # fmt: skip
    if not commands:
        row = uow.subscriptions.change(row["id"], row["version"], synced_at=at) or row
    return row, ",".join(commands) or "unchanged"
