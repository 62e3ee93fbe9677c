"""Internal routes (not routed by the gateway; for the internal network only)."""

from __future__ import annotations

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.responses import ok
from clikopro_identity.bootstrap import Services


def list_suspensions() -> flask.Response:
    """The suspensions in force, so that a (re)started gateway refuses the right accounts at once."""
    svc: Services = services()
    now = svc.now()
    with svc.uow() as uow:
        items = [
            {"user_id": s.user_id, "since": s.changed_at, "until": s.until}
            for s in uow.suspensions.in_force(now)
        ]
    return ok({"items": items, "as_of": now})
