"""Operation handlers of /api/v1/incidents: parse, call the use case, answer."""

from __future__ import annotations

import uuid
from typing import Any

import flask

from clikopro_chassis.errors import ValidationFailed, field_error
from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_trust_safety.api.common import caller
from clikopro_trust_safety.service_layer import incidents
from clikopro_trust_safety.service_layer.incidents import Upload

#: Form field names of the files: ``attachments[]`` (API.md) or ``attachments``.
ATTACHMENT_FIELDS = ("attachments[]", "attachments")


@idempotent
def open_incident(body: dict[str, Any]) -> flask.Response:
    svc = services()
    incident = incidents.open_incident(
        svc.uow(),
        caller(),
        mission_id=uuid.UUID(body["mission_id"]),
        category=body["category"],
        description=body["description"],
        task_ids=body.get("task_ids") or [],
        now=svc.now,
        settings=svc.settings,
    )
    return created(incident, location=f"/api/v1/incidents/{incident['id']}")


def get_incident(incident_id: str) -> flask.Response:
    svc = services()
    return ok(incidents.get(svc.uow(), caller(), uuid.UUID(incident_id), now=svc.now, settings=svc.settings))


def list_incidents(
    mission_id: str | None = None, limit: int = 20, cursor: str | None = None
) -> flask.Response:
    svc = services()
    return ok(
        incidents.list_incidents(
            svc.uow(),
            caller(),
            mission_id=uuid.UUID(mission_id) if mission_id else None,
            limit=limit,
            cursor=cursor,
            now=svc.now,
            settings=svc.settings,
        )
    )


def _message_parts() -> tuple[str, list[Upload]]:
    """The body and files of a JSON or multipart message (connexion has checked the JSON shape)."""
    request = flask.request
    if request.mimetype == "multipart/form-data":
        body = request.form.get("body")
        if body is None:
            raise ValidationFailed(errors=[field_error("body", "is required")])
        uploads = []
        for name in ATTACHMENT_FIELDS:
            for index, file in enumerate(request.files.getlist(name)):
                uploads.append(Upload(f"attachments[{index}]", file.read()))
        return body, uploads
    payload = request.get_json(silent=True) or {}
    return payload.get("body", ""), []


@idempotent
def post_message(incident_id: str, body: Any = None) -> flask.Response:
    svc = services()
    text, uploads = _message_parts()
    message = incidents.post_message(
        svc.uow(),
        caller(),
        uuid.UUID(incident_id),
        text,
        uploads,
        storage=svc.storage,
        now=svc.now,
        settings=svc.settings,
    )
    return created(message, location=f"/api/v1/incidents/{incident_id}/messages")


def list_messages(incident_id: str, limit: int = 20, cursor: str | None = None) -> flask.Response:
    return ok(
        incidents.list_messages(
            services().uow(), caller(), uuid.UUID(incident_id), limit=limit, cursor=cursor
        )
    )


def download_attachment(incident_id: str, attachment_id: str) -> flask.Response:
    svc = services()
    data, view = incidents.download_attachment(
        svc.uow(),
        caller(),
        uuid.UUID(incident_id),
        uuid.UUID(attachment_id),
        storage=svc.storage,
        now=svc.now,
    )
    return flask.Response(
        data,
        mimetype=view["content_type"],
        headers={
            "Content-Disposition": f'attachment; filename="{view["file_name"]}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
