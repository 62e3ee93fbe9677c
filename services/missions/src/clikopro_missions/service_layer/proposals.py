"""Proposals (R6) and the contract that accepting one concludes (R7)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from clikopro_chassis.errors import Conflict, NotFound
from clikopro_contracts import format_time
from clikopro_missions.domain.contact import guard
from clikopro_missions.domain.lifecycle import CLIENT, MISSION, NEW, OTHER, PRO, PROPOSAL, STAFF, SYSTEM
from clikopro_missions.domain.proposals import Terms, check_terms, positions
from clikopro_missions.domain.quota import limit_for, month_of, paris_today
from clikopro_missions.service_layer import views
from clikopro_missions.service_layer.common import (
    SYSTEM_CALLER,
    Caller,
    PlanRequired,
    ProposalQuotaExceeded,
    decode_cursor,
    ensure_not_suspended,
    page,
    record_transition,
)
from clikopro_missions.service_layer.missions import (
    TITLE_LENGTH,
    contact_between_parties,
    reject_live_proposals,
)
from clikopro_missions.service_layer.payments import apply_pending_payment
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork
from clikopro_missions.settings import MissionsSettings

Clock = Callable[[], dt.datetime]


def submit(
    uow: MissionsUnitOfWork,
    caller: Caller,
    mission_id: uuid.UUID,
    terms: Terms,
    *,
    now: Clock,
    settings: MissionsSettings,
) -> dict[str, Any]:
    at = now()
    actor = PRO if caller.role == "pro" else OTHER
    status = PROPOSAL.decide(NEW, "submit", actor, hint="Only a professional submits proposals.")
    check_terms(terms, today=paris_today(at))
    assert caller.user_id is not None
    # R19: no contract binds the pro and the client yet: the message and the task titles are masked.
    message = guard(terms.message.strip())
    titles = [
        (position, t, guard(t.title.strip(), max_length=TITLE_LENGTH))
        for position, t in positions(terms.tasks)
    ]
    with uow:
        ensure_not_suspended(uow, caller)
        # FOR SHARE: an accept (which updates the row) cannot slip between this check and the insert.
        mission = uow.missions.get(mission_id, lock="share")
        if mission is None or mission["hidden"]:
            raise NotFound("No such mission.")
        if mission["status"] != "published":
            raise Conflict(f"The mission is {mission['status']}: it takes no more proposals.")
        plan = uow.plans.get(caller.user_id)
        if terms.payment_mode == "direct" and (plan is None or "direct_payment" not in plan["features"]):
            raise PlanRequired("Paiement Direct is for paid plans.", feature="direct_payment")
        if uow.proposals.live_of(mission_id, caller.user_id) is not None:
            raise Conflict("You already have a live proposal on this mission: withdraw it first.")
        month = month_of(at)
        limit = limit_for(
            plan["proposals_per_month"] if plan else None,
            known_plan=plan is not None,
            free_default=settings.free_plan_proposals_per_month,
        )
        if uow.quota.consume(caller.user_id, month.key, limit) is None:
            retry_after = max(1, math.ceil((month.resets_at - at).total_seconds()))
            raise ProposalQuotaExceeded(
                f"Your plan allows {limit} proposals per calendar month.",
                limit=limit,
                resets_at=format_time(month.resets_at),
                headers={"Retry-After": str(retry_after)},
            )
        row = {
            "id": uuid.uuid4(),
            "mission_id": mission_id,
            "pro_id": caller.user_id,
            "amount_cents": terms.amount_cents,
            "currency": "EUR",
            "payment_mode": terms.payment_mode,
            "message": message.text,
            "status": status,
            "hidden": False,
            "submitted_at": at,
            "decided_at": None,
        }
        planned = [
            {
                "position": position,
                "title": title.text,
                "amount_cents": t.amount_cents,
                "due_date": t.due_date,
            }
            for position, t, title in titles
        ]
        try:
            uow.proposals.add(row, planned)
        except IntegrityError:  # a copy of this submission won the unique index on live proposals
            raise Conflict("You already have a live proposal on this mission: withdraw it first.")
        record_transition(
            uow, mission_id=mission_id, entity="proposal", entity_id=row["id"], command="submit",
            from_state=None, to_state=status, actor=actor, caller=caller, now=at,
        )  # fmt: skip
        uow.publish(
            "ProposalSubmitted",
            {
                "proposal_id": row["id"],
                "mission_id": mission_id,
                "pro_id": caller.user_id,
                "client_id": mission["client_id"],
                "amount_cents": terms.amount_cents,
                "currency": "EUR",
                "payment_mode": terms.payment_mode,
                "task_count": len(planned),
                "submitted_at": at,
                "masked_contacts": message.kinds + [k for _, _, title in titles for k in title.kinds],
            },
        )
        uow.commit()
    return views.proposal(row, planned)


def _visible_proposal(
    uow: MissionsUnitOfWork, caller: Caller, proposal_id: uuid.UUID
) -> tuple[Any, Any, str]:
    proposal = uow.proposals.get(proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    mission = uow.missions.get(proposal["mission_id"])
    relation = caller.relation(client_id=mission["client_id"], pro_id=proposal["pro_id"])
    if relation not in {CLIENT, PRO, STAFF} or (relation == CLIENT and proposal["hidden"]):
        raise NotFound("No such proposal.")
    return proposal, mission, relation


def get(uow: MissionsUnitOfWork, caller: Caller, proposal_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        proposal, _, _ = _visible_proposal(uow, caller, proposal_id)
        return views.proposal(proposal, uow.proposals.tasks_of([proposal_id])[proposal_id])


def of_mission(
    uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The mission's client (and staff) see every proposal but a suspended pro's; a pro sees their own."""
    after = decode_cursor(cursor)
    with uow:
        mission = uow.missions.get(mission_id)
        if mission is None:
            raise NotFound("No such mission.")
        relation = caller.relation(client_id=mission["client_id"], pro_id=None)
        if relation in {CLIENT, STAFF}:
            rows = uow.proposals.of_mission(mission_id, include_hidden=relation == STAFF)
        elif caller.role == "pro":
            rows = uow.proposals.of_mission(mission_id, pro_id=caller.user_id, include_hidden=True)
        else:
            raise NotFound("No such mission.")
        if after is not None:
            rows = [r for r in rows if (r["submitted_at"], r["id"]) > after]
        rows = list(rows[: limit + 1])
        items, next_cursor = page(rows, limit, lambda r: (r["submitted_at"], r["id"]))
        planned = uow.proposals.tasks_of([r["id"] for r in items])
        return {"items": [views.proposal(r, planned[r["id"]]) for r in items], "next_cursor": next_cursor}


