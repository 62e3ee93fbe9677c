"""What a professional does with their subscription (R12): subscribe to a paid plan, turn tacit
renewal off and on again, give another card.

Subscribing talks to Stripe between two transactions of ours, so it must survive a crash, a timeout
or a copy of the request at any point without charging twice:

1. the pro's *checkout* is taken (a lease: one request at a time talks to Stripe for a pro); it holds
   the id the subscription will have and an attempt number;
2. at Stripe: the customer (key ``customer:<pro>``), the card attached, the subscription created with
   key ``subscription:<id>:<attempt>`` and our id in its metadata, ``error_if_incomplete`` (the first
   year is paid, or nothing is created: 402);
3. the subscription is recorded and SubscriptionActivated published, with the Idempotency-Key.

A decline ends the attempt (the next one has a new key). An attempt with no answer from Stripe is
looked up at Stripe (by our id in the metadata) before another is made; the webhook
``customer.subscription.created`` also records the subscription if this request died after step 2.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from clikopro_chassis.context import request_id_var
from clikopro_chassis.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed, field_error
from clikopro_chassis.stripe.adapter import StripeNotConfigured, StripeRefused, StripeUnavailable
from clikopro_subscriptions.domain import lifecycle
from clikopro_subscriptions.domain.billing import StripeSubscription
from clikopro_subscriptions.domain.lifecycle import PAST_DUE, PRO
from clikopro_subscriptions.service_layer import views
from clikopro_subscriptions.service_layer.common import Caller, PaymentFailed, require_pro, unavailable
from clikopro_subscriptions.service_layer.sync import activate, sync

log = logging.getLogger(__name__)


def _cause() -> str:
    return f"request:{request_id_var.get() or 'none'}"


def _refused(exc: StripeRefused, field: str = "payment_method") -> Exception:
    if exc.declined:
        return PaymentFailed(
            "The card was declined; nothing was charged. Try another card.",
            decline_code=exc.code or "card_declined",
        )
    if exc.status == 404 or exc.code == "resource_missing":
        return ValidationFailed(errors=[field_error(field, "is not a payment method Stripe knows")])
    return ValidationFailed(errors=[field_error(field, f"was refused by Stripe: {exc}")])


def _stripe_call(call: Any) -> Any:
    try:
        return call()
    except StripeNotConfigured as exc:
        raise ServiceUnavailable(str(exc)) from None
    except StripeUnavailable as exc:
        raise unavailable(str(exc)) from None


# -- subscribe ---------------------------------------------------------------------------------------


def subscribe(svc: Any, caller: Caller, plan_id: str, payment_method: str) -> dict[str, Any]:
    pro_id = require_pro(caller)
    plan = svc.catalog.paid(plan_id)
    if plan is None:
        known = ", ".join(p.id for p in svc.catalog.plans if not p.is_free)
        raise ValidationFailed(errors=[field_error("plan", f"must be a paid plan: {known}")])
    at = svc.now()
    with svc.uow() as uow:
        live = uow.subscriptions.live_of(pro_id)
        if live is not None:
            raise Conflict(
                f"You already have the {live['plan']} plan ({live['status']}).",
                subscription_id=str(live["id"]),
            )
        until = at + dt.timedelta(seconds=svc.settings.checkout_lease_seconds)
        checkout = uow.checkouts.lease(pro_id, plan.id, at, until)
        if checkout is None:
            raise Conflict("Your subscription is being set up by another request: retry in a moment.")
        customer = uow.customers.get(pro_id)
        uow.commit_step()  # the lease is visible to other requests; the Idempotency-Key is not claimed yet
    subscription_id, attempt = checkout["subscription_id"], checkout["attempt"]
    try:
        remote = _at_stripe(svc, pro_id, plan, customer, checkout, payment_method)
    except StripeRefused as exc:
        _release(svc, pro_id, subscription_id, next_attempt=True, outcome_unknown=False)
        raise _refused(exc) from None
    except StripeUnavailable as exc:
        _release(svc, pro_id, subscription_id, next_attempt=False, outcome_unknown=True)
        raise unavailable(str(exc)) from None
    except StripeNotConfigured as exc:
        _release(svc, pro_id, subscription_id, next_attempt=False, outcome_unknown=False)
        raise ServiceUnavailable(str(exc)) from None
    except BaseException:
        _release(svc, pro_id, subscription_id, next_attempt=False, outcome_unknown=True)
        raise
    log.info("pro %s subscribed to %s at Stripe (%s, attempt %d)", pro_id, plan.id, remote.id, attempt)
    return _record(svc, caller, remote)


def _at_stripe(
    svc: Any,
    pro_id: uuid.UUID,
    plan: Any,
    customer: str | None,
    checkout: Mapping[str, Any],
    payment_method: str,
) -> StripeSubscription:
    stripe = svc.stripe
    subscription_id = str(checkout["subscription_id"])
    if customer is None:
        created = stripe.create_customer(pro_id=str(pro_id), idempotency_key=f"customer:{pro_id}")
        with svc.uow() as uow:
            customer = uow.customers.add(pro_id, created, svc.now())
            uow.commit_step()
    stripe.ensure_price(plan)
    attempt = checkout["attempt"]
    if checkout["outcome_unknown"]:
        # The last attempt got no answer: did it create the subscription? Ask before trying again.
        found = stripe.find_subscription(customer=customer, clikopro_subscription_id=subscription_id)
        if found is not None and found.running:
            return found
        with svc.uow() as uow:
            attempt = uow.checkouts.next_attempt(pro_id, checkout["subscription_id"], svc.now())
            uow.commit_step()
    key = f"{subscription_id}:{attempt}"
    method = stripe.attach_payment_method(payment_method, customer=customer, idempotency_key=f"attach:{key}")
    return stripe.create_subscription(
        customer=customer,
        price=plan.stripe_price,
        payment_method=method,
        metadata={"clikopro_subscription_id": subscription_id, "pro_id": str(pro_id), "plan": plan.id},
        idempotency_key=f"subscription:{key}",
    )


def _release(
    svc: Any, pro_id: uuid.UUID, subscription_id: uuid.UUID, *, next_attempt: bool, outcome_unknown: bool
) -> None:
    with svc.uow() as uow:
        uow.checkouts.release(
            pro_id, subscription_id, svc.now(), next_attempt=next_attempt, outcome_unknown=outcome_unknown
        )
        uow.commit_step()


def _record(svc: Any, caller: Caller, remote: StripeSubscription) -> dict[str, Any]:
    at = svc.now()
    with svc.uow() as uow:
        row, outcome = activate(uow, svc.catalog, remote, actor=PRO, caller=caller, at=at, cause=_cause())
        if row is None:
            raise Conflict(f"The subscription could not be recorded: {outcome}.")
        uow.commit()  # with the Idempotency-Key: a copy of this request gets this answer
        return views.subscription(row, svc.catalog, svc.settings, at)


# -- the subscription in force ---------------------------------------------------------------------------


def mine(svc: Any, caller: Caller) -> dict[str, Any]:
    pro_id = require_pro(caller)
    with svc.uow() as uow:
        row = uow.subscriptions.latest_of(pro_id)
        if row is None:
            raise NotFound("You have never subscribed: you are on the free plan.")
        return views.subscription(row, svc.catalog, svc.settings, svc.now())


def history(svc: Any, caller: Caller) -> dict[str, Any]:
    pro_id = require_pro(caller)
    with svc.uow() as uow:
        row = uow.subscriptions.latest_of(pro_id)
        if row is None:
            raise NotFound("You have never subscribed: you are on the free plan.")
        return {
            "items": [views.transition(t) for t in uow.transitions.of_subscription(row["id"])],
            "next_cursor": None,
        }


def _live(svc: Any, pro_id: uuid.UUID) -> Mapping[str, Any]:
    with svc.uow() as uow:
        row = uow.subscriptions.live_of(pro_id)
    if row is None:
        raise NotFound("You have no subscription in force.")
    return row


def set_renewal(svc: Any, caller: Caller, *, on: bool) -> dict[str, Any]:
    """Turn tacit renewal off (the plan stays until the end of the period) or on again."""
    pro_id = require_pro(caller)
    command = "resume" if on else "cancel"
    row = _live(svc, pro_id)
    lifecycle.decide(row["status"], command, PRO)  # 409 when the state does not allow it
    if on and svc.now() >= row["period_end"]:
        raise Conflict("The period is over: subscribe again.")
    _stripe_call(
        lambda: svc.stripe.update_subscription(
            row["stripe_subscription_id"],
            cancel_at_period_end=not on,
            idempotency_key=f"{command}:{row['id']}:{row['version']}",
        )
    )
    return _synced(svc, caller, row, requested={command})


def change_payment_method(svc: Any, caller: Caller, payment_method: str) -> dict[str, Any]:
    """The card renewals are charged to; after a failed renewal, the open invoice is paid with it at once."""
    pro_id = require_pro(caller)
    row = _live(svc, pro_id)
    stripe = svc.stripe
    try:
        method = _stripe_call(
            lambda: stripe.attach_payment_method(
                payment_method, customer=row["stripe_customer_id"], idempotency_key=f"attach:{uuid.uuid4()}"
            )
        )
        remote = _stripe_call(
            lambda: stripe.update_subscription(
                row["stripe_subscription_id"],
                default_payment_method=method,
                idempotency_key=f"card:{uuid.uuid4()}",
            )
        )
    except StripeRefused as exc:
        raise _refused(exc) from None
    declined = None
    invoice = remote.latest_invoice
    if (
        row["status"] == PAST_DUE
        and remote.status == "past_due"
        and invoice is not None
        and invoice.status == "open"
    ):
        try:
            _stripe_call(lambda: stripe.pay_invoice(invoice.id, idempotency_key=f"pay:{invoice.id}:{method}"))
        except StripeRefused as exc:
            declined = exc
    # Declined: what Stripe now says is recorded, but not the Idempotency-Key (nothing was answered).
    view = _synced(svc, caller, row, requested=(), claim=declined is None)
    if declined is not None:
        raise _refused(declined)
    return view


def _synced(
    svc: Any, caller: Caller, row: Mapping[str, Any], *, requested: Collection[str], claim: bool = True
) -> dict[str, Any]:
    """Apply what Stripe says now (``requested``: the caller's own commands); ``claim``: with the
    request's Idempotency-Key (its answer is this), else without (the request fails after this)."""
    at = svc.now()
    with svc.uow() as uow:
        synced, _ = _stripe_call(
            lambda: sync(
                uow, svc.catalog, svc.stripe, row["stripe_subscription_id"], at=at, cause=_cause(),
                requested=requested, caller=caller,
            )
        )  # fmt: skip
        if claim:
            uow.commit()
        else:
            uow.commit_step()
        return views.subscription(synced or row, svc.catalog, svc.settings, at)
