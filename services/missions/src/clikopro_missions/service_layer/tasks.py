"""Tasks with checkpoints (R8): the pro submits, the client validates or contests; the last
validation completes the mission; a task left unanswered is reminded, then validated by the delay."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from clikopro_chassis.errors import Conflict, NotFound
from clikopro_missions.domain.contact import contact_allowed, guard
from clikopro_missions.domain.lifecycle import CLIENT, MISSION, PRO, STAFF, SYSTEM, TASK
from clikopro_missions.service_layer import views
from clikopro_missions.service_layer.common import (
    SYSTEM_CALLER,
    Caller,
    ensure_not_suspended,
    record_transition,
)
from clikopro_missions.service_layer.incidents import covers, incident_ids_by_task
from clikopro_missions.service_layer.missions import visible_mission
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork
from clikopro_missions.settings import MissionsSettings

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
#: The longest contest reason (the API's and TaskContested's limit).
REASON_LENGTH = 2000


def of_mission(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        _, relation = visible_mission(uow, caller, mission_id)
        if relation not in {CLIENT, PRO, STAFF}:
            raise NotFound("No such mission.")
        rows = uow.tasks.of_mission(mission_id)
        covered = incident_ids_by_task(uow.incidents.open_of_mission(mission_id), rows)
        return {"items": [views.task(t, covered[t["id"]]) for t in rows], "next_cursor": None}


def _locked(uow: MissionsUnitOfWork, mission_id: uuid.UUID, task_id: uuid.UUID) -> tuple[Any, Any]:
    """The mission, locked: one task command at a time per mission, so that "was it the last task?"
    has one answer even when two validations race."""
    mission = uow.missions.get(mission_id, lock="update")
    if mission is None:
        raise NotFound("No such mission.")
    task = uow.tasks.get(mission_id, task_id)
    if task is None:
        raise NotFound("No such task.")
    return mission, task


def _locked_for(
    uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID, task_id: uuid.UUID
) -> tuple[Any, Any, str]:
    """:func:`_locked` for a caller who is not suspended, with the caller's relation to the mission."""
    ensure_not_suspended(uow, caller)
    mission, task = _locked(uow, mission_id, task_id)
    return mission, task, caller.relation(client_id=mission["client_id"], pro_id=mission["pro_id"])


def _in_progress(mission: Mapping[str, Any]) -> None:
    if mission["status"] != "in_progress":
        raise Conflict(f"The mission is {mission['status']}: its tasks are not open.")


def submit(
    uow: MissionsUnitOfWork,
    caller: Caller,
    mission_id: uuid.UUID,
    task_id: uuid.UUID,
    *,
    now: Clock,
    settings: MissionsSettings,
) -> dict[str, Any]:
    with uow:
        mission, task, actor = _locked_for(uow, caller, mission_id, task_id)
        status = TASK.decide(task["status"], "submit", actor)
        _in_progress(mission)
        at = now()
        auto_at = at + dt.timedelta(days=settings.task_auto_validate_days)
        changed = uow.tasks.change(
            task_id, task["version"], status=status, submitted_at=at, auto_validate_at=auto_at,
            reminded_at=None, submissions=task["submissions"] + 1,
        )  # fmt: skip
        if changed is None:
            raise Conflict("The task changed meanwhile.")
        record_transition(
            uow, mission_id=mission_id, entity="task", entity_id=task_id, command="submit",
            from_state=task["status"], to_state=status, actor=actor, caller=caller, now=at,
        )  # fmt: skip
        uow.publish(
            "TaskSubmitted",
            {
                "mission_id": mission_id,
                "task_id": task_id,
                "position": task["position"],
                "pro_id": mission["pro_id"],
                "client_id": mission["client_id"],
                "submitted_at": at,
                "auto_validate_at": auto_at,
            },
        )
        uow.commit()
        return views.task(changed)


def validate(
    uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID, task_id: uuid.UUID, *, now: Clock
) -> dict[str, Any]:
    with uow:
        mission, task, actor = _locked_for(uow, caller, mission_id, task_id)
        changed = _validate(uow, caller, actor, mission, task, now(), auto=False)
        uow.commit()
        return views.task(changed)


def _validate(
    uow: MissionsUnitOfWork,
    caller: Caller,
    actor: str,
    mission: Mapping[str, Any],
    task: Mapping[str, Any],
    at: dt.datetime,
    *,
    auto: bool,
) -> Mapping[str, Any]:
    status = TASK.decide(task["status"], "auto_validate" if auto else "validate", actor)
    _in_progress(mission)
    mission_id, task_id = mission["id"], task["id"]
    changed = uow.tasks.change(task_id, task["version"], status=status, validated_at=at, auto_validated=auto)
    if changed is None:
        raise Conflict("The task changed meanwhile.")
    record_transition(
        uow, mission_id=mission_id, entity="task", entity_id=task_id,
        command="auto_validate" if auto else "validate", from_state=task["status"], to_state=status,
        actor=actor, caller=caller, now=at,
    )  # fmt: skip
    contract = uow.contracts.get(mission_id)
    uow.publish(
        "TaskValidated",
        {
            "mission_id": mission_id,
            "task_id": task_id,
            "pro_id": mission["pro_id"],
            "client_id": mission["client_id"],
            "amount_cents": task["amount_cents"],
            "currency": "EUR",
            "payment_mode": contract["payment_mode"],
            "auto_validated": auto,
            "validated_at": at,
        },
    )
    # Tasks an incident's refund cancelled are no longer part of the job.
    if all(t["status"] in ("validated", "cancelled") for t in uow.tasks.of_mission(mission_id)):
        completed = MISSION.decide(mission["status"], "complete", actor)
        if uow.missions.change(mission_id, mission["version"], status=completed, updated_at=at) is None:
            raise Conflict("The mission changed meanwhile.")
        record_transition(
            uow, mission_id=mission_id, entity="mission", entity_id=mission_id, command="complete",
            from_state=mission["status"], to_state=completed, actor=actor, caller=caller, now=at,
        )  # fmt: skip
        uow.publish(
            "MissionCompleted",
            {
                "mission_id": mission_id,
                "client_id": mission["client_id"],
                "pro_id": mission["pro_id"],
                "trade": mission["trade"],
                "payment_mode": contract["payment_mode"],
                "amount_cents": contract["amount_cents"],
                "currency": "EUR",
                "completed_at": at,
            },
        )
    return changed


