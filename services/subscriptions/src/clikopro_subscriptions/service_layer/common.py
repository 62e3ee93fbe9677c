"""What the use cases share: the caller, service errors, transitions with their audit trail and events."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clikopro_chassis.errors import AppError, Conflict, Forbidden, ServiceUnavailable
from clikopro_subscriptions.domain import lifecycle
from clikopro_subscriptions.domain.billing import StripeSubscription, lapse_reason
from clikopro_subscriptions.domain.lifecycle import EVENT_OF, PRO
from clikopro_subscriptions.domain.plans import Catalog, Entitlements
from clikopro_subscriptions.service_layer.unit_of_work import SubscriptionsUnitOfWork


@dataclass(frozen=True)
class Caller:
    """Who asks: a person from a verified access token, or the service itself (``user_id`` None)."""

    user_id: uuid.UUID | None
    role: str | None


SYSTEM_CALLER = Caller(None, None)


class NotAPro(Forbidden):
    title = "Professionals only"


class PaymentFailed(AppError):
    """The card was declined (or cannot be charged): nothing was subscribed or changed."""

    status = 402
    code = "payment_failed"
    title = "The payment was declined"


class PaymentProviderUnavailable(ServiceUnavailable):
    title = "The payment provider cannot be reached"


def require_pro(caller: Caller) -> uuid.UUID:
    if caller.role != "pro" or caller.user_id is None:
        raise NotAPro("Subscriptions are for professionals.")
    return caller.user_id


def unavailable(detail: str) -> PaymentProviderUnavailable:
    return PaymentProviderUnavailable(
        f"Stripe did not answer ({detail}); nothing was charged twice: retry in a moment.",
        headers={"Retry-After": "5"},
    )


# -- entitlements in events ------------------------------------------------------------------------


def paid_entitlements(catalog: Catalog, row: Mapping[str, Any], at: dt.datetime) -> Entitlements:
    return Entitlements.of(
        catalog.plan_or_free(row["plan"]),
        period_start=row["period_start"],
        period_end=row["period_end"],
        effective_at=at,
    )


def free_entitlements(catalog: Catalog, at: dt.datetime) -> Entitlements:
    return Entitlements.of(catalog.free, period_start=at, period_end=None, effective_at=at)


def publish_state(
    uow: SubscriptionsUnitOfWork,
    catalog: Catalog,
    command: str,
    row: Mapping[str, Any],
    at: dt.datetime,
    *,
    amount_cents: int | None = None,
    currency: str = "EUR",
) -> None:
    """The event of ``command`` (if it has one), with the entitlements in force after it."""
    event_type = EVENT_OF[command]
    if event_type is None:
        return
    if command == "lapse":
        entitlements = free_entitlements(catalog, at)
    else:
        entitlements = paid_entitlements(catalog, row, at)
    data: dict[str, Any] = {
        "subscription_id": row["id"],
        "pro_id": row["pro_id"],
        **entitlements.event_data(),
    }
    if command in ("renew", "recover"):
        data |= {
            "amount_cents": row["price_cents"] if amount_cents is None else amount_cents,
            "currency": currency,
        }
    elif command == "cancel":
        data["cancelled_at"] = row["cancelled_at"]
    elif command == "lapse":
        data |= {"lapsed_plan": row["plan"], "reason": row["lapse_reason"]}
    uow.publish(event_type, data)


def record_transition(
    uow: SubscriptionsUnitOfWork,
    *,
    row: Mapping[str, Any],
    command: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    caller: Caller,
    at: dt.datetime,
    cause: str | None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    uow.transitions.record(
        {
            "subscription_id": row["id"],
            "pro_id": row["pro_id"],
            "command": command,
            "from_state": from_state,
            "to_state": to_state,
            "actor": actor,
            "actor_id": caller.user_id if actor == PRO else None,
            "cause": cause[:300] if cause else None,
            "detail": dict(detail) if detail else None,
            "occurred_at": at,
        }
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def apply(
    uow: SubscriptionsUnitOfWork,
    catalog: Catalog,
    row: Mapping[str, Any],
    command: str,
    *,
    actor: str,
    caller: Caller,
    at: dt.datetime,
    cause: str | None,
    remote: StripeSubscription | None = None,
    reason: str | None = None,
) -> Mapping[str, Any]:
    """Fire ``command`` on a subscription: new state (by the table), the facts it brings, the
    transition recorded, the event published; all in the unit of work's transaction."""
    before = row["status"]
    to = lifecycle.decide(before, command, actor)
    values: dict[str, Any] = {"status": to, "updated_at": at}
    detail: dict[str, Any] = {}
    amount = None
    currency = "EUR"
    if remote is not None:
        values["synced_at"] = at
    if command in ("renew", "recover"):
        assert remote is not None and remote.paid_invoice is not None
        invoice = remote.paid_invoice
        values |= {
            "period_start": remote.period_start,
            "period_end": remote.period_end,
            "paid_invoice_id": invoice.id,
            "renewal_due_at": None,
            "failed_invoice_id": None,
            "effective_at": at,
        }
        amount, currency = invoice.amount_paid, invoice.currency
        detail |= {"invoice": invoice.id, "amount_cents": amount, "period_end": _iso(remote.period_end)}
    elif command == "fail_renewal":
        assert remote is not None
        values |= {
            "renewal_due_at": remote.period_start,
            "failed_invoice_id": remote.latest_invoice.id if remote.latest_invoice else None,
        }
        detail |= {"invoice": values["failed_invoice_id"], "renewal_due_at": _iso(remote.period_start)}
    elif command == "cancel":
        values |= {"cancelled_at": at, "effective_at": at}
    elif command == "resume":
        values |= {"cancelled_at": None}
    elif command == "lapse":
        reason = reason or lapse_reason(before, remote)
        values |= {"lapsed_at": at, "lapse_reason": reason, "effective_at": at}
        detail["reason"] = reason
    changed = uow.subscriptions.change(row["id"], row["version"], **values)
    if changed is None:
        raise Conflict("The subscription changed meanwhile; try again.")
    record_transition(
        uow, row=changed, command=command, from_state=before, to_state=to, actor=actor, caller=caller,
        at=at, cause=cause, detail=detail,
    )  # fmt: skip
    publish_state(uow, catalog, command, changed, at, amount_cents=amount, currency=currency)
    return changed
