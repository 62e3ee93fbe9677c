"""Invoices (R9): the contracted pro attaches PDFs to the mission, for tracking only."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from clikopro_chassis.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from clikopro_missions.adapters.storage import InvoiceStorage
from clikopro_missions.domain.lifecycle import CLIENT, CONTRACTED_STATES, PRO, STAFF
from clikopro_missions.service_layer import views
from clikopro_missions.service_layer.common import Caller, ensure_not_suspended
from clikopro_missions.service_layer.missions import visible_mission
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
PDF_TYPES = ("application/pdf",)


def check_pdf(data: bytes, declared_type: str | None, *, max_bytes: int) -> None:
    errors = []
    media_type = (declared_type or "").split(";")[0].strip().lower()
    if media_type not in PDF_TYPES:
        errors.append(
            field_error("file", f"must be declared as application/pdf, not {media_type or 'nothing'}")
        )
    if not data:
        errors.append(field_error("file", "is empty"))
    elif len(data) > max_bytes:
        errors.append(field_error("file", f"must be at most {max_bytes} bytes"))
    elif not data.startswith(PDF_MAGIC):
        errors.append(field_error("file", "is not a PDF document"))
    if errors:
        raise ValidationFailed("The invoice is not an acceptable PDF.", errors=errors)


def upload(
    uow: MissionsUnitOfWork,
    caller: Caller,
    mission_id: uuid.UUID,
    data: bytes,
    declared_type: str | None,
    *,
    storage: InvoiceStorage,
    max_bytes: int,
    now: Callable[[], dt.datetime],
) -> dict[str, Any]:
    with uow:
        ensure_not_suspended(uow, caller)
        mission = uow.missions.get(mission_id)
        if mission is None:
            raise NotFound("No such mission.")
        if caller.relation(client_id=mission["client_id"], pro_id=mission["pro_id"]) != PRO:
            raise Forbidden("Only the contracted professional attaches invoices.")
        if mission["status"] not in CONTRACTED_STATES:
            raise Conflict(f"The mission is {mission['status']}: it has no contract to invoice.")
        check_pdf(data, declared_type, max_bytes=max_bytes)
        invoice_id = uuid.uuid4()
        row = {
            "id": invoice_id,
            "mission_id": mission_id,
            "pro_id": caller.user_id,
            # Our name, never the uploader's: no path tricks, no personal data in file names.
            "storage_key": f"{mission_id}/{invoice_id}.pdf",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "uploaded_at": now(),
        }
        storage.save(row["storage_key"], data)
        try:
            uow.invoices.add(row)
            uow.commit()
        except BaseException:
            storage.delete(row["storage_key"])  # no file without its row
            raise
    log.info("invoice %s (%d bytes) attached to mission %s", invoice_id, len(data), mission_id)
    return views.invoice(row)


def _party(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> None:
    _, relation = visible_mission(uow, caller, mission_id)
    if relation not in {CLIENT, PRO, STAFF}:
        raise NotFound("No such mission.")


def of_mission(uow: MissionsUnitOfWork, caller: Caller, mission_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        _party(uow, caller, mission_id)
        return {"items": [views.invoice(r) for r in uow.invoices.of_mission(mission_id)], "next_cursor": None}


def download(
    uow: MissionsUnitOfWork,
    caller: Caller,
    mission_id: uuid.UUID,
    invoice_id: uuid.UUID,
    *,
    storage: InvoiceStorage,
) -> tuple[bytes, str]:
    with uow:
        _party(uow, caller, mission_id)
        row = uow.invoices.get(mission_id, invoice_id)
        if row is None:
            raise NotFound("No such invoice.")
    return storage.read(row["storage_key"]), views.invoice(row)["file_name"]
