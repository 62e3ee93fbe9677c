"""Operation handlers of a mission's tasks and invoices."""

from __future__ import annotations

import uuid
from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_missions.api.common import caller
from clikopro_missions.service_layer import invoices, tasks


def list_tasks(mission_id: str) -> flask.Response:
    return ok(tasks.of_mission(services().uow(), caller(), uuid.UUID(mission_id)))


@idempotent
def submit_task(mission_id: str, task_id: str) -> flask.Response:
    svc = services()
    return ok(
        tasks.submit(
            svc.uow(), caller(), uuid.UUID(mission_id), uuid.UUID(task_id), now=svc.now, settings=svc.settings
        )
    )


@idempotent
def validate_task(mission_id: str, task_id: str) -> flask.Response:
    svc = services()
    return ok(tasks.validate(svc.uow(), caller(), uuid.UUID(mission_id), uuid.UUID(task_id), now=svc.now))


@idempotent
def contest_task(mission_id: str, task_id: str, body: dict[str, Any]) -> flask.Response:
    svc = services()
    return ok(
        tasks.contest(
            svc.uow(), caller(), uuid.UUID(mission_id), uuid.UUID(task_id), body["reason"], now=svc.now
        )
    )


def upload_invoice(mission_id: str, file: Any = None) -> flask.Response:
    svc = services()
    upload = file if file is not None else flask.request.files.get("file")
    data = upload.read() if upload is not None else b""
    declared = upload.mimetype if upload is not None else None
    invoice = invoices.upload(
        svc.uow(),
        caller(),
        uuid.UUID(mission_id),
        data,
        declared,
        storage=svc.storage,
        max_bytes=svc.settings.invoice_max_bytes,
        now=svc.now,
    )
    return created(invoice, location=invoice["download_path"])


def list_invoices(mission_id: str) -> flask.Response:
    return ok(invoices.of_mission(services().uow(), caller(), uuid.UUID(mission_id)))


def download_invoice(mission_id: str, invoice_id: str) -> flask.Response:
    svc = services()
    data, name = invoices.download(
        svc.uow(), caller(), uuid.UUID(mission_id), uuid.UUID(invoice_id), storage=svc.storage
    )
    return flask.Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
