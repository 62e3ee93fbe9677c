"""Moderation of incidents (R18): the staff's queue and their decisions, every one audited."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from clikopro_chassis.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from clikopro_trust_safety.domain import incidents as rules
from clikopro_trust_safety.service_layer import views
from clikopro_trust_safety.service_layer.common import Caller, audit, decode_cursor, page
from clikopro_trust_safety.service_layer.incidents import check_task_ids
from clikopro_trust_safety.service_layer.unit_of_work import TrustSafetyUnitOfWork
from clikopro_trust_safety.settings import TrustSafetySettings

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def ensure_staff(caller: Caller) -> None:
    if not caller.is_staff:
        raise Forbidden("Moderation is for moderators and admins.")


def queue(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    """Incidents oldest first, each with its ``answer_overdue`` flag (computed when read)."""
    ensure_staff(caller)
    at = now()
    with uow:
        rows = uow.incidents.queue(status, limit=limit + 1, after=decode_cursor(cursor))
    items, next_cursor = page(rows, limit, lambda r: (r["opened_at"], r["id"]))
    return {
        "items": [views.incident(r, now=at, settings=settings) for r in items],
        "next_cursor": next_cursor,
    }


def resolve(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    incident_id: uuid.UUID,
    *,
    outcome: str,
    amount_cents: int | None,
    task_ids: Sequence[str] | None,
    reason: str,
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    ensure_staff(caller)
    reason = reason.strip()
    errors = []
    if not reason:
        errors.append(field_error("reason", "is empty: both parties read why"))
    if outcome == "partial_refund" and amount_cents is None:
        errors.append(field_error("amount_cents", "is required for a partial refund"))
    if outcome != "partial_refund" and amount_cents is not None:
        errors.append(field_error("amount_cents", "is only for a partial refund"))
    if errors:
        raise ValidationFailed("The decision is incomplete.", errors=errors)
    with uow:
        incident = uow.incidents.get(incident_id, lock=True)
        if incident is None:
            raise NotFound("No such incident.")
        if incident["status"] != "open":
            raise Conflict("The incident is already resolved.")
        mission = uow.missions.get(incident["mission_id"])
        tasks = uow.tasks.of_mission(incident["mission_id"])
        named = check_task_ids(task_ids or [], tasks)
        scope = named or [uuid.UUID(str(t)) for t in incident["task_ids"]]
        secured = bool(mission and mission["secured"] and mission["status"] != "cancelled")
        held = rules.effective_scope(tasks, scope, secured=secured)
        held_cents = sum(h.held_cents for h in held)
        if outcome == "partial_refund" and not 0 < amount_cents <= held_cents:  # type: ignore[operator]
            raise ValidationFailed(
                "A partial refund is more than zero and at most what is held for the tasks concerned.",
                errors=[
                    field_error("amount_cents", f"must be between 1 and {held_cents} (held for the scope)")
                ],
                held_cents=held_cents,
            )
        at = now()
        _apply_to_projection(uow, outcome, amount_cents, held, tasks)
        changed = uow.incidents.change(
            incident_id, incident["version"], status="resolved", outcome=outcome, amount_cents=amount_cents,
            resolution_task_ids=[str(t) for t in scope], reason=reason, resolved_by=caller.user_id,
            resolved_at=at,
        )  # fmt: skip
        if changed is None:
            raise Conflict("The incident changed meanwhile; read it again.")
        uow.publish(
            "IncidentResolved",
            {
                "incident_id": incident_id,
                "mission_id": incident["mission_id"],
                "client_id": incident["client_id"],
                "pro_id": incident["pro_id"],
                "outcome": outcome,
                "task_ids": scope,
                "refund_amount_cents": amount_cents,
                "currency": "EUR",
                "reason": reason,
                "moderator_id": caller.user_id,
                "resolved_at": at,
            },
        )
        audit(
            uow, caller, "incident.resolve", "incident", incident_id, at=at, reason=reason, outcome=outcome,
            amount_cents=amount_cents, task_ids=[str(t) for t in scope], held_cents=held_cents,
            mission_id=incident["mission_id"],
        )  # fmt: skip
        uow.commit()
    log.info("incident %s resolved (%s) by %s %s", incident_id, outcome, caller.role, caller.user_id)
    return views.incident(changed, now=at, settings=settings)


def _apply_to_projection(
    uow: TrustSafetyUnitOfWork,
    outcome: str,
    amount_cents: int | None,
    held: Sequence[rules.HeldTask],
    tasks: Sequence[Any],
) -> None:
    """What the decision takes out of what is held, so that the next incident on the mission is measured
    against what is really left (payments moves the money; this is our view of it)."""
    if outcome == "partial_refund":
        for task_id, cut in rules.allocate_refund(held, amount_cents or 0).items():
            uow.tasks.refunded(task_id, cut, cancel=False)
    elif outcome == "refund":
        released = {t["task_id"] for t in tasks if t["released"]}
        for task in held:
            if task.task_id not in released:
                uow.tasks.refunded(task.task_id, task.held_cents, cancel=True)


def audit_trail(uow: TrustSafetyUnitOfWork, caller: Caller, incident_id: uuid.UUID) -> dict[str, Any]:
    """Every recorded action on an incident (staff only)."""
    ensure_staff(caller)
    with uow:
        if uow.incidents.get(incident_id) is None:
            raise NotFound("No such incident.")
        rows = uow.audit.of_target("incident", incident_id)
    return {
        "items": [
            {
                "actor_id": r["actor_id"],
                "actor_role": r["actor_role"],
                "action": r["action"],
                "reason": r["reason"],
                "details": r["details"],
                "at": r["occurred_at"],
            }
            for r in rows
        ],
        "next_cursor": None,
    }
