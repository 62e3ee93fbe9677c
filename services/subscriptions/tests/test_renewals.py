"""A year passes (R12): the renewal notice once, 30 days before; tacit renewal paid
(SubscriptionRenewed); a failed renewal, past due, then lapsed after the retry window
(SubscriptionLapsed, the free plan again) unless paid with another card; renewal turned off and on,
and the plan lapsing at the end of a period not renewed. Stripe renews at its own clock (the
emulator's, moved with the service's)."""

from __future__ import annotations

import datetime as dt
import uuid

from subscriptions_helpers import CARD_CHARGE_FAILS, CARD_DECLINED, Api, assert_problem

from clikopro_contracts.testing import assert_like_example

PAID_FEATURES = ["direct_payment", "appointments", "unlimited_proposals"]
DAY = dt.timedelta(days=1)


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_renewal_notice_is_sent_once_30_days_before_each_renewal(api: Api) -> None:
    pro, quitter = api.pro(), api.pro()
    end = when(api.subscribe(pro)["period_end"])
    api.subscribe(quitter)
    assert api.command(quitter, "cancel").status_code == 200  # renewal off: nothing to announce

    api.pass_time(until=end, days=-30, hours=-1)
    assert api.run_jobs()["reminded"] == 0
    api.pass_time(hours=2)
    assert api.run_jobs()["reminded"] == 1
    assert api.run_jobs()["reminded"] == 0
    api.pass_time(days=10)
    assert api.run_jobs()["reminded"] == 0

    [notice] = api.events("RenewalReminderDue")
    assert_like_example(notice)
    assert notice.data == {
        "subscription_id": api.mine(pro)["id"], "pro_id": pro.user_id, "plan": "pro",
        "renews_at": api.mine(pro)["period_end"], "amount_cents": 29900, "currency": "EUR",
    }  # fmt: skip

    # Renewed: the next period gets its own notice, once, 30 days before its end.
    api.pass_time(until=end, seconds=1)
    next_end = when(api.mine(pro)["period_end"])
    assert next_end > end + dt.timedelta(days=360)
    api.pass_time(until=next_end, days=-30, hours=1)
    assert api.run_jobs()["reminded"] == 1
    assert api.run_jobs()["reminded"] == 0
    assert [e.data["renews_at"] for e in api.events("RenewalReminderDue")] == [
        notice.data["renews_at"], api.mine(pro)["period_end"],
    ]  # fmt: skip


def test_a_paid_renewal_starts_a_new_period_and_publishes_subscription_renewed(api: Api) -> None:
    pro = api.pro()
    first = api.subscribe(pro)
    end = when(first["period_end"])
    api.pass_time(until=end, days=-1)
    assert api.run_jobs()["lapsed"] == 0 and api.events("SubscriptionRenewed") == []

    api.pass_time(until=end, seconds=1)  # Stripe renews the subscription and charges the card

    [renewed] = api.events("SubscriptionRenewed")
    assert_like_example(renewed)
    assert renewed.data["subscription_id"] == first["id"] and renewed.data["plan"] == "pro"
    assert when(renewed.data["period_start"]) == end
    assert when(renewed.data["period_end"]) - end in (dt.timedelta(days=365), dt.timedelta(days=366))
    assert (renewed.data["amount_cents"], renewed.data["currency"]) == (29900, "EUR")
    assert renewed.data["features"] == PAID_FEATURES and renewed.data["proposals_per_month"] is None
    mine = api.mine(pro)
    assert mine["status"] == "active" and mine["period_end"] == renewed.data["period_end"]
    assert api.entitlements(pro)["period_end"] == renewed.data["period_end"]
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [
        ("activate", "pro"),
        ("renew", "stripe"),
    ]
    invoices = api.stripe.v1.invoices.list({"subscription": api.stripe_subscription(pro)["id"]}).data
    assert sorted(i["amount_paid"] for i in invoices) == [29900, 29900]
    # Jobs and further webhooks change nothing.
    api.run_jobs()
    api.settle()
    assert len(api.events("SubscriptionRenewed")) == 1


