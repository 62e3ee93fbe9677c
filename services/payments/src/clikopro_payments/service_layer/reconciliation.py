"""Our ledger against Stripe, per mission: transfers (by ``transfer_group``) and refunds.

Differences are logged (ERROR), kept in ``reconciliation_issues`` (the latest run per mission)
and returned; nothing is corrected automatically: a person looks (``clikopro-payments reconcile``).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from clikopro_payments.service_layer import views

log = logging.getLogger(__name__)


def reconcile_mission(svc: Any, mission_id: uuid.UUID) -> list[tuple[str, str]]:
    with svc.uow() as uow:
        payment = uow.payments.by_mission(mission_id)
        if payment is None or payment["mode"] != "secure":
            return []
        ours = {r["transfer_id"]: r for r in uow.releases.of_mission(mission_id) if r["transfer_id"]}
        refunds = {
            r["stripe_refund_id"]: r for r in uow.refunds.of_mission(mission_id) if r["stripe_refund_id"]
        }
        balances, captured, refunded = views.balances(uow, mission_id)
    issues: list[tuple[str, str]] = []
    transfers = {t.id: t for t in svc.stripe.list_transfers(transfer_group=str(mission_id))}
    for transfer_id, transfer in transfers.items():
        net_at_stripe = transfer.amount - transfer.amount_reversed
        if transfer_id not in ours:
            issues.append(
                ("transfer_unknown_to_us", f"{transfer_id} of {net_at_stripe} cents is not in our ledger")
            )
        elif int(ours[transfer_id]["net_cents"]) != net_at_stripe:
            issues.append(
                (
                    "transfer_amount_differs",
                    f"{transfer_id}: {ours[transfer_id]['net_cents']} here, {net_at_stripe} at Stripe",
                )
            )
    for transfer_id in ours.keys() - transfers.keys():
        issues.append(("transfer_missing_at_stripe", f"{transfer_id} is in our ledger but not at Stripe"))
    stripe_total = sum(t.amount - t.amount_reversed for t in transfers.values())
    if stripe_total != balances["pro"]:
        issues.append(
            ("released_total_differs", f"ledger {balances['pro']} cents, Stripe {stripe_total} cents")
        )
    if payment["stripe_payment_intent_id"] and captured:
        stripe_refunds = {
            r.id: r for r in svc.stripe.list_refunds(payment_intent=payment["stripe_payment_intent_id"])
        }
        for refund_id in stripe_refunds.keys() - refunds.keys():
            issues.append(
                ("refund_unknown_to_us", f"{refund_id} of {stripe_refunds[refund_id].amount} cents")
            )
        stripe_refunded = sum(r.amount for r in stripe_refunds.values() if r.status != "failed")
        if stripe_refunded != refunded:
            issues.append(
                ("refunded_total_differs", f"ledger {refunded} cents, Stripe {stripe_refunded} cents")
            )
    with svc.uow() as uow:
        uow.reconciliation.replace(mission_id, issues, svc.now())
        uow.commit()
    for kind, detail in issues:
        log.error("reconciliation of mission %s: %s: %s", mission_id, kind, detail)
    return issues


def reconcile_recent(svc: Any) -> dict[uuid.UUID, list[tuple[str, str]]]:
    if not svc.settings.stripe_api_key:
        return {}
    since = svc.now() - dt.timedelta(hours=svc.settings.reconciliation_window_hours)
    with svc.uow() as uow:
        missions = [p["mission_id"] for p in uow.payments.touched_since(since) if p["secured_at"] is not None]
    found = {}
    for mission_id in missions:
        try:
            issues = reconcile_mission(svc, mission_id)
        except Exception as exc:  # noqa: BLE001 - one mission's failure must not stop the others
            log.warning("reconciliation of mission %s failed: %s", mission_id, exc)
            continue
        if issues:
            found[mission_id] = issues
    return found
