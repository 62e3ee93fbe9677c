"""Publishing, browsing, reading and cancelling missions (R5)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from clikopro_chassis.errors import Conflict, NotFound, ValidationFailed, field_error
from clikopro_missions.domain.contact import contact_allowed, guard
from clikopro_missions.domain.lifecycle import CLIENT, MISSION, NEW, OTHER, PRO, PROPOSAL, STAFF, SYSTEM
from clikopro_missions.domain.missions import MissionDraft, check_draft
from clikopro_missions.domain.places import department_of
from clikopro_missions.domain.quota import paris_today
from clikopro_missions.service_layer import views
from clikopro_missions.service_layer.common import (
    SYSTEM_CALLER,
    Caller,
    canceller,
    decode_cursor,
    ensure_not_suspended,
    page,
    record_transition,
)
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork

Clock = Callable[[], dt.datetime]
#: The title column's length (a mask may be longer than what it hides).
TITLE_LENGTH = 200


def publish(uow: MissionsUnitOfWork, caller: Caller, draft: MissionDraft, *, now: Clock) -> dict[str, Any]:
    at = now()
    actor = CLIENT if caller.role == "client" else OTHER
    status = MISSION.decide(NEW, "publish", actor, hint="Only a client publishes missions.")
    check_draft(draft, today=paris_today(at))
    # R19: what the public reads is masked before it is stored; the event says what was masked.
    title = guard(draft.title.strip(), max_length=TITLE_LENGTH)
    description = guard(draft.description.strip())
    with uow:
        ensure_not_suspended(uow, caller)
        row = {
            "id": uuid.uuid4(),
            "client_id": caller.user_id,
            "title": title.text,
            "description": description.text,
            "trade": draft.trade,
            "postcode": draft.postcode,
            "department": department_of(draft.postcode),
            "budget_cents": draft.budget_cents,
            "currency": "EUR",
            "wished_start": draft.wished_start,
            "status": status,
            "pro_id": None,
            "hidden": False,
            "published_at": at,
            "updated_at": at,
            "version": 1,
        }
        uow.missions.add(row)
        if draft.address is not None:
            uow.addresses.add(
                {
                    "mission_id": row["id"],
                    "street": draft.address.street.strip(),
                    "city": draft.address.city.strip(),
                    "details": (draft.address.details or "").strip() or None,
                }
            )
        record_transition(
            uow, mission_id=row["id"], entity="mission", entity_id=row["id"], command="publish",
            from_state=None, to_state=status, actor=actor, caller=caller, now=at,
        )  # fmt: skip
        uow.publish(
            "MissionPublished",
            {
                "mission_id": row["id"],
                "client_id": row["client_id"],
                "title": row["title"],
                "trade": row["trade"],
                "postcode": row["postcode"],
                "budget_cents": row["budget_cents"],
                "currency": "EUR",
                "wished_start": row["wished_start"],
                "published_at": at,
                "masked_contacts": title.kinds + description.kinds,
            },
        )
        uow.commit()
    return views.mission(row)


def can_see(mission: Mapping[str, Any], relation: str, caller: Caller) -> bool:
    """Parties and staff see a mission; pros also see what is open to proposals; nobody else."""
    if relation in {CLIENT, PRO, STAFF}:
        return True
    browsable = mission["status"] == "published" and not mission["hidden"]
    return browsable and caller.role == "pro"


def visible_mission(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> tuple[Any, str]:
    """The mission and the caller's relation to it; 404 for what the caller may not see."""
    mission = uow.missions.get(mission_id)
    if mission is None:
        raise NotFound("No such mission.")
    relation = caller.relation(client_id=mission["client_id"], pro_id=mission["pro_id"])
    if not can_see(mission, relation, caller):
        raise NotFound("No such mission.")
    return mission, relation