def contest(
    uow: MissionsUnitOfWork,
    caller: Caller,
    mission_id: uuid.UUID,
    task_id: uuid.UUID,
    reason: str,
    *,
    now: Clock,
) -> dict[str, Any]:
    with uow:
        mission, task, actor = _locked_for(uow, caller, mission_id, task_id)
        status = TASK.decide(task["status"], "contest", actor)
        _in_progress(mission)
        at = now()
        # The contract allows contact; an invitation to pay outside a Secure mission is still masked.
        contract = uow.contracts.get(mission_id)
        mode = contract["payment_mode"] if contract else None
        guarded = guard(
            reason.strip(),
            contact_allowed=contact_allowed(status=mission["status"], payment_mode=mode),
            payment_mode=mode,
            max_length=REASON_LENGTH,
        )
        reason = guarded.text
        changed = uow.tasks.change(task_id, task["version"], status=status, contest_reason=reason)
        if changed is None:
            raise Conflict("The task changed meanwhile.")
        record_transition(
            uow, mission_id=mission_id, entity="task", entity_id=task_id, command="contest",
            from_state=task["status"], to_state=status, actor=actor, caller=caller, now=at, reason=reason,
        )  # fmt: skip
        uow.publish(
            "TaskContested",
            {
                "mission_id": mission_id,
                "task_id": task_id,
                "pro_id": mission["pro_id"],
                "client_id": mission["client_id"],
                "reason": reason,
                "contested_at": at,
                "masked_contacts": guarded.kinds,
            },
        )
        uow.commit()
        return views.task(changed)


# -- the worker's job -------------------------------------------------------------------------------------

BATCH = 200


def _remind(
    uow: MissionsUnitOfWork, mission: Mapping[str, Any], task: Mapping[str, Any], at: dt.datetime
) -> bool:
    """Record the reminder of the task's current submission and publish TaskValidationReminderDue with
    it, for the notifications to send. The row (one per task and submission) is what makes it once:
    no row written, no event. False if this submission was already reminded."""
    mission_id, task_id = mission["id"], task["id"]
    recorded = uow.tasks.add_reminder(
        {
            "task_id": task_id,
            "submission": task["submissions"],
            "mission_id": mission_id,
            "client_id": mission["client_id"],
            "reminded_at": at,
            "auto_validate_at": task["auto_validate_at"],
        }
    )
    # Marked either way, so that the job stops picking the task up.
    uow.tasks.change(task_id, task["version"], reminded_at=at)
    if recorded:
        uow.publish(
            "TaskValidationReminderDue",
            {
                "mission_id": mission_id,
                "task_id": task_id,
                "client_id": mission["client_id"],
                "pro_id": mission["pro_id"],
                "title": task["title"],
                "amount_cents": task["amount_cents"],
                "currency": "EUR",
                "submitted_at": task["submitted_at"],
                "auto_validate_at": task["auto_validate_at"],
            },
        )
    return recorded


def run_deadlines(
    uow_factory: Callable[[], MissionsUnitOfWork], *, now: Clock, settings: MissionsSettings
) -> dict[str, int]:
    """Remind the client (TaskValidationReminderDue) of tasks submitted ``TASK_REMINDER_DAYS`` ago,
    and validate those whose ``auto_validate_at`` (announced in TaskSubmitted) has passed. Each task
    in its own transaction, re-checked under the mission's lock, so that several workers (or a client
    answering at that very moment) never remind or validate a task twice."""
    at = now()
    done = {"reminded": 0, "auto_validated": 0}
    reminder_threshold = at - dt.timedelta(days=settings.task_reminder_days)
    with uow_factory() as uow:
        to_remind = uow.tasks.awaiting_reminder(reminder_threshold, limit=BATCH)
    for mission_id, task_id in to_remind:
        with uow_factory() as uow:
            mission, task = _locked(uow, mission_id, task_id)
            if (
                task["status"] != "submitted"
                or task["reminded_at"] is not None
                or task["auto_validate_at"] <= at
            ):
                continue
            recorded = _remind(uow, mission, task, at)
            uow.commit()
            if not recorded:
                continue
            log.info(
                "client %s reminded of task %s of mission %s (validated automatically at %s)",
                mission["client_id"], task_id, mission_id, task["auto_validate_at"].isoformat(),
            )  # fmt: skip
            done["reminded"] += 1
    with uow_factory() as uow:
        due = uow.tasks.due_for_auto_validation(at, limit=BATCH)
    for mission_id, task_id in due:
        with uow_factory() as uow:
            mission, task = _locked(uow, mission_id, task_id)
            if (
                task["status"] != "submitted"
                or mission["status"] != "in_progress"
                or task["auto_validate_at"] > at
            ):
                continue
            if any(covers(i, task) for i in uow.incidents.open_of_mission(mission_id)):
                # Under an open incident the delay does not decide: the moderator's resolution does.
                continue
            _validate(uow, SYSTEM_CALLER, SYSTEM, mission, task, at, auto=True)
            uow.commit()
            log.info("task %s of mission %s validated automatically", task_id, mission_id)
            done["auto_validated"] += 1
    return done
