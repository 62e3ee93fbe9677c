"""Operation handlers of /api/v1/auth: parse, call the use case, answer."""

from __future__ import annotations

from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created
from clikopro_identity.service_layer.registration import Registration, register

PRO_FIELDS = ("company_name", "siret", "insurance", "trades", "postcode")


@idempotent
def register_user(body: dict[str, Any]) -> flask.Response:
    svc = services()
    command = Registration(
        role=body["role"],
        email=body["email"],
        password=body["password"],
        first_name=body["first_name"],
        last_name=body["last_name"],
        phone=body["phone"],
        profile={k: body[k] for k in PRO_FIELDS if k in body},
    )
    user = register(svc.uow(), command, now=svc.now, password_min_length=svc.settings.password_min_length)
    return created(
        {
            "id": user.id,
            "role": user.role,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "status": user.status,
            "created_at": user.created_at,
        }
    )
