"""Repositories of the missions database (SQLAlchemy Core on the unit of work's session).

Conditional updates return the rows they changed (``RETURNING``): with psycopg
and SQLAlchemy 2.1 the rowcount of some statements is -1, so "did I win?" is
"did a row come back?".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, false, func, select, text, true, tuple_, update
from sqlalchemy.orm import Session

from clikopro_chassis.db import upsert_insert
from clikopro_missions.adapters.orm import (
    BROWSABLE,
    account_states,
    contacts,
    contracts,
    incidents,
    invoices,
    members,
    mission_addresses,
    missions,
    payment_notices,
    pro_plans,
    proposal_counters,
    proposal_tasks,
    proposals,
    task_reminders,
    tasks,
    transitions,
)


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session


class MemberRepository(_Repository):
    def upsert(self, user_id: uuid.UUID, role: str, display_name: str, registered_at: dt.datetime) -> None:
        statement = upsert_insert(self.session, members).values(
            user_id=user_id, role=role, display_name=display_name, registered_at=registered_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"role": role, "display_name": display_name}
        )
        self.session.execute(statement)

    def role_of(self, user_id: uuid.UUID) -> str | None:
        return self.session.execute(select(members.c.role).where(members.c.user_id == user_id)).scalar()


class ContactRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> bool:
        """Keep the newest contact details of a user; returns False if later ones are already known."""
        statement = upsert_insert(self.session, contacts).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={k: v for k, v in values.items() if k != "user_id"},
            where=contacts.c.changed_at <= statement.excluded.changed_at,
        ).returning(contacts.c.user_id)
        return self.session.execute(statement).first() is not None

    def get(self, user_id: uuid.UUID) -> RowMapping | None:
        return self.session.execute(select(contacts).where(contacts.c.user_id == user_id)).mappings().first()


class AddressRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(mission_addresses.insert().values(**values))

    def get(self, mission_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(
                select(mission_addresses).where(mission_addresses.c.mission_id == mission_id)
            )
            .mappings()
            .first()
        )


class MissionRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(missions.insert().values(**values))

    def get(self, mission_id: uuid.UUID, *, lock: str | None = None) -> RowMapping | None:
        """``lock``: ``"update"`` (serialises the changes of one mission) or ``"share"``."""
        query = select(missions).where(missions.c.id == mission_id)
        if lock == "update":
            query = query.with_for_update()
        elif lock == "share":
            query = query.with_for_update(read=True)
        return self.session.execute(query).mappings().first()

    def change(self, mission_id: uuid.UUID, version: int, **values: Any) -> RowMapping | None:
        """Optimistic update: applies only if nobody changed the mission since ``version`` was read."""
        return (
            self.session.execute(
                update(missions)
                .where(missions.c.id == mission_id, missions.c.version == version)
                .values(**values, version=missions.c.version + 1)
                .returning(missions)
            )
            .mappings()
            .first()
        )

    def browse(
        self,
        *,
        limit: int,
        after: tuple[dt.datetime, uuid.UUID] | None,
        trade: str | None = None,
        postcode: str | None = None,
        department: str | None = None,
        status: str | None = None,
        client_id: uuid.UUID | None = None,
        pro_id: uuid.UUID | None = None,
        browsable_only: bool = False,
    ) -> Sequence[RowMapping]:
        """Newest first, keyset-paginated on (published_at, id)."""
        conditions = []
        if browsable_only:
            # Literal, not bound: the planner must see it to pick the partial browse indexes.
            conditions.append(text(BROWSABLE))
        elif status is not None:
            conditions.append(missions.c.status == status)
        if client_id is not None:
            conditions.append(missions.c.client_id == client_id)
        if pro_id is not None:
            conditions.append(missions.c.pro_id == pro_id)
        if trade is not None:
            conditions.append(missions.c.trade == trade)
        if postcode is not None:
            conditions.append(missions.c.postcode == postcode)
        if department is not None:
            conditions.append(missions.c.department == department)
        if after is not None:
            conditions.append(tuple_(missions.c.published_at, missions.c.id) < tuple_(*after))
        query = (
            select(missions)
            .where(and_(true(), *conditions))
            .order_by(missions.c.published_at.desc(), missions.c.id.desc())
            .limit(limit)
        )
        return self.session.execute(query).mappings().all()

    def set_hidden_for_client(self, client_id: uuid.UUID, hidden: bool, now: dt.datetime) -> int:
        """Hide the client's published missions (suspension), or show again whatever was hidden."""
        query = update(missions).where(missions.c.client_id == client_id, missions.c.hidden == (not hidden))
        if hidden:
            query = query.where(missions.c.status == "published")
        rows = self.session.execute(
            query.values(hidden=hidden, updated_at=now).returning(missions.c.id)
        ).all()
        return len(rows)


