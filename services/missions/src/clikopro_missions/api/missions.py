"""Operation handlers of /api/v1/missions: parse, call the use case, answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_missions.api.common import caller
from clikopro_missions.domain.missions import InterventionAddress, MissionDraft
from clikopro_missions.service_layer import missions


@idempotent
def create_mission(body: dict[str, Any]) -> flask.Response:
    svc = services()
    wished = body.get("wished_start")
    address = body.get("address")
    draft = MissionDraft(
        title=body["title"],
        description=body["description"],
        trade=body["trade"],
        postcode=body["postcode"],
        budget_cents=body.get("budget_cents"),
        wished_start=dt.date.fromisoformat(wished) if wished else None,
        address=InterventionAddress(address["street"], address["city"], address.get("details"))
        if address
        else None,
    )
    mission = missions.publish(svc.uow(), caller(), draft, now=svc.now)
    return created(mission, location=f"/api/v1/missions/{mission['id']}")


def list_missions(
    limit: int = 20,
    cursor: str | None = None,
    trade: str | None = None,
    postcode: str | None = None,
    department: str | None = None,
    status: str | None = None,
    mine: bool = False,
) -> flask.Response:
    return ok(
        missions.browse(
            services().uow(),
            caller(),
            limit=limit,
            cursor=cursor,
            trade=trade,
            postcode=postcode,
            department=department,
            status=status,
            mine=mine,
        )
    )


def get_mission(mission_id: str) -> flask.Response:
    return ok(missions.get(services().uow(), caller(), uuid.UUID(mission_id)))


def mission_history(mission_id: str) -> flask.Response:
    items = missions.history(services().uow(), caller(), uuid.UUID(mission_id))
    return ok({"items": items, "next_cursor": None})


@idempotent
def cancel_mission(mission_id: str, body: Any = None) -> flask.Response:
    svc = services()
    # Without a JSON body (no content type), connexion hands over the raw bytes: no reason given.
    reason = body.get("reason") if isinstance(body, dict) else None
    return ok(missions.cancel(svc.uow(), caller(), uuid.UUID(mission_id), reason, now=svc.now))
