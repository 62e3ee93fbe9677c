"""Event handlers of the trust-safety service: event type -> handler(event, uow).

The mission projection (parties, tasks, amounts, payment, what is released) is built from missions' and
payments' events, in whatever order they come: each handler sets only the facts its event carries."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_trust_safety.service_layer.common import SYSTEM_CALLER
from clikopro_trust_safety.service_layer.incidents import record_opened
from clikopro_trust_safety.service_layer.unit_of_work import TrustSafetyUnitOfWork

log = logging.getLogger(__name__)


def proposal_accepted(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    data = load_data(event)
    uow.missions.contracted(
        {
            "mission_id": data["mission_id"],
            "client_id": data["client_id"],
            "pro_id": data["pro_id"],
            "payment_mode": data["payment_mode"],
            "amount_cents": data["amount_cents"],
            "accepted_at": data["accepted_at"],
            "updated_at": data["accepted_at"],
        }
    )
    for task in data["tasks"]:
        uow.tasks.planned(data["mission_id"], task)


def payment_secured(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    data = load_data(event)
    uow.missions.secured(data["mission_id"], data["secured_at"])


def _task_status(status: str, time_field: str) -> Handler:
    def handler(event: Event, uow: TrustSafetyUnitOfWork) -> None:
        data = load_data(event)
        uow.tasks.set_status(data["mission_id"], data["task_id"], status, data[time_field])

    handler.__name__ = f"task_{status}"
    return handler


def funds_released(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    data = load_data(event)
    uow.tasks.released(data["mission_id"], data["task_id"])


def mission_completed(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    data = load_data(event)
    uow.missions.set_status(data["mission_id"], "completed", data["completed_at"])


def mission_cancelled(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    data = load_data(event)
    if data["pro_id"] is None:
        return  # cancelled before any contract: never a mission of ours
    uow.missions.set_status(data["mission_id"], "cancelled", data["cancelled_at"])


def payment_disputed(event: Event, uow: TrustSafetyUnitOfWork) -> None:
    """A card dispute at Stripe opens an incident of the platform's own (`system`, category `payment`)
    on the mission, once per dispute, so that what is still held is frozen and a moderator looks at it."""
    data = load_data(event)
    if uow.incidents.by_dispute(data["dispute_id"]) is not None:
        return
    at: dt.datetime = data["disputed_at"]
    row = {
        "id": uuid.uuid4(),
        "mission_id": data["mission_id"],
        "client_id": data["client_id"],
        "pro_id": data["pro_id"],
        "opened_by": None,
        "opened_by_role": "system",
        "category": "payment",
        "description": (
            "Contestation de paiement ouverte par la banque du client auprès de Stripe "
            f"({data['dispute_id']}, "
            f"motif « {data['reason']} », {data['amount_cents'] / 100:.2f} €)."
        ),
        "task_ids": [],
        "dispute_id": data["dispute_id"],
        "status": "open",
        "opened_at": at,
        "answer_due_at": at + dt.timedelta(days=uow.settings.incident_answer_days),
        "answered_at": None,
        "outcome": None,
        "amount_cents": None,
        "resolution_task_ids": None,
        "reason": None,
        "resolved_by": None,
        "resolved_at": None,
        "version": 1,
    }
    record_opened(uow, SYSTEM_CALLER, row)
    log.info(
        "dispute %s: incident %s opened on mission %s", data["dispute_id"], row["id"], data["mission_id"]
    )


HANDLERS: dict[str, Handler] = {
    "ProposalAccepted": proposal_accepted,
    "PaymentSecured": payment_secured,
    "TaskSubmitted": _task_status("submitted", "submitted_at"),
    "TaskValidated": _task_status("validated", "validated_at"),
    "TaskContested": _task_status("contested", "contested_at"),
    "FundsReleased": funds_released,
    "MissionCompleted": mission_completed,
    "MissionCancelled": mission_cancelled,
    "PaymentDisputed": payment_disputed,
}
