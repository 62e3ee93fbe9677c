"""Operation handlers of /api/v1/moderation/incidents (moderators and admins)."""

from __future__ import annotations

import uuid
from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import ok
from clikopro_trust_safety.api.common import caller
from clikopro_trust_safety.service_layer import moderation


def incident_queue(status: str | None = "open", limit: int = 20, cursor: str | None = None) -> flask.Response:
    svc = services()
    return ok(
        moderation.queue(
            svc.uow(), caller(), status=status, limit=limit, cursor=cursor, now=svc.now, settings=svc.settings
        )
    )


@idempotent
def resolve_incident(incident_id: str, body: dict[str, Any]) -> flask.Response:
    svc = services()
    return ok(
        moderation.resolve(
            svc.uow(),
            caller(),
            uuid.UUID(incident_id),
            outcome=body["outcome"],
            amount_cents=body.get("amount_cents"),
            task_ids=body.get("task_ids"),
            reason=body["reason"],
            now=svc.now,
            settings=svc.settings,
        )
    )


def incident_audit(incident_id: str) -> flask.Response:
    return ok(moderation.audit_trail(services().uow(), caller(), uuid.UUID(incident_id)))
