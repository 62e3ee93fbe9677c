"""Pure rules: the catalog, the lifecycle table, reconciliation with Stripe, deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from clikopro_chassis.errors import Conflict, Forbidden
from clikopro_subscriptions.bootstrap import load_catalog
from clikopro_subscriptions.domain import lifecycle
from clikopro_subscriptions.domain.billing import (
    NOT_RENEWED,
    PAYMENT_FAILED,
    StripeInvoice,
    StripeSubscription,
    lapse_at,
    lapse_reason,
    paid_plan_in_force,
    reconcile,
    reminder_due,
)
from clikopro_subscriptions.domain.lifecycle import (
    ACTIVE,
    CANCEL_PENDING,
    LAPSED,
    NEW,
    PAST_DUE,
    PRO,
    STRIPE,
    SYSTEM,
)
from clikopro_subscriptions.domain.months import month_key
from clikopro_subscriptions.domain.plans import FEATURES, CatalogError, parse_catalog
from clikopro_subscriptions.settings import SubscriptionsSettings

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=365)
WEEK = dt.timedelta(days=7)


# -- the catalog ---------------------------------------------------------------------------------------


def test_the_shipped_catalog_has_the_free_plan_and_paid_plans_as_api_md_names_them() -> None:
    catalog = load_catalog(SubscriptionsSettings(service="subscriptions"))
    free = catalog.free
    assert (free.price_cents, free.features, free.proposals_per_month) == (0, (), 5)
    paid = [p for p in catalog.plans if not p.is_free]
    assert paid and all(p.price_cents > 0 and p.interval == "year" and p.currency == "EUR" for p in paid)
    for plan in paid:
        assert set(plan.features) == set(FEATURES) and plan.proposals_per_month is None
        assert plan.stripe_price and plan.stripe_product
        assert plan.commission_rate_bps < free.commission_rate_bps
    assert catalog.paid("free") is None and catalog.paid("nope") is None and catalog.paid("pro") is not None


GOOD = """
plans:
  - {id: free, name: Free, price_cents: 0, features: [], proposals_per_month: 3, commission_rate_bps: 900}
  - id: gold
    name: Gold
    price_cents: 100
    features: [direct_payment, unlimited_proposals]
    proposals_per_month: null
    commission_rate_bps: 100
    stripe: {product: prod_gold, price: price_gold}