def accept(uow: MissionsUnitOfWork, caller: Caller, proposal_id: uuid.UUID, *, now: Clock) -> dict[str, Any]:
    """Conclude the contract: exactly one accept wins per mission, however many race."""
    with uow:
        ensure_not_suspended(uow, caller)
        proposal = uow.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound("No such proposal.")
        mission = uow.missions.get(proposal["mission_id"])
        mission_id = mission["id"]
        actor = caller.relation(client_id=mission["client_id"], pro_id=None)
        PROPOSAL.decide(proposal["status"], "accept", actor)
        contracted = MISSION.decide(mission["status"], "accept", actor)
        if proposal["hidden"]:
            raise Conflict("The professional's account is suspended: this proposal cannot be accepted.")
        mode = proposal["payment_mode"]
        running = MISSION.decide(contracted, "await_payment" if mode == "secure" else "start", SYSTEM)
        at = now()
        # The optimistic lock: of racing accepts, the first to update the row wins; the others find a
        # newer version (PostgreSQL re-reads the row once the winner commits) and get a conflict.
        changed = uow.missions.change(
            mission_id, mission["version"], status=running, pro_id=proposal["pro_id"], updated_at=at
        )
        if changed is None:
            raise Conflict("The mission changed meanwhile (another proposal was accepted?).")
        if not uow.proposals.move(proposal_id, "submitted", "accepted", at):
            raise Conflict("The proposal changed meanwhile (withdrawn?).")
        planned = uow.proposals.tasks_of([proposal_id])[proposal_id]
        task_rows = [
            {
                "id": uuid.uuid4(),
                "mission_id": mission_id,
                "position": t["position"],
                "title": t["title"],
                "amount_cents": t["amount_cents"],
                "due_date": t["due_date"],
                "status": "pending",
                "submissions": 0,
                "version": 1,
            }
            for t in planned
        ]
        uow.tasks.add_many(task_rows)
        contract_tasks = [
            {
                "task_id": str(t["id"]),
                "title": t["title"],
                "amount_cents": t["amount_cents"],
                "due_date": t["due_date"].isoformat(),
                "position": t["position"],
            }
            for t in task_rows
        ]
        contract = {
            "mission_id": mission_id,
            "proposal_id": proposal_id,
            "client_id": mission["client_id"],
            "pro_id": proposal["pro_id"],
            "payment_mode": mode,
            "amount_cents": proposal["amount_cents"],
            "currency": proposal["currency"],
            "terms": {
                "message": proposal["message"],
                "amount_cents": proposal["amount_cents"],
                "currency": proposal["currency"],
                "payment_mode": mode,
                "submitted_at": format_time(proposal["submitted_at"]),
                "tasks": contract_tasks,
            },
            "accepted_at": at,
        }
        uow.contracts.add(contract)
        trail = [
            ("proposal", proposal_id, "accept", "submitted", "accepted", actor),
            ("mission", mission_id, "accept", mission["status"], contracted, actor),
            (
                "mission",
                mission_id,
                "await_payment" if mode == "secure" else "start",
                contracted,
                running,
                SYSTEM,
            ),
        ]
        for entity, entity_id, command, before, after, who in trail:
            record_transition(
                uow, mission_id=mission_id, entity=entity, entity_id=entity_id, command=command,
                from_state=before, to_state=after, actor=who, now=at,
                caller=caller if who != SYSTEM else SYSTEM_CALLER,
            )  # fmt: skip
        uow.publish(
            "ProposalAccepted",
            {
                "mission_id": mission_id,
                "proposal_id": proposal_id,
                "client_id": mission["client_id"],
                "pro_id": proposal["pro_id"],
                "payment_mode": mode,
                "amount_cents": proposal["amount_cents"],
                "currency": "EUR",
                "tasks": contract_tasks,
                "accepted_at": at,
            },
        )
        reject_live_proposals(uow, mission_id, at, reason="other_proposal_accepted", keep=proposal_id)
        if running == "awaiting_payment":
            # PaymentSecured may have arrived first (events are not ordered across producers).
            changed = apply_pending_payment(uow, changed, at) or changed
        uow.commit()
        # Paiement Direct: the contract allows contact from now on, the client sees the pro's details.
        return views.mission(changed, contract) | contact_between_parties(uow, changed, contract, CLIENT)


def withdraw(
    uow: MissionsUnitOfWork, caller: Caller, proposal_id: uuid.UUID, *, now: Clock
) -> dict[str, Any]:
    with uow:
        proposal = uow.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound("No such proposal.")
        mission = uow.missions.get(proposal["mission_id"])
        actor = caller.relation(client_id=mission["client_id"], pro_id=proposal["pro_id"])
        status = PROPOSAL.decide(proposal["status"], "withdraw", actor)
        at = now()
        if not uow.proposals.move(proposal_id, "submitted", status, at):
            raise Conflict("The proposal changed meanwhile (accepted?).")
        record_transition(
            uow, mission_id=mission["id"], entity="proposal", entity_id=proposal_id, command="withdraw",
            from_state=proposal["status"], to_state=status, actor=actor, caller=caller, now=at,
        )  # fmt: skip
        uow.commit()
        updated = uow.proposals.get(proposal_id)
        return views.proposal(updated, uow.proposals.tasks_of([proposal_id])[proposal_id])