class ProposalRepository(_Repository):
    def add(self, values: Mapping[str, Any], planned: Iterable[Mapping[str, Any]]) -> None:
        self.session.execute(proposals.insert().values(**values))
        self.session.execute(proposal_tasks.insert(), [dict(t, proposal_id=values["id"]) for t in planned])

    def get(self, proposal_id: uuid.UUID) -> RowMapping | None:
        return self.session.execute(select(proposals).where(proposals.c.id == proposal_id)).mappings().first()

    def tasks_of(self, proposal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RowMapping]]:
        found: dict[uuid.UUID, list[RowMapping]] = {pid: [] for pid in proposal_ids}
        if not proposal_ids:
            return found
        rows = self.session.execute(
            select(proposal_tasks)
            .where(proposal_tasks.c.proposal_id.in_(proposal_ids))
            .order_by(proposal_tasks.c.proposal_id, proposal_tasks.c.position)
        ).mappings()
        for row in rows:
            found[row["proposal_id"]].append(row)
        return found

    def live_of(self, mission_id: uuid.UUID, pro_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(
                select(proposals).where(
                    proposals.c.mission_id == mission_id,
                    proposals.c.pro_id == pro_id,
                    proposals.c.status == "submitted",
                )
            )
            .mappings()
            .first()
        )

    def of_mission(
        self, mission_id: uuid.UUID, *, pro_id: uuid.UUID | None = None, include_hidden: bool = False
    ) -> Sequence[RowMapping]:
        query = select(proposals).where(proposals.c.mission_id == mission_id)
        if pro_id is not None:
            query = query.where(proposals.c.pro_id == pro_id)
        if not include_hidden:
            query = query.where(proposals.c.hidden == false())
        return self.session.execute(query.order_by(proposals.c.submitted_at, proposals.c.id)).mappings().all()

    def move(self, proposal_id: uuid.UUID, from_status: str, to_status: str, now: dt.datetime) -> bool:
        row = self.session.execute(
            update(proposals)
            .where(proposals.c.id == proposal_id, proposals.c.status == from_status)
            .values(status=to_status, decided_at=now)
            .returning(proposals.c.id)
        ).first()
        return row is not None

    def reject_live(
        self, mission_id: uuid.UUID, now: dt.datetime, *, keep: uuid.UUID | None = None
    ) -> list[RowMapping]:
        """Reject every live proposal of the mission (but ``keep``); returns (id, pro_id) of each."""
        query = update(proposals).where(
            proposals.c.mission_id == mission_id, proposals.c.status == "submitted"
        )
        if keep is not None:
            query = query.where(proposals.c.id != keep)
        rows = self.session.execute(
            query.values(status="rejected", decided_at=now).returning(proposals.c.id, proposals.c.pro_id)
        ).mappings()
        return sorted(rows, key=lambda r: str(r["id"]))

    def set_hidden_for_pro(self, pro_id: uuid.UUID, hidden: bool) -> int:
        """Hide the pro's live proposals (suspension), or show again whatever was hidden."""
        query = update(proposals).where(proposals.c.pro_id == pro_id, proposals.c.hidden == (not hidden))
        if hidden:
            query = query.where(proposals.c.status == "submitted")
        rows = self.session.execute(query.values(hidden=hidden).returning(proposals.c.id)).all()
        return len(rows)


class ContractRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(contracts.insert().values(**values))

    def get(self, mission_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(select(contracts).where(contracts.c.mission_id == mission_id))
            .mappings()
            .first()
        )


class TaskRepository(_Repository):
    def add_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.session.execute(tasks.insert(), list(rows))

    def of_mission(self, mission_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(tasks).where(tasks.c.mission_id == mission_id).order_by(tasks.c.position)
            )
            .mappings()
            .all()
        )

    def get(self, mission_id: uuid.UUID, task_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(select(tasks).where(tasks.c.id == task_id, tasks.c.mission_id == mission_id))
            .mappings()
            .first()
        )

    def change(self, task_id: uuid.UUID, version: int, **values: Any) -> RowMapping | None:
        return (
            self.session.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.version == version)
                .values(**values, version=tasks.c.version + 1)
                .returning(tasks)
            )
            .mappings()
            .first()
        )

    def _submitted_in_progress(self, condition: Any, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = self.session.execute(
            select(tasks.c.mission_id, tasks.c.id)
            .join(missions, missions.c.id == tasks.c.mission_id)
            .where(text("tasks.status = 'submitted'"), missions.c.status == "in_progress", condition)
            .order_by(tasks.c.submitted_at)
            .limit(limit)
        ).all()
        return [(r.mission_id, r.id) for r in rows]

    def awaiting_reminder(
        self, submitted_before: dt.datetime, *, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(mission_id, task_id) of submitted tasks older than the threshold whose client was not reminded."""
        return self._submitted_in_progress(
            tasks.c.reminded_at.is_(None) & (tasks.c.submitted_at <= submitted_before), limit
        )

    def due_for_auto_validation(self, now: dt.datetime, *, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return self._submitted_in_progress(tasks.c.auto_validate_at <= now, limit)

    def released(self, task_id: uuid.UUID, at: dt.datetime) -> RowMapping | None:
        return (
            self.session.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.released_at.is_(None))
                .values(released_at=at)
                .returning(tasks)
            )
            .mappings()
            .first()
        )

    def add_reminder(self, values: Mapping[str, Any]) -> bool:
        statement = (
            upsert_insert(self.session, task_reminders)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["task_id", "submission"])
            .returning(task_reminders.c.task_id)
        )
        return self.session.execute(statement).first() is not None

    def reminders_of(self, task_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(task_reminders)
                .where(task_reminders.c.task_id == task_id)
                .order_by(task_reminders.c.submission)
            )
            .mappings()
            .all()
        )


class QuotaRepository(_Repository):
    def consume(self, pro_id: uuid.UUID, month: str, limit: int | None) -> int | None:
        """Count one proposal in ``month`` if the limit allows it; returns the new count, or None if it
        does not. One atomic upsert: concurrent submissions of one pro cannot overshoot."""
        if limit is not None and limit <= 0:
            return None
        statement = upsert_insert(self.session, proposal_counters).values(pro_id=pro_id, month=month, used=1)
        statement = statement.on_conflict_do_update(
            index_elements=["pro_id", "month"],
            set_={"used": proposal_counters.c.used + 1},
            where=(proposal_counters.c.used < limit) if limit is not None else None,
        ).returning(proposal_counters.c.used)
        return self.session.execute(statement).scalar()

    def used(self, pro_id: uuid.UUID, month: str) -> int:
        return (
            self.session.execute(
                select(proposal_counters.c.used).where(
                    proposal_counters.c.pro_id == pro_id, proposal_counters.c.month == month
                )
            ).scalar()
            or 0
        )


class PlanRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> bool:
        """Keep the entitlements in force; an older event than the one we hold changes nothing."""
        statement = upsert_insert(self.session, pro_plans).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["pro_id"],
            set_={k: statement.excluded[k] for k in values if k != "pro_id"},
            where=pro_plans.c.effective_at <= statement.excluded.effective_at,
        ).returning(pro_plans.c.pro_id)
        return self.session.execute(statement).first() is not None

    def get(self, pro_id: uuid.UUID) -> RowMapping | None:
        return self.session.execute(select(pro_plans).where(pro_plans.c.pro_id == pro_id)).mappings().first()


class AccountRepository(_Repository):
    def record(self, user_id: uuid.UUID, *, suspended: bool, changed_at: dt.datetime) -> bool:
        """Keep the newest suspension state; returns False if a later change is already known."""
        statement = upsert_insert(self.session, account_states).values(
            user_id=user_id, suspended=suspended, changed_at=changed_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"suspended": suspended, "changed_at": changed_at},
            where=account_states.c.changed_at <= statement.excluded.changed_at,
        ).returning(account_states.c.user_id)
        return self.session.execute(statement).first() is not None

    def is_suspended(self, user_id: uuid.UUID) -> bool:
        return bool(
            self.session.execute(
                select(account_states.c.suspended).where(account_states.c.user_id == user_id)
            ).scalar()
        )


class PaymentNoticeRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> None:
        self.session.execute(
            upsert_insert(self.session, payment_notices)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["mission_id"])
        )

    def pending(self, mission_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(
                select(payment_notices).where(
                    payment_notices.c.mission_id == mission_id, payment_notices.c.applied_at.is_(None)
                )
            )
            .mappings()
            .first()
        )

    def mark_applied(self, mission_id: uuid.UUID, now: dt.datetime) -> None:
        self.session.execute(
            update(payment_notices).where(payment_notices.c.mission_id == mission_id).values(applied_at=now)
        )


class InvoiceRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(invoices.insert().values(**values))

    def of_mission(self, mission_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(invoices)
                .where(invoices.c.mission_id == mission_id)
                .order_by(invoices.c.uploaded_at, invoices.c.id)
            )
            .mappings()
            .all()
        )

    def get(self, mission_id: uuid.UUID, invoice_id: uuid.UUID) -> RowMapping | None:
        return (
            self.session.execute(
                select(invoices).where(invoices.c.id == invoice_id, invoices.c.mission_id == mission_id)
            )
            .mappings()
            .first()
        )


class TransitionRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> None:
        self.session.execute(transitions.insert().values(**values))

    def of_mission(self, mission_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(transitions).where(transitions.c.mission_id == mission_id).order_by(transitions.c.id)
            )
            .mappings()
            .all()
        )

    def count(self) -> int:
        return self.session.execute(select(func.count()).select_from(transitions)).scalar_one()


class IncidentRepository(_Repository):
    """Projection of trust & safety's incidents, order-proof: an opening seen after its resolution
    stays resolved."""

    def opened(
        self, incident_id: uuid.UUID, mission_id: uuid.UUID, task_ids: Sequence[str], at: dt.datetime
    ) -> None:
        statement = upsert_insert(self.session, incidents).values(
            incident_id=incident_id, mission_id=mission_id, task_ids=list(task_ids), opened_at=at
        )
        self.session.execute(
            statement.on_conflict_do_update(index_elements=["incident_id"], set_={"opened_at": at})
        )

    def resolved(
        self,
        incident_id: uuid.UUID,
        mission_id: uuid.UUID,
        task_ids: Sequence[str],
        outcome: str,
        at: dt.datetime,
    ) -> bool:
        """Record the resolution; True the first time only (its effects are applied once)."""
        statement = upsert_insert(self.session, incidents).values(
            incident_id=incident_id, mission_id=mission_id, task_ids=list(task_ids), resolved_at=at,
            outcome=outcome,
        )  # fmt: skip
        inserted = self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["incident_id"]).returning(
                incidents.c.incident_id
            )
        ).first()
        if inserted is not None:
            return True
        changed = self.session.execute(
            update(incidents)
            .where(incidents.c.incident_id == incident_id, incidents.c.resolved_at.is_(None))
            .values(resolved_at=at, outcome=outcome)
            .returning(incidents.c.incident_id)
        ).first()
        return changed is not None

    def open_of_mission(self, mission_id: uuid.UUID) -> Sequence[RowMapping]:
        query = select(incidents).where(
            incidents.c.mission_id == mission_id,
            incidents.c.opened_at.is_not(None),
            incidents.c.resolved_at.is_(None),
        )
        return self.session.execute(query.order_by(incidents.c.opened_at)).mappings().all()
