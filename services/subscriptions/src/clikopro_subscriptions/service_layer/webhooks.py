"""Stripe's webhooks (R13): verified, handled once per event id, order-proof.

The signature is checked first (``Stripe-Signature``, the endpoint's secret, 5 minutes): a bad one
changes nothing. The event id is recorded in the same transaction as its effect, so a redelivered or
replayed event is answered ``duplicate`` and does nothing. The event's own copy of the object is never
trusted: the subscription it names is fetched again from Stripe and its current state applied
(sync.py), so an old event arriving late, or ``customer.subscription.updated`` before ``.created``,
cannot move the subscription backwards. A failure (Stripe unreachable) answers 503, recording nothing:
Stripe sends the event again.
"""

from __future__ import annotations

import logging
from typing import Any

from clikopro_subscriptions.adapters.stripe_billing import invoice_subscription_id
from clikopro_subscriptions.service_layer.sync import sync

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
)
INVOICE_EVENTS = (
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.marked_uncollectible",
)


def subscription_named(event: dict[str, Any]) -> str | None:
    """The Stripe subscription an event is about, if it is one we follow."""
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("type") in SUBSCRIPTION_EVENTS:
        return obj.get("id")
    if event.get("type") in INVOICE_EVENTS:
        return invoice_subscription_id(obj)
    return None


def handle(svc: Any, payload: bytes, signature: str | None) -> str:
    """Raises InvalidSignature (nothing recorded) or StripeUnavailable (nothing recorded: 503)."""
    event = svc.stripe.construct_event(payload, signature)
    subscription_id = subscription_named(event)
    if subscription_id is None:
        return "ignored"
    at = svc.now()
    with svc.uow() as uow:
        first = uow.stripe_events.record(
            {
                "id": event["id"],
                "type": event["type"],
                "stripe_subscription_id": subscription_id,
                "created": event.get("created"),
                "received_at": at,
                "outcome": None,
            }
        )
        if not first:
            log.info("Stripe event %s (%s) already handled", event["id"], event["type"])
            return "duplicate"
        _, outcome = sync(uow, svc.catalog, svc.stripe, subscription_id, at=at, cause=f"stripe:{event['id']}")
        uow.stripe_events.set_outcome(event["id"], outcome)
        uow.commit()
    log.info("Stripe event %s (%s) on %s: %s", event["id"], event["type"], subscription_id, outcome)
    return outcome