def test_a_failed_renewal_is_past_due_then_lapses_after_the_retry_window(api: Api) -> None:
    pro = api.pro()
    subscription = api.subscribe(pro)
    end = when(subscription["period_end"])
    # The card on file no longer pays (the pro gave one that fails, as an expired card would).
    changed = api.command(pro, "payment-method", json={"payment_method": api.card(CARD_CHARGE_FAILS)})
    assert changed.status_code == 200, changed.text
    on_file = api.stripe.v1.payment_methods.retrieve(api.stripe_subscription(pro)["default_payment_method"])
    assert on_file["card"]["last4"] == CARD_CHARGE_FAILS[-4:] and changed.json()["status"] == "active"

    api.pass_time(until=end, seconds=1)  # the renewal's charge is declined

    mine = api.mine(pro)
    assert mine["status"] == "past_due" and mine["renews"] is True
    assert when(mine["renewal_failed_at"]) == end and when(mine["lapses_at"]) == end + 7 * DAY
    # The retry window: the paid plan stays in force, and the gateway's read says until when.
    entitlements = api.entitlements(pro)
    assert entitlements["plan"] == "pro" and entitlements["status"] == "past_due"
    internal = api.internal(f"/internal/entitlements/{pro.user_id}").json()
    assert internal["plan"] == "pro" and when(internal["period_end"]) == end + 7 * DAY
    assert api.stripe_subscription(pro)["status"] == "past_due"

    api.pass_time(days=6)
    assert api.run_jobs()["lapsed"] == 0
    api.pass_time(days=1)
    assert api.run_jobs()["lapsed"] == 1
    api.settle()  # customer.subscription.deleted arrives: nothing more

    [lapsed] = api.events("SubscriptionLapsed")
    assert_like_example(lapsed)
    data = lapsed.data
    assert (data["plan"], data["features"], data["proposals_per_month"], data["commission_rate_bps"]) == (
        "free", [], 5, 800,
    )  # fmt: skip
    assert (data["lapsed_plan"], data["reason"], data["period_end"]) == ("pro", "payment_failed", None)
    assert data["subscription_id"] == subscription["id"]
    assert api.stripe_subscription(pro)["status"] == "canceled"  # no more retries, nothing charged later
    assert api.entitlements(pro)["plan"] == "free"
    internal = api.internal(f"/internal/entitlements/{pro.user_id}").json()
    assert (internal["plan"], internal["features"], internal["effective_at"]) == (
        "free",
        [],
        data["effective_at"],
    )
    mine = api.mine(pro)
    assert (mine["status"], mine["lapse_reason"], mine["renews"]) == ("lapsed", "payment_failed", False)
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [
        ("activate", "pro"), ("fail_renewal", "stripe"), ("lapse", "system"),
    ]  # fmt: skip
    assert [e.type for e in api.events()] == ["SubscriptionActivated", "SubscriptionLapsed"]

    # Back on the free plan, the pro may subscribe again: a new subscription.
    again = api.subscribe(pro, card=api.card())
    assert again["id"] != subscription["id"] and again["status"] == "active"


def test_a_failed_renewal_paid_with_another_card_within_the_window_goes_on(api: Api) -> None:
    pro = api.pro()
    subscription = api.subscribe(pro)
    end = when(subscription["period_end"])
    api.command(pro, "payment-method", json={"payment_method": api.card(CARD_CHARGE_FAILS)})
    api.pass_time(until=end, seconds=1)
    assert api.mine(pro)["status"] == "past_due"

    api.pass_time(days=2)
    failing = {
        "json": {"payment_method": api.card(CARD_CHARGE_FAILS)},
        "headers": {"Idempotency-Key": "try-1"},
    }
    assert_problem(api.command(pro, "payment-method", **failing), 402, "payment_failed")
    # Nothing was answered with success: the same key may be tried again (not stuck "in progress").
    assert_problem(api.command(pro, "payment-method", **failing), 402, "payment_failed")
    assert api.mine(pro)["status"] == "past_due"
    assert_problem(api.command(pro, "payment-method", json={"payment_method": api.card(CARD_DECLINED)}),
                   402, "payment_failed")  # fmt: skip
    paid = api.command(pro, "payment-method", json={"payment_method": api.card()})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "active" and when(paid.json()["period_start"]) == end

    [renewed] = api.events("SubscriptionRenewed")
    assert_like_example(renewed)
    assert when(renewed.data["period_start"]) == end and renewed.data["amount_cents"] == 29900
    api.pass_time(days=10)
    assert api.run_jobs()["lapsed"] == 0
    assert api.entitlements(pro)["plan"] == "pro"
    assert [h["command"] for h in api.history(pro)] == ["activate", "fail_renewal", "recover"]
    assert api.stripe_subscription(pro)["status"] == "active"


