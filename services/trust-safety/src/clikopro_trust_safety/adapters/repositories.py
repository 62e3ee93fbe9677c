"""Repositories of the trust-safety database (SQLAlchemy Core on the unit of work's session)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, or_, select, tuple_, update
from sqlalchemy.orm import Session

from clikopro_chassis.db import upsert_insert
from clikopro_trust_safety.adapters.orm import (
    audit_log,
    incident_attachments,
    incident_messages,
    incidents,
    mission_tasks,
    missions,
)

TERMINAL = ("completed", "cancelled")


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session


class MissionRepository(_Repository):
    """The projection of contracted missions; each event sets only what it knows, in any order."""

    def get(self, mission_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(select(missions).where(missions.c.mission_id == mission_id))
            .mappings()
            .first()
        )

    def _ensure(self, mission_id: uuid.UUID, at: dt.datetime) -> None:
        statement = upsert_insert(self.session, missions).values(mission_id=mission_id, updated_at=at)
        self.session.execute(statement.on_conflict_do_nothing(index_elements=["mission_id"]))

    def contracted(self, values: Mapping[str, Any]) -> None:
        self._ensure(values["mission_id"], values["updated_at"])
        self.session.execute(
            update(missions)
            .where(missions.c.mission_id == values["mission_id"])
            .values(**values)
            .values(status=_keep_terminal("contracted"))
        )

    def set_status(self, mission_id: uuid.UUID, status: str, at: dt.datetime) -> None:
        self._ensure(mission_id, at)
        self.session.execute(
            update(missions).where(missions.c.mission_id == mission_id).values(status=status, updated_at=at)
        )

    def secured(self, mission_id: uuid.UUID, at: dt.datetime) -> None:
        self._ensure(mission_id, at)
        self.session.execute(
            update(missions).where(missions.c.mission_id == mission_id).values(secured=True, updated_at=at)
        )


def _keep_terminal(status: str) -> Any:
    """``status`` unless the mission already ended (a late ProposalAccepted does not reopen it)."""
    from sqlalchemy import case

    return case((missions.c.status.in_(TERMINAL), missions.c.status), else_=status)


class TaskRepository(_Repository):
    def of_mission(self, mission_id: uuid.UUID) -> list[RowMapping]:
        query = select(mission_tasks).where(mission_tasks.c.mission_id == mission_id)
        return list(self.session.execute(query.order_by(mission_tasks.c.position)).mappings())

    def _ensure(self, task_id: uuid.UUID, mission_id: uuid.UUID) -> None:
        statement = upsert_insert(self.session, mission_tasks).values(
            task_id=task_id, mission_id=mission_id, status="pending", released=False, refunded_cents=0
        )
        self.session.execute(statement.on_conflict_do_nothing(index_elements=["task_id"]))

    def planned(self, mission_id: uuid.UUID, task: Mapping[str, Any]) -> None:
        self._ensure(task["task_id"], mission_id)
        self.session.execute(
            update(mission_tasks)
            .where(mission_tasks.c.task_id == task["task_id"])
            .values(position=task["position"], title=task["title"], amount_cents=task["amount_cents"])
        )

    def set_status(self, mission_id: uuid.UUID, task_id: uuid.UUID, status: str, at: dt.datetime) -> None:
        """The newest fact wins: a redelivered or late event does not move a task back."""
        self._ensure(task_id, mission_id)
        self.session.execute(
            update(mission_tasks)
            .where(
                mission_tasks.c.task_id == task_id,
                mission_tasks.c.status != "cancelled",
                or_(mission_tasks.c.status_at.is_(None), mission_tasks.c.status_at <= at),
            )
            .values(status=status, status_at=at)
        )

    def released(self, mission_id: uuid.UUID, task_id: uuid.UUID) -> None:
        self._ensure(task_id, mission_id)
        self.session.execute(
            update(mission_tasks).where(mission_tasks.c.task_id == task_id).values(released=True)
        )

    def refunded(self, task_id: uuid.UUID, cents: int, *, cancel: bool) -> None:
        values: dict[str, Any] = {"refunded_cents": mission_tasks.c.refunded_cents + cents}
        if cancel:
            values["status"] = "cancelled"
        self.session.execute(update(mission_tasks).where(mission_tasks.c.task_id == task_id).values(**values))


class IncidentRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(incidents.insert().values(**values))

    def get(self, incident_id: uuid.UUID, *, lock: bool = False) -> RowMapping | None:
        query = select(incidents).where(incidents.c.id == incident_id)
        if lock:
            query = query.with_for_update()
        return self.session.execute(query).mappings().first()

    def by_dispute(self, dispute_id: str) -> RowMapping | None:
        return (
            self.session.execute(select(incidents).where(incidents.c.dispute_id == dispute_id))
            .mappings()
            .first()
        )

    def of_mission(self, mission_id: uuid.UUID) -> list[RowMapping]:
        query = select(incidents).where(incidents.c.mission_id == mission_id)
        return list(self.session.execute(query.order_by(incidents.c.opened_at, incidents.c.id)).mappings())

    def of_user(self, user_id: uuid.UUID, *, limit: int, after: tuple[dt.datetime, uuid.UUID] | None):
        query = select(incidents).where(or_(incidents.c.client_id == user_id, incidents.c.pro_id == user_id))
        return self._page(query, limit, after, newest_first=True)

    def queue(self, status: str | None, *, limit: int, after: tuple[dt.datetime, uuid.UUID] | None):
        """The moderators' queue, oldest first."""
        query = select(incidents)
        if status:
            query = query.where(incidents.c.status == status)
        return self._page(query, limit, after, newest_first=False)

    def _page(self, query: Any, limit: int, after: Any, *, newest_first: bool) -> list[RowMapping]:
        key = tuple_(incidents.c.opened_at, incidents.c.id)
        if after is not None:
            query = query.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
        order = (
            (incidents.c.opened_at.desc(), incidents.c.id.desc())
            if newest_first
            else (incidents.c.opened_at, incidents.c.id)
        )
        return list(self.session.execute(query.order_by(*order).limit(limit)).mappings())

    def change(self, incident_id: uuid.UUID, version: int, **values: Any) -> RowMapping | None:
        return (
            self.session.execute(
                update(incidents)
                .where(incidents.c.id == incident_id, incidents.c.version == version)
                .values(**values, version=incidents.c.version + 1)
                .returning(incidents)
            )
            .mappings()
            .first()
        )

    def mark_answered(self, incident_id: uuid.UUID, at: dt.datetime) -> bool:
        """True for the first answer only (two answers racing: one wins)."""
        row = self.session.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.answered_at.is_(None))
            .values(answered_at=at)
            .returning(incidents.c.id)
        ).first()
        return row is not None


class MessageRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(incident_messages.insert().values(**values))

    def add_attachment(self, values: Mapping[str, Any]) -> None:
        self.session.execute(incident_attachments.insert().values(**values))

    def thread(
        self, incident_id: uuid.UUID, *, limit: int, after: tuple[dt.datetime, uuid.UUID] | None
    ) -> list[RowMapping]:
        """Oldest first, as a conversation reads."""
        query = select(incident_messages).where(incident_messages.c.incident_id == incident_id)
        key = tuple_(incident_messages.c.created_at, incident_messages.c.id)
        if after is not None:
            query = query.where(key > tuple_(*after))
        query = query.order_by(incident_messages.c.created_at, incident_messages.c.id).limit(limit)
        return list(self.session.execute(query).mappings())

    def attachments_of(self, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RowMapping]]:
        found: dict[uuid.UUID, list[RowMapping]] = {m: [] for m in message_ids}
        if not message_ids:
            return found
        query = (
            select(incident_attachments)
            .where(incident_attachments.c.message_id.in_(list(message_ids)))
            .order_by(incident_attachments.c.created_at, incident_attachments.c.id)
        )
        for row in self.session.execute(query).mappings():
            found[row["message_id"]].append(row)
        return found

    def attachment(self, incident_id: uuid.UUID, attachment_id: uuid.UUID) -> RowMapping | None:
        query = select(incident_attachments).where(
            and_(
                incident_attachments.c.incident_id == incident_id, incident_attachments.c.id == attachment_id
            )
        )
        return self.session.execute(query).mappings().first()


class AuditRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> None:
        self.session.execute(audit_log.insert().values(**values))

    def of_target(self, target_type: str, target_id: uuid.UUID) -> list[RowMapping]:
        query = select(audit_log).where(
            audit_log.c.target_type == target_type, audit_log.c.target_id == target_id
        )
        return list(self.session.execute(query.order_by(audit_log.c.id)).mappings())
