"""Stripe Billing as CLIKOPRO's subscriptions service uses it, patched into localstripe.

localstripe has plans, subscriptions and invoices, but a subscription never renews and its
period never moves. What the subscriptions service relies on, done here as Stripe does it:

- a subscription takes a ``default_payment_method`` (which must be attached to the customer)
  and charges it, at creation and at each renewal (else the customer's
  ``invoice_settings.default_payment_method``);
- ``payment_behavior=error_if_incomplete``: a first payment that fails refuses the creation
  (402 ``card_declined``) and leaves no subscription (localstripe left an ``incomplete`` one);
- the current period is on the subscription items (``items.data[].current_period_start|end``,
  where Stripe API 2025-03-31 and later put it) as well as on the subscription (older versions);
- ``POST /v1/subscriptions/{id}`` (``cancel_at_period_end``, ``default_payment_method``) sends
  ``customer.subscription.updated``; a canceled subscription cannot be updated (400);
- a paid invoice sends ``invoice.paid`` as well as ``invoice.payment_succeeded``; invoices carry
  ``billing_reason`` (``subscription_create``, ``subscription_cycle``, ``manual``);
- **renewal**: when a period ends at the emulator's clock (``clock.py``), the subscription starts
  a new period at the old end and charges an invoice (``subscription_cycle``) with its payment
  method: ``invoice.created``, ``invoice.paid``/``invoice.payment_succeeded`` (status ``active``)
  or ``invoice.payment_failed`` (status ``past_due``), then ``customer.subscription.updated``.
  With ``cancel_at_period_end`` it ends instead: status ``canceled``,
  ``customer.subscription.deleted``. This runs in the background every half second (moving the
  clock is enough) and on demand (the control endpoints below);
- ``POST /v1/invoices/{id}/pay`` (optionally with a ``payment_method``) charges an open invoice:
  paid, a ``past_due`` subscription is ``active`` again; declined, 402 ``card_declined`` as on
  Stripe (localstripe answered 200 and sent nothing).

Not emulated: Smart Retries (a ``past_due`` invoice is not retried by itself: the retry window is
the subscriptions service's), ``invoice.upcoming``, test clock objects, prorations, trials beyond
localstripe's, ``previous_attributes`` in events.

Control endpoints (not Stripe's):

- ``POST /_config/billing/run``: renew or end now every subscription whose period has ended at the
  emulator's clock (what the background task does); answers what it did;
- ``POST /_config/subscriptions/{id}/renew``: end this subscription's current period now and run
  its renewal (what a Stripe test clock does when advanced to the period end), charged with its
  payment method: ``{"subscription": ..., "outcome": "renewed" | "payment_failed" | "canceled"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from aiohttp import web
from dateutil.relativedelta import relativedelta
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response

from clikopro_stripe_emulator import clock

log = logging.getLogger("clikopro_stripe_emulator.billing")

#: How often the background task looks for subscriptions whose period has ended.
RENEWAL_POLL_SECONDS = 0.5
#: Periods renewed at most in one go for one subscription (the clock may jump years ahead).
MAX_CYCLES = 24
#: Subscription statuses that renew when their period ends (Stripe keeps cycling a past_due one).
RENEWING = ("active", "past_due", "trialing")
#: Parameters of subscription creation and update that Stripe accepts and the emulator ignores.
IGNORED_PARAMS = ("off_session", "proration_behavior", "collection_method", "payment_settings")

_patched = False
#: ``billing_reason`` of the next invoice created (set around a subscription's own invoicing).
_billing_reason: list[str] = []


def _event(type_: str, obj: Any) -> None:
    ls.schedule_webhook(ls.Event(type_, obj))


def _attached_payment_method(payment_method: Any, customer: Any, param: str) -> Any:
    if not isinstance(payment_method, str) or not payment_method.startswith(("pm_", "card_", "src_")):
        raise UserError(400, f"Invalid {param}", {"param": param})
    pm = ls.PaymentMethod._api_retrieve(payment_method)
    if getattr(pm, "customer", None) != customer:
        raise UserError(
            400,
            f"The customer does not have a payment method with the ID {payment_method}. "
            "The payment method must be attached to the customer.",
            {"code": "resource_missing", "param": param},
        )
    return pm


@contextlib.contextmanager
def _invoicing(reason: str):
    _billing_reason.append(reason)
    try:
        yield
    finally:
        _billing_reason.pop()


def _add_interval(start: int, plan: Any) -> int:
    count = int(getattr(plan, "interval_count", 1) or 1)
    delta = {
        "day": relativedelta(days=count),
        "week": relativedelta(weeks=count),
        "month": relativedelta(months=count),
        "year": relativedelta(years=count),
    }[plan.interval]
    return int((dt.datetime.fromtimestamp(start, dt.UTC) + delta).timestamp())


def patch() -> None:
    """Once per process (idempotent)."""
    global _patched
    if _patched:
        return
    _patched = True
    _patch_subscriptions()
    _patch_invoices()


def _patch_subscriptions() -> None:
    sub_cls = ls.Subscription
    original_init = sub_cls.__init__
    original_update = sub_cls._update
    original_delete = sub_cls._api_delete
    original_current_period = ls.SubscriptionItem._current_period

    def init(self, default_payment_method=None, **kwargs):
        for name in IGNORED_PARAMS:
            kwargs.pop(name, None)
        if default_payment_method is not None:
            customer = kwargs.get("customer")
            default_payment_method = _attached_payment_method(
                default_payment_method, customer, "default_payment_method"
            ).id
        # Set before localstripe's constructor, which charges the first invoice.
        self.default_payment_method = default_payment_method
        with _invoicing("subscription_create"):
            original_init(self, **kwargs)

    def update(self, default_payment_method=None, **data):
        if self.status in ("canceled", "incomplete_expired"):
            raise UserError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
                {"code": "resource_missing"},
            )
        for name in (*IGNORED_PARAMS, "payment_behavior"):
            data.pop(name, None)
        if default_payment_method is not None:
            self.default_payment_method = _attached_payment_method(
                default_payment_method, self.customer, "default_payment_method"
            ).id
        if data:
            with _invoicing("subscription_update"):
                original_update(self, **data)
        _event("customer.subscription.updated", self)

    @classmethod
    def delete(cls, id, **kwargs):
        obj = cls._api_retrieve(id)
        if obj.status == "canceled":
            return obj  # already ended: nothing more happens, no second event
        obj.canceled_at = int(clock.now())
        return original_delete(id)

    def current_period(self):
        sub = ls.store.get("subscription:" + self._subscription) if self._subscription else None
        period = getattr(sub, "_clikopro_period", None)
        if period is not None:
            return {"start": period[0], "end": period[1]}
        return original_current_period(self)

    sub_cls.__init__ = init
    sub_cls._update = update
    sub_cls._api_delete = delete
    sub_cls.default_payment_method = None
    ls.SubscriptionItem._current_period = current_period
    ls.SubscriptionItem.current_period_start = property(lambda self: self._current_period()["start"])
    ls.SubscriptionItem.current_period_end = property(lambda self: self._current_period()["end"])


def _patch_invoices() -> None:
    inv_cls = ls.Invoice
    original_init = inv_cls.__init__
    original_success = inv_cls._on_payment_success

    def init(self, *args, **kwargs):
        # localstripe sends invoice.created from its constructor: hold it until billing_reason is set.
        held: list[Any] = []
        real_schedule = ls.schedule_webhook
        ls.schedule_webhook = held.append
        try:
            original_init(self, *args, **kwargs)
        finally:
            ls.schedule_webhook = real_schedule
        self.billing_reason = _billing_reason[-1] if _billing_reason else "manual"
        for event in held:
            event.data = {"object": self._export()}
            real_schedule(event)

    def on_payment_success(self):
        sub = ls.store.get("subscription:" + self.subscription) if self.subscription else None
        before = getattr(sub, "status", None)
        original_success(self)
        _event("invoice.paid", self)
        if sub is not None and before == "past_due" and sub.status == "active":
            _event("customer.subscription.updated", sub)

    def pay_invoice(cls, id, payment_method=None, **kwargs):
        # What localstripe's own code calls (creating a subscription): never raises on a decline.
        invoice, _ = charge_invoice(cls._api_retrieve(id), payment_method)
        return invoice

    inv_cls.__init__ = init
    inv_cls._on_payment_success = on_payment_success
    inv_cls._api_pay_invoice = classmethod(pay_invoice)


def charge_invoice(invoice: Any, payment_method: str | None = None) -> tuple[Any, bool]:
    """Finalize and charge an invoice with ``payment_method``, else its subscription's default
    payment method, else its customer's. Returns ``(invoice, declined)``."""
    if invoice.status == "paid":
        raise UserError(400, "Invoice is already paid", {"code": "invoice_already_paid"})
    if invoice.status not in ("draft", "open"):
        raise UserError(400, f"You cannot pay an invoice with status {invoice.status}.")
    invoice._draft = False
    if invoice.total <= 0:
        invoice._on_payment_success()
        return invoice, False
    sub = ls.store.get("subscription:" + invoice.subscription) if invoice.subscription else None
    customer = ls.Customer._api_retrieve(invoice.customer)
    if payment_method is not None:
        method = _attached_payment_method(payment_method, invoice.customer, "payment_method").id
    elif getattr(sub, "default_payment_method", None):
        method = sub.default_payment_method
    else:
        found = customer._get_default_payment_method_or_source()
        if found is None:
            raise UserError(400, "This customer has no attached payment source or default payment method.")
        method = found.id
    intent = ls.PaymentIntent(
        amount=invoice.total, currency=invoice.currency, customer=invoice.customer, payment_method=method
    )
    invoice.payment_intent = intent.id
    intent.invoice = invoice.id
    declined: list[bool] = []
    intent._confirm(on_failure_now=lambda: declined.append(True))
    if declined:
        _event("payment_intent.payment_failed", intent)
        # past_due for a running subscription; for a new one with error_if_incomplete, raises 402.
        invoice._on_payment_failure_now()
    return invoice, bool(declined)