def test_renewal_turned_off_keeps_the_plan_until_the_end_of_the_period_then_lapses(api: Api) -> None:
    pro = api.pro()
    subscription = api.subscribe(pro)
    end = when(subscription["period_end"])
    cancelled = api.command(pro, "cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["renews"], body["renews_at"]) == ("cancel_pending", False, None)
    assert when(body["lapses_at"]) == end
    assert api.stripe_subscription(pro)["cancel_at_period_end"] is True
    [event] = api.events("SubscriptionCancelled")
    assert_like_example(event)
    assert event.data["plan"] == "pro" and event.data["period_end"] == subscription["period_end"]
    assert event.data["cancelled_at"] == body["cancelled_at"]
    api.settle()
    assert len(api.events("SubscriptionCancelled")) == 1  # customer.subscription.updated: already known
    assert api.entitlements(pro)["plan"] == "pro"

    api.pass_time(until=end, days=-1)
    assert api.run_jobs() == {"reminded": 0, "lapsed": 0, "synced": 0, "failed": 0}
    assert api.entitlements(pro)["plan"] == "pro"
    api.pass_time(until=end, seconds=1)  # Stripe ends it (customer.subscription.deleted); the job too
    api.run_jobs()

    [lapsed] = api.events("SubscriptionLapsed")
    assert_like_example(lapsed)
    assert (lapsed.data["reason"], lapsed.data["plan"], lapsed.data["lapsed_plan"]) == (
        "not_renewed",
        "free",
        "pro",
    )
    assert api.events("SubscriptionRenewed") == []
    assert api.stripe_subscription(pro)["status"] == "canceled"
    assert api.entitlements(pro)["plan"] == "free" and api.mine(pro)["lapse_reason"] == "not_renewed"
    invoices = api.stripe.v1.invoices.list({"subscription": api.stripe_subscription(pro)["id"]}).data
    assert len(invoices) == 1  # charged once: the first year only


def test_our_clock_is_enough_to_lapse_a_period_not_renewed(api: Api) -> None:
    """Stripe has not ended it yet (its clock is late, its webhook lost): the job lapses it anyway."""
    pro = api.pro()
    end = when(api.subscribe(pro)["period_end"])
    api.command(pro, "cancel")
    api.clock.offset += end - api.clock() + dt.timedelta(seconds=1)  # the service's clock only
    assert api.entitlements(pro)["plan"] == "free"  # the read is right before the job runs
    assert api.run_jobs()["lapsed"] == 1
    [lapsed] = api.events("SubscriptionLapsed")
    assert lapsed.data["reason"] == "not_renewed"
    assert [(h["command"], h["actor"]) for h in api.history(pro)][-1] == ("lapse", "system")


def test_renewal_turned_on_again_before_the_end_renews(api: Api) -> None:
    pro = api.pro()
    end = when(api.subscribe(pro)["period_end"])
    assert api.command(pro, "cancel").json()["status"] == "cancel_pending"
    api.pass_time(days=100)
    resumed = api.command(pro, "resume")
    assert resumed.status_code == 200, resumed.text
    assert (resumed.json()["status"], resumed.json()["renews_at"]) == ("active", resumed.json()["period_end"])
    assert api.stripe_subscription(pro)["cancel_at_period_end"] is False

    api.pass_time(until=end, seconds=1)
    api.run_jobs()
    assert [e.type for e in api.events()] == [
        "SubscriptionActivated",
        "SubscriptionCancelled",
        "SubscriptionRenewed",
    ]
    assert api.mine(pro)["status"] == "active"
    assert [(h["command"], h["actor"]) for h in api.history(pro)] == [
        ("activate", "pro"), ("cancel", "pro"), ("resume", "pro"), ("renew", "stripe"),
    ]  # fmt: skip


def test_commands_the_state_does_not_allow_are_conflicts(api: Api) -> None:
    pro = api.pro()
    end = when(api.subscribe(pro)["period_end"])
    assert_problem(api.command(pro, "resume"), 409, "conflict")  # renewal is on
    key = {"Idempotency-Key": f"cancel-{uuid.uuid4()}"}
    first = api.command(pro, "cancel", headers=key)
    assert api.command(pro, "cancel", headers=key).json() == first.json()  # a copy: the same answer
    assert_problem(api.command(pro, "cancel"), 409, "conflict")  # a second cancellation
    assert len(api.events("SubscriptionCancelled")) == 1
    # The period is over at our clock (Stripe has not ended it yet): too late to turn renewal on.
    api.clock.offset += end - api.clock() + dt.timedelta(seconds=1)
    assert_problem(api.command(pro, "resume"), 409, "conflict")
    assert api.stripe_subscription(pro)["cancel_at_period_end"] is True
