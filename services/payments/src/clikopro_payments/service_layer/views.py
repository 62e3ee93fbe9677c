"""What the API shows: a mission's payment (from the ledger), a pro's connected account."""

from __future__ import annotations

import uuid
from typing import Any

from clikopro_chassis.auth import Principal
from clikopro_chassis.errors import Forbidden, NotFound
from clikopro_payments.domain import ledger
from clikopro_payments.domain.money import release_commission
from clikopro_payments.service_layer.unit_of_work import PaymentsUnitOfWork

CLIENT_SECRET_STATUSES = ("awaiting_payment", "payment_failed")


def balances(uow: PaymentsUnitOfWork, mission_id: uuid.UUID) -> tuple[dict[str, int], int, int]:
    """Balances per account, captured and refunded, from the mission's ledger entries."""
    entries = uow.ledger.entries(mission_id)
    result = ledger.balances_of(
        ledger.Entry(e["account"], e["direction"], int(e["amount_cents"])) for e in entries
    )
    captured = sum(
        int(e["amount_cents"])
        for e in entries
        if e["posting"].startswith("capture:") and e["direction"] == "debit"
    )
    refunded = sum(
        int(e["amount_cents"])
        for e in entries
        if e["posting"].startswith("refund:") and e["direction"] == "debit"
    )
    return result, captured, refunded


def held_cents(uow: PaymentsUnitOfWork, mission_id: uuid.UUID) -> int:
    return balances(uow, mission_id)[0]["escrow"]


def authorise(payment: Any, caller: Principal) -> None:
    if caller.is_staff or caller.user_id in (payment["client_id"], payment["pro_id"]):
        return
    raise Forbidden("Only the client and the professional of this mission can see its payment.")


def payment_view(
    uow: PaymentsUnitOfWork, mission_id: uuid.UUID, caller: Principal, publishable_key: str = ""
) -> dict[str, Any]:
    payment = uow.payments.by_mission(mission_id)
    if payment is None:
        raise NotFound("This mission has no payment (no contract accepted yet).")
    authorise(payment, caller)
    account_balances, captured, refunded = balances(uow, mission_id)
    totals = ledger.totals(account_balances, captured, refunded)
    releases = {r["task_id"]: r for r in uow.releases.of_mission(mission_id)}
    tasks = uow.payments.tasks(mission_id)
    secure = payment["mode"] == "secure"
    still_to_pay = [
        t
        for t in tasks
        if releases.get(t["task_id"]) is None
        or releases[t["task_id"]]["status"] not in ("released", "refunded")
    ]
    # R14: the mission's commission: what was kept, plus what the tasks still to pay will keep.
    bps = int(payment["commission_rate_bps"])
    commission = totals.commission_cents + sum(
        release_commission(
            int(t["amount_cents"]),
            int(t["commission_cents"]),
            int(releases[t["task_id"]]["amount_cents"])
            if t["task_id"] in releases
            else int(t["amount_cents"]),
            bps,
        )
        for t in still_to_pay
        if payment["cancelled_at"] is None or t["task_id"] in releases
    )
    view: dict[str, Any] = {
        "payment_id": payment["id"],
        "mission_id": payment["mission_id"],
        "mode": payment["mode"],
        "status": payment["status"],
        "amount_cents": int(payment["amount_cents"]),
        "currency": payment["currency"],
        "commission_rate_bps": int(payment["commission_rate_bps"]),
        "commission_cents": int(commission) if secure else 0,
        "captured_cents": totals.captured_cents,
        "released_cents": totals.released_cents,
        "commission_taken_cents": totals.commission_cents,
        "refunded_cents": totals.refunded_cents,
        "held_cents": totals.held_cents,
        "frozen": secure
        and (uow.projections.is_frozen(mission_id) or uow.projections.is_suspended(payment["pro_id"])),
        "failed_attempts": int(payment["failed_attempts"]),
        "failure_code": payment["failure_code"],
        "secured_at": payment["secured_at"],
        "tasks": [
            {
                "task_id": t["task_id"],
                "position": int(t["position"]),
                "title": t["title"],
                "amount_cents": int(t["amount_cents"]),
                "commission_cents": int(t["commission_cents"]),
                "release": _release_view(releases.get(t["task_id"])),
            }
            for t in tasks
        ],
        "ledger": account_balances,
    }
    if secure and caller.user_id == payment["client_id"] and payment["status"] in CLIENT_SECRET_STATUSES:
        view["client_secret"] = payment["client_secret"]
        view["payment_intent_id"] = payment["stripe_payment_intent_id"]
        if publishable_key:
            view["stripe_publishable_key"] = publishable_key
    return view


def _release_view(release: Any) -> dict[str, Any] | None:
    if release is None:
        return None
    return {
        "status": release["status"],
        "amount_cents": int(release["amount_cents"]),
        "commission_cents": None if release["commission_cents"] is None else int(release["commission_cents"]),
        "net_cents": None if release["net_cents"] is None else int(release["net_cents"]),
        "transfer_id": release["transfer_id"],
        "released_at": release["released_at"],
    }


def account_view(account: Any, waiting_cents: int = 0, reminder: Any = None) -> dict[str, Any]:
    """The pro's payout account; ``reminder`` is their onboarding reminders' row (None if never
    reminded), shown whether they started onboarding or not: both kinds of pro are reminded."""
    reminders = {
        "reminders": 0 if reminder is None else int(reminder["reminders"]),
        "reminded_at": None if reminder is None else reminder["last_reminded_at"],
    }
    if account is None:
        return {
            "status": "not_started",
            "transfers_enabled": False,
            "waiting_cents": waiting_cents,
            **reminders,
        }
    enabled = bool(account["transfers_enabled"])
    return {
        "status": "enabled" if enabled else "pending",
        "account_id": account["stripe_account_id"],
        "transfers_enabled": enabled,
        "details_submitted": bool(account["details_submitted"]),
        "payouts_enabled": bool(account["payouts_enabled"]),
        "waiting_cents": waiting_cents,
        **reminders,
    }