# -- renewals ----------------------------------------------------------------------------------


def cycle(sub: Any, start: int) -> str:
    """End ``sub``'s current period at ``start``: renew it (a new period from ``start``, its invoice
    charged) or, if renewal is off, end it. Returns ``renewed``, ``payment_failed`` or ``canceled``."""
    if sub.cancel_at_period_end or (sub.cancel_at is not None and sub.cancel_at <= start):
        sub.status = "canceled"
        sub.ended_at = start
        sub.canceled_at = sub.canceled_at or start
        _event("customer.subscription.deleted", sub)
        return "canceled"
    sub._clikopro_period = (start, _add_interval(start, sub.plan))
    with _invoicing("subscription_cycle"):
        sub._create_invoice()  # localstripe's: the invoice of the current period, charged
    _event("customer.subscription.updated", sub)
    return "renewed" if sub.status == "active" else "payment_failed"


def run_due(now: float | None = None) -> list[dict[str, Any]]:
    """Renew or end every subscription whose period has ended at ``now`` (the emulator's clock)."""
    now = clock.now() if now is None else now
    done: list[dict[str, Any]] = []
    for key, sub in list(ls.store.items()):
        if not key.startswith("subscription:"):
            continue
        for _ in range(MAX_CYCLES):
            if sub.status not in RENEWING or sub.current_period_end > now:
                break
            outcome = cycle(sub, sub.current_period_end)
            done.append(
                {"subscription": sub.id, "outcome": outcome, "period_start": sub.current_period_start}
            )
    return done


