"""CLIKOPRO Secure end to end in the payments service, with the real ``stripe`` SDK against the
local Stripe emulator: acceptance -> the client pays with a test card -> webhook -> PaymentSecured
-> onboarding -> each validated task released -> ledger exact to the cent."""

from __future__ import annotations

import datetime as dt

import pytest
from payments_helpers import Platform

from clikopro_contracts import format_time
from clikopro_contracts.testing import assert_like_example


def test_the_secure_flow_from_acceptance_to_the_last_release(platform: Platform) -> None:
    # Odd amounts so that the commission does not split evenly (5 %: 12 501 on 250 033).
    mission = platform.accept([45_011, 120_007, 85_015])
    awaiting = platform.payment(mission)
    assert awaiting["status"] == "awaiting_payment" and awaiting["mode"] == "secure"
    assert awaiting["commission_rate_bps"] == 500 and awaiting["commission_cents"] == 250_033 * 500 // 10_000
    assert [t["commission_cents"] for t in awaiting["tasks"]] == [2250, 6000, 4251]  # last absorbs the rest
    intent_id = awaiting["payment_intent_id"]
    assert intent_id.startswith("pi_") and awaiting["client_secret"].startswith(intent_id)

    secured = platform.pay(mission)
    assert secured["captured_cents"] == mission.amount and secured["held_cents"] == mission.amount
    assert "client_secret" not in secured  # paid: no secret handed out any more
    [paid] = platform.events("PaymentSecured")
    assert_like_example(paid)
    assert paid.data["mission_id"] == str(mission.mission_id) and paid.data["commission_cents"] == 12_501
    intent = platform.svc.stripe.retrieve_payment_intent(intent_id)
    assert intent.status == "succeeded" and intent.amount == mission.amount

    platform.onboard(mission.pro_id)
    platform.validate(mission, 0, 1, 2)
    platform.run_money()

    released = platform.events("FundsReleased")
    assert len(released) == 3
    for e in released:
        assert_like_example(e)
    assert sorted(e.data["net_cents"] for e in released) == sorted(
        [45_011 - 2250, 120_007 - 6000, 85_015 - 4251]
    )
    transfers = platform.transfers(mission)
    assert sorted(t.amount for t in transfers) == sorted(e.data["net_cents"] for e in released)
    assert {t.source_transaction for t in transfers} == {
        platform.svc.stripe.retrieve_payment_intent(intent_id).charge_id
    }
    assert {t.metadata["task_id"] for t in transfers} == {str(t) for t in mission.task_ids}

    done = platform.payment(mission)
    assert done["status"] == "completed" and done["held_cents"] == 0
    assert done["released_cents"] + done["commission_taken_cents"] == done["captured_cents"] == mission.amount
    assert done["commission_cents"] == done["commission_taken_cents"] == 12_501
    totals = platform.totals(mission)
    assert totals["escrow"] + totals["client"] + totals["pro"] + totals["commission"] == 0  # double entry
    assert totals["pro"] == sum(t.amount for t in transfers)
    assert all(t["release"]["status"] == "released" for t in done["tasks"])


def test_release_waits_for_onboarding_and_goes_out_by_itself(platform: Platform) -> None:
    mission = platform.accept([10_000, 20_000])
    platform.pay(mission)
    platform.validate(mission, 0)
    platform.run_money()
    view = platform.payment(mission, mission.pro_id, "pro")
    assert view["tasks"][0]["release"]["status"] == "waiting_for_account"
    assert "client_secret" not in view  # never to the pro
    assert platform.transfers(mission) == [] and platform.events("FundsReleased") == []

    from clikopro_payments.service_layer import money

    assert money.remind_onboarding(platform.svc) == 1  # no account yet: reminded all the same
    account = platform.get("/api/v1/payments/account", mission.pro_id, "pro").json()
    assert account["status"] == "not_started" and account["waiting_cents"] == 10_000

    platform.onboard(mission.pro_id)
    assert platform.get("/api/v1/payments/account", mission.pro_id, "pro").json()["status"] == "enabled"
    # A reminder would be due again, but the money only waits for the worker's next pass now.
    later = platform.svc.now() + dt.timedelta(
        seconds=platform.svc.settings.onboarding_reminder_interval_seconds
    )
    platform.svc.now = lambda: later
    assert money.remind_onboarding(platform.svc) == 0
    assert len(platform.events("PayoutOnboardingReminderDue")) == 1
    platform.run_money()  # the worker's next pass: nobody had to do anything
    [released] = platform.events("FundsReleased")
    assert released.data["task_id"] == str(mission.task_ids[0]) and released.data["net_cents"] == 9_500
    assert platform.payment(mission)["status"] == "secured"  # the second task is not validated yet