"""


def test_a_catalog_is_data_another_file_gives_other_plans(tmp_path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_text(GOOD)
    catalog = load_catalog(SubscriptionsSettings(service="subscriptions", plans_file=str(path)))
    assert [p.id for p in catalog.plans] == ["free", "gold"]
    assert catalog.free.proposals_per_month == 3
    assert catalog.get("gold").public() == {
        "id": "gold", "name": "Gold", "price_cents": 100, "currency": "EUR", "interval": "year",
        "features": ["direct_payment", "unlimited_proposals"], "proposals_per_month": None,
        "commission_rate_bps": 100,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (GOOD.replace("id: free", "id: basic"), "must have the `free` plan"),
        (
            GOOD.replace("features: [direct_payment, unlimited_proposals]", "features: [teleportation]"),
            "features",
        ),
        (GOOD.replace("proposals_per_month: null", "proposals_per_month: 4"), "exactly when unlimited"),
        (GOOD.replace("commission_rate_bps: 100", "commission_rate_bps: 10001"), "commission_rate_bps"),
        (GOOD.replace("price_cents: 100", "price_cents: 1.5"), "price_cents"),
        (GOOD.replace("stripe: {product: prod_gold, price: price_gold}", "stripe: {}"), "stripe.price"),
        (
            GOOD.replace(
                "features: [], proposals_per_month: 3", "features: [appointments], proposals_per_month: 3"
            ),
            "free plan",
        ),
        (
            GOOD
            + "  - {id: free, name: Again, price_cents: 0, proposals_per_month: 3, commission_rate_bps: 9}\n",
            "unique",
        ),
        ("plans: 3", "list of `plans`"),
        ("currency: USD\n" + GOOD, "EUR"),
    ],
)
def test_an_invalid_catalog_is_refused_with_what_is_wrong(change: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(change)


# -- the lifecycle table ---------------------------------------------------------------------------------


def test_the_lifecycle_of_issue_5() -> None:
    assert lifecycle.decide(NEW, "activate", PRO) == ACTIVE
    assert lifecycle.decide(ACTIVE, "cancel", PRO) == CANCEL_PENDING
    assert lifecycle.decide(CANCEL_PENDING, "resume", PRO) == ACTIVE
    assert lifecycle.decide(ACTIVE, "renew", STRIPE) == ACTIVE
    assert lifecycle.decide(ACTIVE, "fail_renewal", STRIPE) == PAST_DUE
    assert lifecycle.decide(PAST_DUE, "recover", STRIPE) == ACTIVE
    assert lifecycle.decide(PAST_DUE, "lapse", SYSTEM) == LAPSED
    assert lifecycle.decide(CANCEL_PENDING, "lapse", SYSTEM) == LAPSED
    assert set(lifecycle.STATES) == {ACTIVE, CANCEL_PENDING, PAST_DUE, LAPSED}


@pytest.mark.parametrize(
    ("state", "command", "actor", "error"),
    [
        (LAPSED, "resume", PRO, Conflict),  # nothing comes back from lapsed
        (LAPSED, "renew", STRIPE, Conflict),
        (CANCEL_PENDING, "cancel", PRO, Conflict),
        (ACTIVE, "resume", PRO, Conflict),
        (PAST_DUE, "cancel", PRO, Conflict),
        (ACTIVE, "lapse", PRO, Forbidden),  # a pro turns renewal off; they do not end the plan at once
        (ACTIVE, "renew", PRO, Forbidden),  # only a payment renews
        (PAST_DUE, "recover", SYSTEM, Forbidden),
        (ACTIVE, "lapse", SYSTEM, Forbidden),  # the jobs lapse only what is due
    ],
)
def test_what_the_table_does_not_allow_is_refused(state, command, actor, error) -> None:
    assert not lifecycle.allows(state, command, actor)
    with pytest.raises(error):
        lifecycle.decide(state, command, actor)


def test_every_command_publishes_the_event_the_contracts_name() -> None:
    assert set(lifecycle.EVENT_OF) == set(lifecycle.COMMANDS)
    assert {e for e in lifecycle.EVENT_OF.values() if e} == {
        "SubscriptionActivated", "SubscriptionRenewed", "SubscriptionCancelled", "SubscriptionLapsed",
    }  # fmt: skip


# -- what Stripe's state means for ours -------------------------------------------------------------------


def remote(
    status="active", *, cap=False, invoice="in_1", invoice_status="paid", start=T0
) -> StripeSubscription:
    return StripeSubscription(
        id="sub_1", customer="cus_1", status=status, cancel_at_period_end=cap, period_start=start,
        period_end=start + YEAR, metadata={},
        latest_invoice=StripeInvoice(invoice, invoice_status, 29900 if invoice_status == "paid" else 0, "EUR")
        if invoice else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "paid", "stripe", "commands"),
    [
        (ACTIVE, "in_1", remote(), []),
        (ACTIVE, "in_1", remote(invoice="in_2"), ["renew"]),
        (ACTIVE, "in_1", remote(cap=True), ["cancel"]),
        (CANCEL_PENDING, "in_1", remote(), ["resume"]),
        (CANCEL_PENDING, "in_1", remote(cap=True), []),
        (ACTIVE, "in_1", remote("past_due", invoice="in_2", invoice_status="open"), ["fail_renewal"]),
        (PAST_DUE, "in_1", remote("past_due", invoice="in_2", invoice_status="open"), []),
        (PAST_DUE, "in_1", remote(invoice="in_2"), ["recover"]),
        (PAST_DUE, "in_1", remote(invoice="in_2", cap=True), ["recover", "cancel"]),
        # Renewed, then renewal turned off, both missed: the new period and then the cancellation.
        (ACTIVE, "in_1", remote(invoice="in_2", cap=True), ["renew", "cancel"]),
        (CANCEL_PENDING, "in_1", remote(invoice="in_2"), ["renew", "resume"]),
        (ACTIVE, "in_1", remote("canceled"), ["lapse"]),
        (PAST_DUE, "in_1", remote("unpaid", invoice="in_2", invoice_status="open"), ["lapse"]),
        (CANCEL_PENDING, "in_1", None, ["lapse"]),
        (LAPSED, "in_1", remote(invoice="in_3"), []),  # lapsed is over, whatever arrives late
    ],
)
def test_reconcile_brings_us_to_stripes_state(status, paid, stripe, commands) -> None:
    assert reconcile(status, paid, stripe) == commands


def test_reconciling_twice_changes_nothing_the_second_time() -> None:
    """Apply the commands' effect on (status, paid invoice) and reconcile again: nothing is left."""
    effects = {"renew": None, "recover": ACTIVE, "cancel": CANCEL_PENDING, "resume": ACTIVE,
               "fail_renewal": PAST_DUE, "lapse": LAPSED}  # fmt: skip
    for status in (ACTIVE, CANCEL_PENDING, PAST_DUE):
        for stripe in [
            remote(), remote(invoice="in_2"), remote(cap=True), remote(invoice="in_2", cap=True),
            remote("past_due", invoice="in_2", invoice_status="open"), remote("canceled"),
        ]:  # fmt: skip
            paid = "in_1"
            state = status
            for command in reconcile(state, paid, stripe):
                state = effects[command] or state
                if command in ("renew", "recover"):
                    paid = stripe.latest_invoice.id
            assert reconcile(state, paid, stripe) == [], (status, stripe)