async def _renewals(app: web.Application) -> None:
    while True:
        await asyncio.sleep(RENEWAL_POLL_SECONDS)
        try:
            for renewal in run_due():
                log.info("subscription %(subscription)s: %(outcome)s", renewal)
        except Exception:  # a bug here must not stop renewals for good
            log.exception("renewals failed")


async def _start(app: web.Application) -> None:
    app["clikopro_billing_renewals"] = asyncio.ensure_future(_renewals(app))


async def _stop(app: web.Application) -> None:
    task = app.get("clikopro_billing_renewals")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- HTTP ----------------------------------------------------------------------------------------


async def pay_invoice(request: web.Request) -> web.Response:
    """``POST /v1/invoices/{id}/pay``: a decline answers 402, as on Stripe."""
    data = await get_post_data(request) or {}
    expand = data.pop("expand", None)
    payment_method = data.pop("payment_method", None)
    for ignored in ("off_session", "forgive", "paid_out_of_band"):
        data.pop(ignored, None)
    if data:
        raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(data)))
    invoice, declined = charge_invoice(ls.Invoice._api_retrieve(request.match_info["id"]), payment_method)
    if declined:
        charge = invoice.charge
        raise UserError(
            402,
            getattr(charge, "failure_message", None) or "Your card was declined.",
            {"code": getattr(charge, "failure_code", None) or "card_declined", "charge": charge.id},
        )
    return json_response(invoice._export(expand=expand))


async def run_now(request: web.Request) -> web.Response:
    return json_response({"processed": run_due(), "now": int(clock.now())})


async def renew_subscription(request: web.Request) -> web.Response:
    sub = ls.Subscription._api_retrieve(request.match_info["id"])
    if sub.status not in RENEWING:
        raise UserError(400, f"A subscription with status {sub.status} does not renew.")
    outcome = cycle(sub, int(clock.now()))
    return json_response({"subscription": sub._export(), "outcome": outcome})


ROUTES = [
    ("POST", "/v1/invoices/{id}/pay", pay_invoice),
    ("POST", "/_config/billing/run", run_now),
    ("POST", "/_config/subscriptions/{id}/renew", renew_subscription),
]


def install(app: web.Application) -> None:
    """Patch localstripe, add the routes (before localstripe's own, which they replace) and start the
    background renewals with the app."""
    patch()
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