def test_a_pro_who_never_started_onboarding_is_reminded_once_per_interval(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clikopro_payments.service_layer import money

    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    interval = dt.timedelta(seconds=platform.svc.settings.onboarding_reminder_interval_seconds)
    platform.svc.now = lambda: at
    mission = platform.accept([10_000, 20_000])
    platform.pay(mission)
    platform.validate(mission, 0, 1)
    platform.run_money()
    assert platform.account_row(mission.pro_id) is None

    def no_account_to_check(account_id: str) -> None:
        pytest.fail(f"account {account_id} retrieved at Stripe for a pro who has none")

    monkeypatch.setattr(platform.svc.stripe, "retrieve_account", no_account_to_check)
    assert money.remind_onboarding(platform.svc) == 1
    assert money.remind_onboarding(platform.svc) == 0  # within the interval: neither recorded nor told
    [due] = platform.events("PayoutOnboardingReminderDue")
    assert_like_example(due)
    assert due.data == {
        "pro_id": str(mission.pro_id),
        "waiting_cents": 30_000,
        "currency": "EUR",
        "releases_waiting": 2,
        "missions_waiting": 1,
        "reminded_at": format_time(at),
    }
    account = platform.get("/api/v1/payments/account", mission.pro_id, "pro").json()
    assert account == {
        "status": "not_started",
        "transfers_enabled": False,
        "waiting_cents": 30_000,
        "reminders": 1,
        "reminded_at": format_time(at),
    }
    # A pass that read "not reminded yet" before this reminder (two workers racing) records nothing.
    with platform.svc.uow() as uow:
        assert not uow.onboarding_reminders.record(mission.pro_id, at, not_since=at - interval)

    platform.svc.now = lambda: at + interval - dt.timedelta(seconds=1)
    assert money.remind_onboarding(platform.svc) == 0
    platform.svc.now = lambda: at + interval
    assert money.remind_onboarding(platform.svc) == 1
    assert money.remind_onboarding(platform.svc) == 0
    assert [e.data["reminded_at"] for e in platform.events("PayoutOnboardingReminderDue")] == [
        format_time(at),
        format_time(at + interval),
    ]
    reminder = platform.reminder_row(mission.pro_id)
    assert reminder["reminders"] == 2 and reminder["last_reminded_at"] == at + interval
    assert platform.account_row(mission.pro_id) is None  # reminding creates no account


def test_a_pro_who_left_onboarding_unfinished_is_reminded_once_per_interval(platform: Platform) -> None:
    from clikopro_payments.service_layer import money

    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    interval = dt.timedelta(seconds=platform.svc.settings.onboarding_reminder_interval_seconds)
    platform.svc.now = lambda: at
    first = platform.accept([10_000, 20_000])
    second = platform.accept([5_000], pro_id=first.pro_id)
    for mission in (first, second):
        platform.pay(mission)
    platform.validate(first, 0, 1)
    platform.validate(second, 0)
    started = platform.post("/api/v1/payments/onboarding", first.pro_id, "pro")  # and left there
    assert started.status_code == 200, started.text
    platform.run_money()

    assert money.remind_onboarding(platform.svc) == 1
    assert money.remind_onboarding(platform.svc) == 0  # within the interval: neither recorded nor told
    [due] = platform.events("PayoutOnboardingReminderDue")
    assert_like_example(due)
    assert due.data == {
        "pro_id": str(first.pro_id),
        "waiting_cents": 35_000,
        "currency": "EUR",
        "releases_waiting": 3,
        "missions_waiting": 2,
        "reminded_at": format_time(at),
    }
    account = platform.get("/api/v1/payments/account", first.pro_id, "pro").json()
    assert account["status"] == "pending" and account["reminders"] == 1
    assert account["reminded_at"] == format_time(at)
    # A pass that read the account before this reminder (two workers racing) records nothing more.
    with platform.svc.uow() as uow:
        assert not uow.onboarding_reminders.record(first.pro_id, at, not_since=at - interval)

    platform.svc.now = lambda: at + interval
    assert money.remind_onboarding(platform.svc) == 1
    assert money.remind_onboarding(platform.svc) == 0
    assert [e.data["reminded_at"] for e in platform.events("PayoutOnboardingReminderDue")] == [
        format_time(at),
        format_time(at + interval),
    ]
    assert platform.reminder_row(first.pro_id)["reminders"] == 2


def test_a_declined_card_gives_payment_failed_and_no_release(platform: Platform) -> None:
    mission = platform.accept([30_000])
    platform.onboard(mission.pro_id)
    failed = platform.pay(mission, "pm_card_visa_chargeDeclined", wait_for="payment_failed")
    assert failed["failure_code"] == "card_declined" and failed["failed_attempts"] == 1
    assert failed["client_secret"]  # the client can try another card
    [event] = platform.events("PaymentFailed")
    assert_like_example(event)
    assert event.data["attempt"] == 1 and event.data["failure_code"] == "card_declined"

    platform.validate(mission, 0)  # even if a task were validated, nothing is released
    platform.run_money()
    assert platform.payment(mission)["tasks"][0]["release"]["status"] == "waiting_payment"
    assert platform.transfers(mission) == [] and platform.events("PaymentSecured") == []

    # Another card: paid, and the waiting release goes out.
    platform.pay(mission, "pm_card_visa")
    platform.run_money()
    assert [e.data["net_cents"] for e in platform.events("FundsReleased")] == [28_500]


def test_paiement_direct_moves_no_money(platform: Platform) -> None:
    mission = platform.accept([50_000, 25_000], mode="direct")
    platform.validate(mission, 0, 1)
    platform.run_money()
    view = platform.payment(mission)
    assert view["mode"] == "direct" and view["status"] == "direct"
    assert view["commission_cents"] == 0 and view["captured_cents"] == view["released_cents"] == 0
    assert "client_secret" not in view and all(t["release"] is None for t in view["tasks"])
    assert platform.stripe.request("GET", "/v1/payment_intents", {"limit": 100})["data"] == []
    assert platform.transfers(mission) == [] and platform.events() == []
