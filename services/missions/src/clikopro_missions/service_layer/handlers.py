"""Event handlers of the missions service: event type -> handler(event, uow)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_missions.service_layer.incidents import funds_released, incident_opened, incident_resolved
from clikopro_missions.service_layer.payments import apply_pending_payment
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork

log = logging.getLogger(__name__)


def record_member(event: Event, uow: MissionsUnitOfWork) -> None:
    """Keep the local copy of who is a client and who is a pro, and their contact details."""
    data = load_data(event)
    uow.members.upsert(
        user_id=data["user_id"],
        role=data["role"],
        display_name=f"{data['first_name']} {data['last_name'][:1]}.",
        registered_at=data["registered_at"],
    )
    _record_contact(uow, data, changed_at=data["registered_at"])


def contact_details_changed(event: Event, uow: MissionsUnitOfWork) -> None:
    """The full current set of a user's contact details; an older copy than the one held is ignored."""
    data = load_data(event)
    if not _record_contact(uow, data, changed_at=data["changed_at"]):
        log.info("%s %s is older than the contact details we hold", event.type, event.id)


def _record_contact(uow: MissionsUnitOfWork, data: Any, *, changed_at: dt.datetime) -> bool:
    return uow.contacts.record(
        {
            "user_id": data["user_id"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "email": data["email"],
            "phone": data.get("phone"),
            "changed_at": changed_at,
        }
    )


def record_plan(event: Event, uow: MissionsUnitOfWork) -> None:
    """The pro's entitlements in force after the event (quota, Paiement Direct); newest effective_at wins."""
    data = load_data(event)
    applied = uow.plans.record(
        {
            "pro_id": data["pro_id"],
            "plan": data["plan"],
            "features": list(data["features"]),
            "proposals_per_month": data["proposals_per_month"],
            "period_end": data["period_end"],
            "effective_at": data["effective_at"],
        }
    )
    if not applied:
        log.info("%s %s is older than the plan we hold for pro %s", event.type, event.id, data["pro_id"])


def payment_secured(event: Event, uow: MissionsUnitOfWork) -> None:
    """Record the payment, then start the mission if it awaits it; if the mission is not there yet
    (events are not ordered across producers) the accept applies the recorded payment."""
    data = load_data(event)
    now = dt.datetime.now(dt.UTC)
    uow.payments.record(
        {
            "mission_id": data["mission_id"],
            "payment_id": data["payment_id"],
            "amount_cents": data["amount_cents"],
            "secured_at": data["secured_at"],
            "received_at": now,
            "applied_at": None,
        }
    )
    mission = uow.missions.get(data["mission_id"], lock="update")
    if mission is None or apply_pending_payment(uow, mission, now) is None:
        log.info(
            "payment for mission %s recorded; the mission is %s",
            data["mission_id"],
            mission["status"] if mission else "not known yet",
        )


def account_suspended(event: Event, uow: MissionsUnitOfWork) -> None:
    """EVENTS.md flow 5: hide the suspended account's open offers (published missions, live proposals)."""
    data = load_data(event)
    if uow.accounts.record(data["user_id"], suspended=True, changed_at=data["suspended_at"]):
        hidden = _set_hidden(uow, data["user_id"], True, data["suspended_at"])
        log.info("account %s suspended: %d open offers hidden", data["user_id"], hidden)


def account_reinstated(event: Event, uow: MissionsUnitOfWork) -> None:
    data = load_data(event)
    if uow.accounts.record(data["user_id"], suspended=False, changed_at=data["reinstated_at"]):
        shown = _set_hidden(uow, data["user_id"], False, data["reinstated_at"])
        log.info("account %s reinstated: %d offers shown again", data["user_id"], shown)


def _set_hidden(uow: MissionsUnitOfWork, user_id, hidden: bool, at: dt.datetime) -> int:
    return uow.missions.set_hidden_for_client(user_id, hidden, at) + uow.proposals.set_hidden_for_pro(
        user_id, hidden
    )


HANDLERS: dict[str, Handler] = {
    "UserRegistered": record_member,
    "ContactDetailsChanged": contact_details_changed,
    "SubscriptionActivated": record_plan,
    "SubscriptionRenewed": record_plan,
    "SubscriptionCancelled": record_plan,
    "SubscriptionLapsed": record_plan,
    "PaymentSecured": payment_secured,
    "AccountSuspended": account_suspended,
    "AccountReinstated": account_reinstated,
    "IncidentOpened": incident_opened,
    "IncidentResolved": incident_resolved,
    "FundsReleased": funds_released,
}
