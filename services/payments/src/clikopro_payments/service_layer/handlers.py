"""Event handlers of the payments service: event type -> handler(event, uow).

They only write to our database (in the consumer's transaction, deduplicated by the inbox); what
needs Stripe (creating the PaymentIntent, transfers, refunds) is done by the worker's money job
outside any transaction, from what these handlers recorded (service_layer/money.py).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_payments.domain.money import allocate_refund, commission_of, split_commission
from clikopro_payments.domain.releases import BLOCKED
from clikopro_payments.service_layer import views
from clikopro_payments.service_layer.unit_of_work import PaymentsUnitOfWork

log = logging.getLogger(__name__)


def contract_accepted(event: Event, uow: PaymentsUnitOfWork) -> None:
    """ProposalAccepted: the mission's payment record, its schedule and commission (fixed now).
    Secure: the worker then creates the client's PaymentIntent. Direct: nothing moves (R11)."""
    data = load_data(event)
    now = uow.now()
    secure = data["payment_mode"] == "secure"
    rate = uow.projections.rate(data["pro_id"])
    bps = (uow.default_commission_bps if rate is None else rate) if secure else 0
    tasks = sorted(data["tasks"], key=lambda t: t["position"])
    commission = commission_of(data["amount_cents"], bps)
    shares = split_commission([t["amount_cents"] for t in tasks], commission)
    added = uow.payments.add(
        {
            "id": uuid.uuid4(),
            "mission_id": data["mission_id"],
            "proposal_id": data["proposal_id"],
            "client_id": data["client_id"],
            "pro_id": data["pro_id"],
            "mode": data["payment_mode"],
            "status": "awaiting_payment" if secure else "direct",
            "amount_cents": data["amount_cents"],
            "currency": data["currency"],
            "commission_rate_bps": bps,
            "commission_cents": commission,
            "failed_attempts": 0,
            "accepted_at": data["accepted_at"],
            "created_at": now,
            "updated_at": now,
        },
        [
            {
                "task_id": t["task_id"],
                "position": t["position"],
                "title": t["title"],
                "amount_cents": t["amount_cents"],
                "commission_cents": share,
            }
            for t, share in zip(tasks, shares, strict=True)
        ],
    )
    if not added:
        log.warning("mission %s already has a payment; %s ignored", data["mission_id"], event.id)


def task_validated(event: Event, uow: PaymentsUnitOfWork) -> None:
    """TaskValidated (Secure): ask for the task's release, once per task whatever is redelivered."""
    data = load_data(event)
    if data["payment_mode"] != "secure":
        return  # Paiement Direct: the platform moves no money
    now = uow.now()
    frozen = uow.projections.is_frozen(data["mission_id"]) or uow.projections.is_suspended(data["pro_id"])
    added = uow.releases.request(
        {
            "id": uuid.uuid4(),
            "mission_id": data["mission_id"],
            "task_id": data["task_id"],
            "pro_id": data["pro_id"],
            "status": "frozen" if frozen else "pending",
            "amount_cents": data["amount_cents"],
            "attempts": 0,
            "key_generation": 0,
            "requested_at": now,
            "updated_at": now,
        }
    )
    if not added:
        log.info("task %s already has a release", data["task_id"])


def record_plan(event: Event, uow: PaymentsUnitOfWork) -> None:
    """Subscriptions' events: the pro's commission rate for missions accepted from now on."""
    data = load_data(event)
    uow.projections.record_rate(
        data["pro_id"], data["plan"], data["commission_rate_bps"], data["effective_at"]
    )


def incident_opened(event: Event, uow: PaymentsUnitOfWork) -> None:
    """Freeze the mission's pending releases while the incident is open (R18)."""
    data = load_data(event)
    if not uow.projections.open_incident(data["incident_id"], data["mission_id"], data["opened_at"]):
        return  # known incident (maybe already resolved: events are not ordered)
    uow.releases.mark_frozen(data["mission_id"], None, uow.now())
    payment = uow.payments.by_mission(data["mission_id"])
    if payment is None or payment["mode"] != "secure":
        return
    uow.publish(
        "PayoutsFrozen",
        {
            "pro_id": payment["pro_id"],
            "mission_id": data["mission_id"],
            "reason": "incident",
            "incident_id": data["incident_id"],
            "held_cents": views.held_cents(uow, data["mission_id"]),
            "currency": payment["currency"],
            "frozen_at": data["opened_at"],
        },
    )


def incident_resolved(event: Event, uow: PaymentsUnitOfWork) -> None:
    """Lift the freeze and carry out the decision: release, refund all or part, or dismiss."""
    data = load_data(event)
    state = uow.projections.resolve_incident(
        data["incident_id"], data["mission_id"], data["resolved_at"], data["outcome"]
    )
    if state == "duplicate":
        return
    payment = uow.payments.by_mission(data["mission_id"], lock=True)
    if payment is None or payment["mode"] != "secure":
        return
    if data["outcome"] != "dismiss" and payment["secured_at"] is not None:
        _settle(uow, payment, data)
    if state == "resolved":
        uow.publish(
            "PayoutsUnfrozen",
            {
                "pro_id": payment["pro_id"],
                "mission_id": data["mission_id"],
                "reason": "incident",
                "incident_id": data["incident_id"],
                "unfrozen_at": data["resolved_at"],
            },
        )


