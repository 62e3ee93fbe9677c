"""Incidents as missions lives them (trust & safety decides them): the mission shows its open incidents
and the tasks they cover; a covered task waits (no validation by the delay); a resolution acts on the
tasks it names — `refund` cancels those not paid (and the mission with its last task), `dismiss` sends
a contested task back to the client with its validation delay started again.

A contested task is escalated by the client declaring an incident on it (``POST /api/v1/incidents``
with its id in ``task_ids``): the task stays ``contested`` and lists the incident in ``incident_ids``."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clikopro_contracts import Event, load_data
from clikopro_missions.domain.lifecycle import MISSION, STAFF, TASK
from clikopro_missions.service_layer.common import Caller, canceller, record_transition
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork

log = logging.getLogger(__name__)


def covers(incident: Mapping[str, Any], task: Mapping[str, Any]) -> bool:
    """An incident covers the tasks it names, or, naming none, every task not yet paid."""
    named = {str(t) for t in incident["task_ids"]}
    if named:
        return str(task["id"]) in named
    return task["released_at"] is None and task["status"] != "cancelled"


def incident_ids_by_task(
    incidents: Sequence[Mapping[str, Any]], tasks: Iterable[Mapping[str, Any]]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return {t["id"]: [i["incident_id"] for i in incidents if covers(i, t)] for t in tasks}


def incident_opened(event: Event, uow: MissionsUnitOfWork) -> None:
    data = load_data(event)
    uow.incidents.opened(
        data["incident_id"], data["mission_id"], [str(t) for t in data.get("task_ids", [])], data["opened_at"]
    )


def funds_released(event: Event, uow: MissionsUnitOfWork) -> None:
    data = load_data(event)
    uow.tasks.released(data["task_id"], data["released_at"])


def incident_resolved(event: Event, uow: MissionsUnitOfWork) -> None:
    data = load_data(event)
    scope = [str(t) for t in data.get("task_ids", [])]
    if not uow.incidents.resolved(
        data["incident_id"], data["mission_id"], scope, data["outcome"], data["resolved_at"]
    ):
        return  # already applied
    mission = uow.missions.get(data["mission_id"], lock="update")
    if mission is None:
        log.warning(
            "incident %s resolved on mission %s, unknown here", data["incident_id"], data["mission_id"]
        )
        return
    moderator = Caller(data["moderator_id"], "moderator")
    reason = f"incident {data['incident_id']}: {data.get('reason') or 'resolved'}"
    tasks = [t for t in uow.tasks.of_mission(mission["id"]) if covers({"task_ids": scope}, t)]
    at = data["resolved_at"]
    if data["outcome"] == "dismiss":
        _reopen_contested(uow, mission, tasks, moderator, reason, at)
    elif data["outcome"] == "refund":
        _cancel_unpaid(uow, mission, tasks, moderator, reason, at)


def _reopen_contested(
    uow: MissionsUnitOfWork,
    mission: Any,
    tasks: Sequence[Any],
    moderator: Caller,
    reason: str,
    at: dt.datetime,
) -> None:
    if mission["status"] != "in_progress":
        return
    auto_at = at + dt.timedelta(days=uow.task_auto_validate_days)
    for task in tasks:
        if task["status"] != "contested":
            continue
        status = TASK.decide(task["status"], "reopen", STAFF)
        uow.tasks.change(
            task["id"], task["version"], status=status, submitted_at=at, auto_validate_at=auto_at,
            reminded_at=None, submissions=task["submissions"] + 1,
        )  # fmt: skip
        record_transition(
            uow, mission_id=mission["id"], entity="task", entity_id=task["id"], command="reopen",
            from_state=task["status"], to_state=status, actor=STAFF, caller=moderator, now=at, reason=reason,
        )  # fmt: skip
        # Announces the new delay, as a submission does.
        uow.publish(
            "TaskSubmitted",
            {
                "mission_id": mission["id"],
                "task_id": task["id"],
                "position": task["position"],
                "pro_id": mission["pro_id"],
                "client_id": mission["client_id"],
                "submitted_at": at,
                "auto_validate_at": auto_at,
            },
        )


def _cancel_unpaid(
    uow: MissionsUnitOfWork,
    mission: Any,
    tasks: Sequence[Any],
    moderator: Caller,
    reason: str,
    at: dt.datetime,
) -> None:
    if mission["status"] in ("completed", "cancelled"):
        return
    for task in tasks:
        if task["released_at"] is not None or task["status"] == "cancelled":
            continue
        status = TASK.decide(task["status"], "cancel", STAFF)
        uow.tasks.change(task["id"], task["version"], status=status)
        record_transition(
            uow, mission_id=mission["id"], entity="task", entity_id=task["id"], command="cancel",
            from_state=task["status"], to_state=status, actor=STAFF, caller=moderator, now=at, reason=reason,
        )  # fmt: skip
    remaining = [t for t in uow.tasks.of_mission(mission["id"]) if t["status"] != "cancelled"]
    contract = uow.contracts.get(mission["id"])
    if not remaining:
        status = MISSION.decide(mission["status"], "cancel", STAFF)
        uow.missions.change(mission["id"], mission["version"], status=status, updated_at=at)
        record_transition(
            uow, mission_id=mission["id"], entity="mission", entity_id=mission["id"], command="cancel",
            from_state=mission["status"], to_state=status, actor=STAFF, caller=moderator, now=at,
            reason=reason,
        )  # fmt: skip
        uow.publish(
            "MissionCancelled",
            {
                "mission_id": mission["id"],
                "client_id": mission["client_id"],
                "pro_id": contract["pro_id"] if contract else mission["pro_id"],
                "payment_mode": contract["payment_mode"] if contract else None,
                "previous_status": mission["status"],
                "cancelled_by": canceller(STAFF),
                "reason": reason[:2000],
                "cancelled_at": at,
            },
        )
    elif mission["status"] == "in_progress" and all(t["status"] == "validated" for t in remaining):
        status = MISSION.decide(mission["status"], "complete", STAFF)
        uow.missions.change(mission["id"], mission["version"], status=status, updated_at=at)
        record_transition(
            uow, mission_id=mission["id"], entity="mission", entity_id=mission["id"], command="complete",
            from_state=mission["status"], to_state=status, actor=STAFF, caller=moderator, now=at,
            reason=reason,
        )  # fmt: skip
        uow.publish(
            "MissionCompleted",
            {
                "mission_id": mission["id"],
                "client_id": mission["client_id"],
                "pro_id": mission["pro_id"],
                "trade": mission["trade"],
                "payment_mode": contract["payment_mode"],
                "amount_cents": contract["amount_cents"],
                "currency": "EUR",
                "completed_at": at,
            },
        )
