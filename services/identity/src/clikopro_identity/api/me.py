"""Operation handlers of /api/v1/me: the caller's own account."""

from __future__ import annotations

from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.responses import ok
from clikopro_chassis.web.security import principal
from clikopro_identity.bootstrap import Services
from clikopro_identity.service_layer.profile import (
    CONTACT_FIELDS,
    change_contact_details,
    get_user,
    user_view,
)


def get_me() -> flask.Response:
    svc: Services = services()
    return ok(user_view(get_user(svc.uow(), principal().user_id)))


def update_me(body: dict[str, Any]) -> flask.Response:
    svc: Services = services()
    user = change_contact_details(
        svc.uow(),
        principal().user_id,
        {k: body[k] for k in CONTACT_FIELDS if k in body},
        current_password=body.get("current_password"),
        hasher=svc.hasher,
        now=svc.now(),
    )
    return ok(user_view(user))
