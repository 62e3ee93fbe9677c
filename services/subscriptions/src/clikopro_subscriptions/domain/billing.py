"""Pure rules of billing: what Stripe's state means for ours, reminders, lapses, what is in force.

Stripe is the source of truth of the money (was the renewal paid?); this service is the source of
truth of the entitlements. Whatever webhook arrives, in whatever order, the service fetches the
subscription again and :func:`reconcile` says which transitions bring our state to Stripe's. A
renewal is a *paid invoice we have not recorded yet*, not an event that happened to arrive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clikopro_subscriptions.domain.lifecycle import ACTIVE, CANCEL_PENDING, LAPSED, PAST_DUE

#: Stripe statuses of a subscription that still runs (paid, or paid-for-now with retries).
STRIPE_RUNNING = ("active", "trialing")
#: Stripe statuses after which nothing will be charged any more: the plan lapses.
STRIPE_ENDED = ("canceled", "incomplete_expired", "unpaid", "paused")

NOT_RENEWED = "not_renewed"
PAYMENT_FAILED = "payment_failed"


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    #: draft, open, paid, uncollectible, void.
    status: str
    amount_paid: int
    currency: str
    billing_reason: str | None = None


@dataclass(frozen=True)
class StripeSubscription:
    """What the service reads of a Stripe subscription (fetched again on every webhook)."""

    id: str
    customer: str
    status: str
    cancel_at_period_end: bool
    period_start: dt.datetime
    period_end: dt.datetime
    latest_invoice: StripeInvoice | None
    #: Ours: clikopro_subscription_id, pro_id, plan.
    metadata: dict[str, str]
    default_payment_method: str | None = None

    @property
    def running(self) -> bool:
        return self.status in STRIPE_RUNNING

    @property
    def ended(self) -> bool:
        return self.status in STRIPE_ENDED

    @property
    def paid_invoice(self) -> StripeInvoice | None:
        invoice = self.latest_invoice
        return invoice if invoice is not None and invoice.status == "paid" else None


def reconcile(status: str, paid_invoice_id: str | None, remote: StripeSubscription | None) -> list[str]:
    """The commands that bring a subscription of ours (``status``, paid by ``paid_invoice_id``) to
    what Stripe says now (``remote``; None: Stripe does not know it any more). Applying them and
    calling this again gives ``[]``: the same state seen twice, in any order, changes nothing twice."""
    if status == LAPSED:
        return []
    if remote is None or remote.ended:
        return ["lapse"]
    commands: list[str] = []
    state = status
    paid = remote.paid_invoice
    if remote.running and paid is not None and paid.id != paid_invoice_id:
        commands.append("recover" if state == PAST_DUE else "renew")
        state = ACTIVE if state == PAST_DUE else state
    elif remote.status == "past_due" and state in (ACTIVE, CANCEL_PENDING):
        commands.append("fail_renewal")
        state = PAST_DUE
    if state == ACTIVE and remote.cancel_at_period_end:
        commands.append("cancel")
    elif state == CANCEL_PENDING and not remote.cancel_at_period_end:
        commands.append("resume")
    return commands


def lapse_reason(status: str, remote: StripeSubscription | None) -> str:
    """Why a plan lapses: its renewal was not paid, or renewal was turned off."""
    if status == PAST_DUE:
        return PAYMENT_FAILED
    if remote is not None:
        if remote.status == "unpaid":
            return PAYMENT_FAILED
        if remote.latest_invoice is not None and remote.latest_invoice.status in ("open", "uncollectible"):
            return PAYMENT_FAILED
    return NOT_RENEWED


def renews(status: str) -> bool:
    """Tacit renewal is on (the pro did not turn it off, and the plan did not lapse)."""
    return status in (ACTIVE, PAST_DUE)


def reminder_due(status: str, period_end: dt.datetime, now: dt.datetime, days_before: int) -> bool:
    """A renewal notice is due from ``days_before`` days before the renewal until the renewal itself
    (a worker that was down sends it late rather than never); once per period is the caller's record."""
    return status == ACTIVE and period_end - dt.timedelta(days=days_before) <= now < period_end


def lapse_at(
    status: str,
    period_end: dt.datetime,
    renewal_due_at: dt.datetime | None,
    retry_window: dt.timedelta,
) -> dt.datetime | None:
    """When the plan lapses if nothing changes: at the end of the period when renewal is off, at the
    end of the retry window after a failed renewal; None while it renews."""
    if status == CANCEL_PENDING:
        return period_end
    if status == PAST_DUE:
        return (renewal_due_at or period_end) + retry_window
    return None


def paid_plan_in_force(
    status: str,
    period_end: dt.datetime,
    renewal_due_at: dt.datetime | None,
    now: dt.datetime,
    retry_window: dt.timedelta,
) -> bool:
    """Whether the paid plan's entitlements apply at ``now``: while active (a renewal in progress
    included), until the period's end once renewal is off, during the retry window of a failed
    renewal. The jobs publish the lapse; this keeps the reads right meanwhile."""
    if status == ACTIVE:
        return True
    deadline = lapse_at(status, period_end, renewal_due_at, retry_window)
    return deadline is not None and now < deadline