def _settle(uow: PaymentsUnitOfWork, payment: Any, data: dict[str, Any]) -> None:
    """The money still held for the tasks not yet paid is split between a refund (taken from the
    last tasks first) and releases of the rest, each task keeping its own release row."""
    now = uow.now()
    mission_id = payment["mission_id"]
    existing = {r["task_id"]: r for r in uow.releases.of_mission(mission_id)}
    open_tasks = [
        t
        for t in uow.payments.tasks(mission_id)
        if existing.get(t["task_id"]) is None or existing[t["task_id"]]["status"] in BLOCKED
    ]
    remaining = [t["amount_cents"] for t in open_tasks]
    available = sum(remaining) - uow.refunds.pending_cents(mission_id)
    wanted = {"release": 0, "refund": sum(remaining)}.get(data["outcome"], data["refund_amount_cents"] or 0)
    refund = max(0, min(wanted, available))
    if refund != wanted:
        log.warning("incident %s: refund of %s capped to %s held", data["incident_id"], wanted, refund)
    taken = allocate_refund(remaining, refund)
    for task, cut in zip(open_tasks, taken, strict=True):
        amount = task["amount_cents"] - cut
        release = existing.get(task["task_id"])
        values = {"amount_cents": amount, "status": "pending" if amount else "refunded"}
        if release is None:
            uow.releases.request(
                {
                    "id": uuid.uuid4(),
                    "mission_id": mission_id,
                    "task_id": task["task_id"],
                    "pro_id": payment["pro_id"],
                    "attempts": 0,
                    "key_generation": 0,
                    "requested_at": now,
                    "updated_at": now,
                    **values,
                }
            )
        else:
            uow.releases.settle(release["id"], now, **values)
    if refund:
        uow.refunds.request(
            {
                "id": uuid.uuid4(),
                "mission_id": mission_id,
                "payment_id": payment["id"],
                "reference": f"incident:{data['incident_id']}",
                "reason": "incident",
                "incident_id": data["incident_id"],
                "amount_cents": refund,
                "status": "requested",
                "attempts": 0,
                "key_generation": 0,
                "requested_at": now,
            }
        )


def mission_cancelled(event: Event, uow: PaymentsUnitOfWork) -> None:
    """Nothing paid yet: the PaymentIntent is cancelled (by the worker). Paid: what is held for
    tasks not validated goes back to the client; validated tasks are still paid to the pro."""
    data = load_data(event)
    payment = uow.payments.by_mission(data["mission_id"], lock=True)
    if payment is None or payment["mode"] != "secure":
        return
    now = uow.now()
    if payment["secured_at"] is None:
        uow.payments.change(
            payment["id"],
            when_status=("awaiting_payment", "payment_failed"),
            status="cancelled",
            cancelled_at=now,
            updated_at=now,
        )
        return
    released_or_requested = {r["task_id"] for r in uow.releases.of_mission(payment["mission_id"])}
    refund = sum(
        t["amount_cents"]
        for t in uow.payments.tasks(payment["mission_id"])
        if t["task_id"] not in released_or_requested
    ) - uow.refunds.pending_cents(payment["mission_id"])
    uow.payments.change(payment["id"], cancelled_at=now, updated_at=now)
    if refund > 0:
        request_refund(
            uow, payment, refund, reference=f"cancelled:{payment['mission_id']}", reason="mission_cancelled"
        )


def request_refund(
    uow: PaymentsUnitOfWork, payment: Any, amount: int, *, reference: str, reason: str
) -> None:
    now = uow.now()
    uow.refunds.request(
        {
            "id": uuid.uuid4(),
            "mission_id": payment["mission_id"],
            "payment_id": payment["id"],
            "reference": reference,
            "reason": reason,
            "incident_id": None,
            "amount_cents": amount,
            "status": "requested",
            "attempts": 0,
            "key_generation": 0,
            "requested_at": now,
        }
    )


def account_suspended(event: Event, uow: PaymentsUnitOfWork) -> None:
    """EVENTS.md flow 5: a suspended pro's releases are frozen until reinstatement."""
    data = load_data(event)
    if not uow.projections.record_suspension(data["user_id"], True, data["suspended_at"]):
        return
    _freeze_notice(uow, data["user_id"], True, data["suspended_at"])


def account_reinstated(event: Event, uow: PaymentsUnitOfWork) -> None:
    data = load_data(event)
    if not uow.projections.record_suspension(data["user_id"], False, data["reinstated_at"]):
        return
    _freeze_notice(uow, data["user_id"], False, data["reinstated_at"])


def _freeze_notice(uow: PaymentsUnitOfWork, user_id: uuid.UUID, frozen: bool, at: Any) -> None:
    secure = [p for p in uow.payments.of_pro(user_id) if p["mode"] == "secure"]
    if not secure and uow.accounts.get(user_id) is None:
        return  # not a professional we pay
    base = {"pro_id": user_id, "mission_id": None, "reason": "account_suspended", "incident_id": None}
    if frozen:
        uow.releases.mark_frozen(None, user_id, uow.now())
        held = uow.ledger.held_cents([p["mission_id"] for p in secure])
        uow.publish("PayoutsFrozen", {**base, "held_cents": held, "currency": "EUR", "frozen_at": at})
    else:
        uow.publish("PayoutsUnfrozen", {**base, "unfrozen_at": at})


HANDLERS: dict[str, Handler] = {
    "ProposalAccepted": contract_accepted,
    "TaskValidated": task_validated,
    "MissionCancelled": mission_cancelled,
    "IncidentOpened": incident_opened,
    "IncidentResolved": incident_resolved,
    "AccountSuspended": account_suspended,
    "AccountReinstated": account_reinstated,
    "SubscriptionActivated": record_plan,
    "SubscriptionRenewed": record_plan,
    "SubscriptionCancelled": record_plan,
    "SubscriptionLapsed": record_plan,
}