def get(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        mission, relation = visible_mission(uow, caller, mission_id)
        if relation not in {CLIENT, PRO, STAFF}:
            return views.mission(mission)
        contract = uow.contracts.get(mission_id)
        open_ids = [i["incident_id"] for i in uow.incidents.open_of_mission(mission_id)]
        body = views.mission(mission, contract, open_ids)
        if relation in {CLIENT, PRO} and contract is not None:
            body |= contact_between_parties(uow, mission, contract, relation)
        return body


def contact_between_parties(
    uow: MissionsUnitOfWork, mission: Mapping[str, Any], contract: Mapping[str, Any], relation: str
) -> dict[str, Any]:
    """The other party's contact details and the intervention address, for a party of a contract that
    allows contact (domain.contact); nothing otherwise (the keys are then absent)."""
    if not contact_allowed(status=mission["status"], payment_mode=contract["payment_mode"]):
        return {}
    other = contract["pro_id"] if relation == CLIENT else contract["client_id"]
    return {
        "counterpart_contact": views.contact(other, uow.contacts.get(other)),
        "intervention_address": views.address(mission, uow.addresses.get(mission["id"])),
    }


def history(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every transition of the mission, its proposals and tasks: parties and staff only."""
    with uow:
        _, relation = visible_mission(uow, caller, mission_id)
        if relation not in {CLIENT, PRO, STAFF}:
            raise NotFound("No such mission.")
        rows = uow.transitions.of_mission(mission_id)
        if relation in (CLIENT, STAFF):
            return [views.transition(r) for r in rows]
        # The contracted pro does not see the other pros' proposals.
        own = {
            p["id"] for p in uow.proposals.of_mission(mission_id, pro_id=caller.user_id, include_hidden=True)
        }
        return [views.transition(r) for r in rows if r["entity"] != "proposal" or r["entity_id"] in own]


def browse(
    uow: MissionsUnitOfWork,
    caller: Caller,
    *,
    limit: int,
    cursor: str | None,
    trade: str | None = None,
    postcode: str | None = None,
    department: str | None = None,
    status: str | None = None,
    mine: bool = False,
) -> dict[str, Any]:
    """What each caller lists: a client their own missions; a pro the published missions (or, with
    ``mine``, the ones contracted with them); staff everything."""
    after = decode_cursor(cursor)
    filters: dict[str, Any] = {"trade": trade, "postcode": postcode, "department": department}
    if caller.role == "client":
        filters |= {"client_id": caller.user_id, "status": status}
    elif caller.role == "pro" and mine:
        filters |= {"pro_id": caller.user_id, "status": status}
    elif caller.role == "pro":
        if status not in (None, "published"):
            raise ValidationFailed(
                errors=[field_error("status", "pros browse published missions; use mine=true for yours")]
            )
        filters["browsable_only"] = True
    else:
        filters["status"] = status
    with uow:
        rows = list(uow.missions.browse(limit=limit + 1, after=after, **filters))
    items, next_cursor = page(rows, limit, lambda r: (r["published_at"], r["id"]))
    return {"items": [views.mission(r) for r in items], "next_cursor": next_cursor}


def cancel(
    uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID, reason: str | None, *, now: Clock
) -> dict[str, Any]:
    with uow:
        ensure_not_suspended(uow, caller)
        mission = uow.missions.get(mission_id, lock="update")
        if mission is None:
            raise NotFound("No such mission.")
        actor = caller.relation(client_id=mission["client_id"], pro_id=mission["pro_id"])
        if actor == PRO:  # a contracted pro, like anyone but the client, goes through an incident
            actor = OTHER
        hint = (
            "After the contract, a mission is cancelled through an incident (trust & safety)."
            if actor == CLIENT
            else None
        )
        status = MISSION.decide(mission["status"], "cancel", actor, hint=hint)
        if actor == STAFF and not (reason or "").strip():
            # A moderator's cancellation is on the record with its why (audit: who, when, what, why).
            raise ValidationFailed(errors=[field_error("reason", "is required when staff cancel a mission")])
        at = now()
        changed = uow.missions.change(mission_id, mission["version"], status=status, updated_at=at)
        if changed is None:
            raise_changed()
        record_transition(
            uow, mission_id=mission_id, entity="mission", entity_id=mission_id, command="cancel",
            from_state=mission["status"], to_state=status, actor=actor, caller=caller, now=at, reason=reason,
        )  # fmt: skip
        contract = uow.contracts.get(mission_id)
        uow.publish(
            "MissionCancelled",
            {
                "mission_id": mission_id,
                "client_id": mission["client_id"],
                "pro_id": contract["pro_id"] if contract else None,
                "payment_mode": contract["payment_mode"] if contract else None,
                "previous_status": mission["status"],
                "cancelled_by": canceller(actor),
                "reason": reason,
                "cancelled_at": at,
            },
        )
        reject_live_proposals(uow, mission_id, at, reason="mission_cancelled")
        uow.commit()
    return views.mission(changed)


def reject_live_proposals(
    uow: MissionsUnitOfWork,
    mission_id: uuid.UUID,
    at: dt.datetime,
    *,
    reason: str,
    keep: uuid.UUID | None = None,
) -> int:
    to_state = PROPOSAL.decide("submitted", "reject", SYSTEM)
    rejected = uow.proposals.reject_live(mission_id, at, keep=keep)
    for row in rejected:
        record_transition(
            uow, mission_id=mission_id, entity="proposal", entity_id=row["id"], command="reject",
            from_state="submitted", to_state=to_state, actor=SYSTEM, caller=SYSTEM_CALLER, now=at,
            reason=reason,
        )  # fmt: skip
        uow.publish(
            "ProposalRejected",
            {
                "proposal_id": row["id"],
                "mission_id": mission_id,
                "pro_id": row["pro_id"],
                "reason": reason,
                "rejected_at": at,
            },
        )
    return len(rejected)


def raise_changed() -> None:
    raise Conflict("The mission changed meanwhile; read it again.")
