"""Never a double payout, whatever is redelivered, retried or raced (R10); webhooks verified,
deduplicated and order-proof (R13); incidents and suspensions freeze (R18, flow 5); the ledger
against Stripe; who may read a payment. Real SDK, local Stripe emulator."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid

import httpx
import pytest
from payments_helpers import WEBHOOK_SECRET, Mission, Platform, event

from clikopro_chassis.stripe.adapter import StripeUnavailable
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, wire
from clikopro_payments.service_layer import money, reconciliation
from clikopro_stripe_emulator import sign_webhook


def paid_mission(platform: Platform, amounts=(40_000, 60_000, 100_000)) -> Mission:
    mission = platform.accept(list(amounts))
    platform.pay(mission)
    platform.onboard(mission.pro_id)
    return mission


# -- exactly one transfer per task ------------------------------------------------------------------


def test_the_same_task_validated_three_times_and_20_racing_attempts_make_one_transfer(
    platform: Platform,
) -> None:
    mission = paid_mission(platform)
    validated = platform.task_validated(mission, 0)
    assert [platform.handle(validated) for _ in range(3)] == [True, False, False]  # the inbox
    # Even a copy with another event id (republished) finds the task's release row.
    copy = parse_event(wire({**validated.to_dict(), "id": str(uuid.uuid4())}))
    assert platform.handle(copy) is True
    assert len(platform.releases(mission)) == 1

    [release] = platform.releases(mission).values()
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        barrier.wait()
        outcomes.append(money.process_release(platform.svc, release["id"]))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("released") == 1, outcomes
    platform.run_money()  # and the periodic pass afterwards changes nothing
    [transfer] = platform.transfers(mission)
    assert transfer.amount == 38_000 and transfer.metadata["task_id"] == str(mission.task_ids[0])
    assert len(platform.events("FundsReleased")) == 1
    assert platform.totals(mission)["pro"] == 38_000


def test_an_ambiguous_transfer_is_looked_up_at_stripe_before_any_retry(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    mission = paid_mission(platform, (10_000, 20_000))
    platform.validate(mission, 0, 1)
    real = platform.svc.stripe.create_transfer
    calls: list[str] = []

    def made_then_lost(**kwargs):
        calls.append(kwargs["idempotency_key"])
        real(**kwargs)
        raise StripeUnavailable("read timeout")

    def never_sent(**kwargs):
        calls.append(kwargs["idempotency_key"])
        raise StripeUnavailable("connection refused")

    releases = platform.releases(mission)
    first, second = releases[mission.task_ids[0]], releases[mission.task_ids[1]]
    monkeypatch.setattr(platform.svc.stripe, "create_transfer", made_then_lost)
    assert money.process_release(platform.svc, first["id"]) == "in_flight"
    monkeypatch.setattr(platform.svc.stripe, "create_transfer", never_sent)
    assert money.process_release(platform.svc, second["id"]) == "in_flight"
    monkeypatch.setattr(platform.svc.stripe, "create_transfer", real)
    platform.run_money()  # claims are fresh: nobody touches them
    assert {r["status"] for r in platform.releases(mission).values()} == {"transferring"}
    assert len(platform.transfers(mission)) == 1

    later = platform.svc.now() + dt.timedelta(seconds=61)
    platform.svc.now = lambda: later  # the claims are stale now
    platform.run_money()
    transfers = platform.transfers(mission)
    assert sorted(t.amount for t in transfers) == [9_500, 19_000]  # the lost one found, the other made once
    assert {r["status"] for r in platform.releases(mission).values()} == {"released"}
    assert {r["transfer_id"] for r in platform.releases(mission).values()} == {t.id for t in transfers}
    assert len(platform.events("FundsReleased")) == 2
    assert calls == [f"release:{mission.task_ids[0]}", f"release:{mission.task_ids[1]}"]


# -- webhooks ---------------------------------------------------------------------------------------


def post_webhook(
    platform: Platform, body: dict | bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{platform.base_url}/api/v1/payments/webhooks/stripe",
        content=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign_webhook(payload, secret, timestamp),
        },
        timeout=10,
    )


def stripe_events_count(platform: Platform) -> int:
    from sqlalchemy import func, select

    from clikopro_payments.adapters.orm import stripe_events

    with platform.svc.database.session() as session:
        return session.execute(select(func.count()).select_from(stripe_events)).scalar_one()


def test_replayed_reordered_and_forged_webhooks(platform: Platform) -> None:
    mission = platform.accept([25_000])
    # The client's first card is declined, the second accepted; Stripe's two events reach us in
    # the wrong order: we hold the endpoint back and deliver them ourselves.
    platform.stripe.request("DELETE", "/_config/webhooks")
    view = platform.payment(mission)
    with pytest.raises(Exception):  # noqa: B017 - 402 from Stripe
        platform.stripe.confirm_payment(
            view["payment_intent_id"], view["client_secret"], "pm_card_visa_chargeDeclined"
        )
    platform.stripe.confirm_payment(view["payment_intent_id"], view["client_secret"], "pm_card_visa")
    failed = platform.stripe.events("payment_intent.payment_failed")[0]
    succeeded = platform.stripe.events("payment_intent.succeeded")[0]

    assert post_webhook(platform, succeeded).json()["outcome"] == "secured"
    assert (
        post_webhook(platform, failed).json()["outcome"] == "already_secured"
    )  # late: the intent has succeeded since
    assert post_webhook(platform, succeeded).json()["outcome"] == "duplicate"
    assert post_webhook(platform, failed).json()["outcome"] == "duplicate"
    assert platform.payment(mission)["status"] == "secured"
    assert len(platform.events("PaymentSecured")) == 1 and platform.events("PaymentFailed") == []
    assert platform.totals(mission)["captured"] == 25_000  # captured once

    before = stripe_events_count(platform)
    forged = {**succeeded, "id": "evt_forged"}
    bad = post_webhook(platform, forged, secret="whsec_not_ours")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_signature"
    old = post_webhook(platform, forged, timestamp=int(time.time()) - 3600)  # a captured request replayed
    assert old.status_code == 400
    unsigned = httpx.post(f"{platform.base_url}/api/v1/payments/webhooks/stripe", json=forged, timeout=10)
    assert unsigned.status_code == 400
    assert stripe_events_count(platform) == before  # bad ones are not even recorded

    # Correctly signed but lying about the state of another intent: we ask Stripe, not the event.
    other = platform.accept([5_000])
    other_intent = platform.payment(other)["payment_intent_id"]
    lie = {
        **succeeded,
        "id": "evt_lie",
        "data": {"object": {**succeeded["data"]["object"], "id": other_intent}},
    }
    assert post_webhook(platform, lie).json()["outcome"] == "ignored_requires_payment_method"
    assert platform.payment(other)["status"] == "awaiting_payment"
    assert len(platform.events("PaymentSecured")) == 1


def test_events_of_other_kinds_are_recorded_once_and_ignored(platform: Platform) -> None:
    body = {"id": "evt_other", "object": "event", "type": "customer.created", "created": int(time.time()),
            "data": {"object": {"id": "cus_1", "object": "customer"}}}  # fmt: skip
    assert post_webhook(platform, body).json()["outcome"] == "ignored"
    assert post_webhook(platform, body).json()["outcome"] == "duplicate"


# -- incidents and suspensions ----------------------------------------------------------------------


def test_incident_freezes_then_a_partial_refund_settles_exactly(platform: Platform) -> None:
    mission = paid_mission(platform)  # 40 000 + 60 000 + 100 000 at 5 %: shares 2 000, 3 000, 5 000
    platform.validate(mission, 0)
    platform.run_money()
    incident = uuid.uuid4()
    platform.handle(platform.incident_opened(mission, incident))
    [frozen] = platform.events("PayoutsFrozen")
    assert_like_example(frozen)
    assert frozen.data["held_cents"] == 160_000 and frozen.data["reason"] == "incident"

    platform.validate(mission, 1)  # validated during the incident: held
    platform.run_money()
    view = platform.payment(mission)
    assert view["frozen"] and view["tasks"][1]["release"]["status"] == "frozen"
    assert len(platform.transfers(mission)) == 1

    # The moderator refunds 70 000 and releases the rest: the refund is taken from the last task.
    platform.handle(platform.incident_resolved(mission, incident, "partial_refund", 70_000))
    assert platform.handle(platform.incident_resolved(mission, incident, "partial_refund", 70_000)) is True
    platform.run_money()

    [refund] = platform.events("RefundIssued")
    assert_like_example(refund)
    assert refund.data["amount_cents"] == 70_000 and refund.data["total_refunded_cents"] == 70_000
    assert refund.data["incident_id"] == str(incident)
    [unfrozen] = platform.events("PayoutsUnfrozen")
    assert_like_example(unfrozen)
    released = sorted(
        (e.data["amount_cents"], e.data["commission_cents"], e.data["net_cents"])
        for e in platform.events("FundsReleased")
    )
    assert released == [(30_000, 1_500, 28_500), (40_000, 2_000, 38_000), (60_000, 3_000, 57_000)]

    done = platform.payment(mission)
    assert done["status"] == "completed" and done["held_cents"] == 0 and not done["frozen"]
    assert done["refunded_cents"] == 70_000 and done["released_cents"] == 123_500
    assert done["commission_taken_cents"] == done["commission_cents"] == 6_500
    assert (
        done["released_cents"] + done["commission_taken_cents"] + done["refunded_cents"]
        == done["captured_cents"]
    )
    assert sum(t.amount for t in platform.transfers(mission)) == 123_500
    stripe_refunds = platform.svc.stripe.list_refunds(payment_intent=_intent(platform, mission))
    assert [r.amount for r in stripe_refunds] == [70_000]
    # The last task's validation arriving afterwards releases nothing more.
    platform.validate(mission, 2)
    platform.run_money()
    assert (
        len(platform.transfers(mission)) == 3
        and reconciliation.reconcile_mission(platform.svc, mission.mission_id) == []
    )


def _intent(platform: Platform, mission: Mission) -> str:
    with platform.svc.uow() as uow:
        return uow.payments.by_mission(mission.mission_id)["stripe_payment_intent_id"]


def test_an_incident_refunded_in_full_returns_everything_held(platform: Platform) -> None:
    mission = paid_mission(platform, (10_000, 30_000))
    platform.validate(mission, 0)
    platform.run_money()
    incident = uuid.uuid4()
    platform.handle(platform.incident_opened(mission, incident))
    platform.handle(platform.incident_resolved(mission, incident, "refund"))
    platform.run_money()
    [refund] = platform.events("RefundIssued")
    assert refund.data["amount_cents"] == 30_000
    view = platform.payment(mission)
    assert view["status"] == "completed" and view["held_cents"] == 0
    assert view["tasks"][1]["release"]["status"] == "refunded"
    assert view["released_cents"] + view["commission_taken_cents"] + view["refunded_cents"] == 40_000


def test_a_suspended_pro_is_not_paid_until_reinstated(platform: Platform) -> None:
    mission = paid_mission(platform, (10_000,))
    suspended_at = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    platform.handle(
        event(
            "AccountSuspended",
            {"user_id": mission.pro_id, "reason": "Fraude", "until": None, "suspended_by": None,
             "suspended_at": suspended_at},
            "trust-safety",
        )
    )  # fmt: skip
    [frozen] = platform.events("PayoutsFrozen")
    assert frozen.data["reason"] == "account_suspended" and frozen.data["mission_id"] is None
    assert frozen.data["held_cents"] == 10_000
    platform.validate(mission, 0)
    platform.run_money()
    assert platform.transfers(mission) == [] and platform.payment(mission)["frozen"]
    reinstated = {
        "user_id": mission.pro_id,
        "reinstated_by": None,
        "reinstated_at": suspended_at + dt.timedelta(days=1),
    }
    platform.handle(event("AccountReinstated", reinstated, "trust-safety"))
    assert len(platform.events("PayoutsUnfrozen")) == 1
    platform.run_money()
    assert [t.amount for t in platform.transfers(mission)] == [9_500]


# -- reconciliation ---------------------------------------------------------------------------------


def test_reconciliation_reports_what_stripe_has_and_we_do_not(platform: Platform) -> None:
    mission = paid_mission(platform, (10_000,))
    platform.validate(mission, 0)
    platform.run_money()
    assert reconciliation.reconcile_mission(platform.svc, mission.mission_id) == []
    account = platform.account_row(mission.pro_id)["stripe_account_id"]
    stray = platform.stripe.client().v1.transfers.create(
        {"amount": 123, "currency": "eur", "destination": account, "transfer_group": str(mission.mission_id)}
    )
    issues = reconciliation.reconcile_mission(platform.svc, mission.mission_id)
    assert {kind for kind, _ in issues} == {"transfer_unknown_to_us", "released_total_differs"}
    assert any(stray.id in detail for _, detail in issues)
    with platform.svc.uow() as uow:
        assert len(uow.reconciliation.of_mission(mission.mission_id)) == 2


# -- who may see what -------------------------------------------------------------------------------


def test_only_the_parties_and_staff_read_a_payment_and_only_the_client_gets_the_secret(
    platform: Platform,
) -> None:
    mission = platform.accept([20_000])
    path = f"/api/v1/missions/{mission.mission_id}/payment"
    assert "client_secret" in platform.payment(mission)
    other_client = platform.get(path, uuid.uuid4(), "client")
    assert other_client.status_code == 403 and other_client.json()["code"] == "forbidden"
    assert platform.get(path, uuid.uuid4(), "pro").status_code == 403
    assert platform.get(path).status_code == 401
    pro = platform.payment(mission, mission.pro_id, "pro")
    staff = platform.payment(mission, uuid.uuid4(), "moderator")
    assert "client_secret" not in pro and "client_secret" not in staff
    unknown = platform.get(f"/api/v1/missions/{uuid.uuid4()}/payment", mission.client_id)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert platform.get("/api/v1/missions/not-a-uuid/payment", mission.client_id).status_code in (400, 404)


def test_onboarding_is_for_professionals_and_creates_one_account(platform: Platform) -> None:
    client = uuid.uuid4()
    assert platform.post("/api/v1/payments/onboarding", client, "client").status_code == 403
    assert platform.get("/api/v1/payments/account", client, "client").status_code == 403
    pro = uuid.uuid4()
    first = platform.post("/api/v1/payments/onboarding", pro, "pro").json()
    second = platform.post("/api/v1/payments/onboarding", pro, "pro").json()
    assert first["account_id"] == second["account_id"] and first["url"].startswith(platform.stripe.url)
    assert platform.get("/api/v1/payments/account", pro, "pro").json()["status"] == "pending"
    accounts = platform.stripe.request("GET", "/v1/accounts", {"limit": 100})["data"]
    assert [a["id"] for a in accounts] == [first["account_id"]]


# -- contracts: what the other services send -------------------------------------------------------


def test_the_handlers_accept_the_producers_examples(platform: Platform) -> None:
    for type_ in (
        "SubscriptionActivated",
        "ProposalAccepted",
        "TaskValidated",
        "IncidentOpened",
        "IncidentResolved",
        "AccountSuspended",
        "AccountReinstated",
        "MissionCancelled",
        "SubscriptionRenewed",
        "SubscriptionCancelled",
        "SubscriptionLapsed",
    ):
        assert platform.handle(parse_event(wire(example(type_)))) is True, type_
    with platform.svc.uow() as uow:
        payment = uow.payments.by_mission(uuid.UUID(example("ProposalAccepted")["data"]["mission_id"]))
        assert payment["commission_cents"] == example("PaymentSecured")["data"]["commission_cents"]


# -- plans and cancellations ------------------------------------------------------------------------


def test_the_commission_follows_the_pros_plan_at_acceptance(platform: Platform) -> None:
    pro = uuid.uuid4()
    plan = parse_event(wire(example("SubscriptionActivated")))
    data = {**plan.data, "pro_id": str(pro), "commission_rate_bps": 800}
    platform.handle(
        event("SubscriptionActivated", {**data, "subscription_id": uuid.uuid4()}, "subscriptions")
    )
    older = {**data, "commission_rate_bps": 1_200, "effective_at": "2020-01-01T00:00:00Z"}
    platform.handle(
        event("SubscriptionRenewed", {**older, "amount_cents": 9_900, "currency": "EUR"}, "subscriptions")
    )
    view = platform.payment(platform.accept([10_001, 10_001], pro_id=pro))
    assert view["commission_rate_bps"] == 800  # the older event did not win
    assert view["commission_cents"] == 20_002 * 800 // 10_000 == 1_600
    assert [t["commission_cents"] for t in view["tasks"]] == [800, 800]


def cancelled(mission: Mission) -> dict:
    return {
        "mission_id": mission.mission_id,
        "client_id": mission.client_id,
        "pro_id": mission.pro_id,
        "payment_mode": "secure",
        "previous_status": "in_progress",
        "cancelled_by": "moderator",
        "reason": None,
        "cancelled_at": dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
    }


def test_a_cancelled_mission_before_payment_cancels_the_intent(platform: Platform) -> None:
    mission = platform.accept([15_000])
    intent = platform.payment(mission)["payment_intent_id"]
    platform.handle(
        event("MissionCancelled", {**cancelled(mission), "previous_status": "awaiting_payment"}, "missions")
    )
    platform.run_money()
    assert platform.payment(mission)["status"] == "cancelled"
    assert platform.svc.stripe.retrieve_payment_intent(intent).status == "canceled"
    assert platform.events() == []


def test_a_cancelled_mission_refunds_what_no_validated_task_claims(platform: Platform) -> None:
    mission = paid_mission(platform, (10_000, 20_000, 30_000))
    platform.validate(mission, 0)
    platform.handle(event("MissionCancelled", cancelled(mission), "missions"))
    platform.run_money()
    [refund] = platform.events("RefundIssued")
    assert refund.data["reason"] == "mission_cancelled" and refund.data["amount_cents"] == 50_000
    view = platform.payment(mission)
    assert view["held_cents"] == 0 and view["released_cents"] == 9_500
    assert view["released_cents"] + view["commission_taken_cents"] + view["refunded_cents"] == 60_000