def test_why_a_plan_lapses() -> None:
    assert lapse_reason(PAST_DUE, remote("canceled")) == PAYMENT_FAILED
    assert lapse_reason(ACTIVE, remote("canceled", invoice="in_2", invoice_status="open")) == PAYMENT_FAILED
    assert lapse_reason(ACTIVE, remote("unpaid")) == PAYMENT_FAILED
    assert lapse_reason(CANCEL_PENDING, remote("canceled")) == NOT_RENEWED
    assert lapse_reason(CANCEL_PENDING, None) == NOT_RENEWED


# -- deadlines --------------------------------------------------------------------------------------------


def test_the_renewal_notice_is_due_from_30_days_before_until_the_renewal() -> None:
    end = T0 + YEAR
    days = dt.timedelta(days=30)
    assert not reminder_due(ACTIVE, end, end - days - dt.timedelta(seconds=1), 30)
    assert reminder_due(ACTIVE, end, end - days, 30)
    assert reminder_due(ACTIVE, end, end - dt.timedelta(seconds=1), 30)
    assert not reminder_due(ACTIVE, end, end, 30)
    assert not reminder_due(CANCEL_PENDING, end, end - days, 30)  # renewal off: nothing renews
    assert not reminder_due(PAST_DUE, end, end - days, 30)


def test_when_a_plan_lapses_and_whether_the_paid_plan_is_in_force() -> None:
    end = T0 + YEAR
    assert lapse_at(ACTIVE, end, None, WEEK) is None
    assert lapse_at(CANCEL_PENDING, end, None, WEEK) == end
    assert lapse_at(PAST_DUE, end, end, WEEK) == end + WEEK
    assert paid_plan_in_force(ACTIVE, end, None, end + WEEK, WEEK)  # a renewal in progress
    assert paid_plan_in_force(CANCEL_PENDING, end, None, end - dt.timedelta(seconds=1), WEEK)
    assert not paid_plan_in_force(CANCEL_PENDING, end, None, end, WEEK)
    assert paid_plan_in_force(PAST_DUE, end, end, end + WEEK - dt.timedelta(seconds=1), WEEK)
    assert not paid_plan_in_force(PAST_DUE, end, end, end + WEEK, WEEK)
    assert not paid_plan_in_force(LAPSED, end, None, T0, WEEK)


def test_months_are_paris_calendar_months() -> None:
    # 31 January 23:30 UTC is already February in Paris (UTC+1); 30 June 22:30 UTC is 1 July (UTC+2).
    assert month_key(dt.datetime(2026, 1, 31, 22, 59, tzinfo=dt.UTC)) == "2026-01"
    assert month_key(dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)) == "2026-02"
    assert month_key(dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)) == "2026-07"
    with pytest.raises(ValueError):
        month_key(dt.datetime(2026, 1, 1))
