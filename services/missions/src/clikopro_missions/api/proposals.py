"""Operation handlers of proposals: parse, call the use case, answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_missions.api.common import caller
from clikopro_missions.domain.proposals import PlannedTask, Terms
from clikopro_missions.service_layer import proposals


@idempotent
def submit_proposal(mission_id: str, body: dict[str, Any]) -> flask.Response:
    svc = services()
    terms = Terms(
        amount_cents=body["amount_cents"],
        payment_mode=body["payment_mode"],
        message=body["message"],
        tasks=tuple(
            PlannedTask(
                title=t["title"],
                amount_cents=t["amount_cents"],
                due_date=dt.date.fromisoformat(t["due_date"]),
            )
            for t in body["tasks"]
        ),
    )
    proposal = proposals.submit(
        svc.uow(), caller(), uuid.UUID(mission_id), terms, now=svc.now, settings=svc.settings
    )
    return created(proposal, location=f"/api/v1/proposals/{proposal['id']}")


def list_proposals(mission_id: str, limit: int = 20, cursor: str | None = None) -> flask.Response:
    return ok(
        proposals.of_mission(services().uow(), caller(), uuid.UUID(mission_id), limit=limit, cursor=cursor)
    )


def get_proposal(proposal_id: str) -> flask.Response:
    return ok(proposals.get(services().uow(), caller(), uuid.UUID(proposal_id)))


@idempotent
def accept_proposal(proposal_id: str) -> flask.Response:
    svc = services()
    return ok(proposals.accept(svc.uow(), caller(), uuid.UUID(proposal_id), now=svc.now))


@idempotent
def withdraw_proposal(proposal_id: str) -> flask.Response:
    svc = services()
    return ok(proposals.withdraw(svc.uow(), caller(), uuid.UUID(proposal_id), now=svc.now))
