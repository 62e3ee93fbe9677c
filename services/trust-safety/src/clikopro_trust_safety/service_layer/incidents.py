"""Incidents (R18) as the parties live them: declare one, read it, write in its thread with attachments."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clikopro_chassis.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from clikopro_trust_safety.adapters.storage import AttachmentStorage
from clikopro_trust_safety.domain import incidents as rules
from clikopro_trust_safety.domain.attachments import EXTENSIONS, recognise
from clikopro_trust_safety.service_layer import views
from clikopro_trust_safety.service_layer.common import Caller, audit, decode_cursor, page
from clikopro_trust_safety.service_layer.unit_of_work import TrustSafetyUnitOfWork
from clikopro_trust_safety.settings import TrustSafetySettings

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Upload:
    """A file as received: its bytes and the field it came in (for the error messages)."""

    field: str
    data: bytes


def _party_or_staff(caller: Caller, row: Mapping[str, Any]) -> str:
    """The caller's relation to an incident or mission; 404 for anyone else (nothing leaks)."""
    who = rules.relation(caller.user_id, caller.role, client_id=row["client_id"], pro_id=row["pro_id"])
    if who == rules.OTHER:
        raise NotFound("No such incident." if "opened_at" in row else "No such mission.")
    return who


def visible_incident(uow: TrustSafetyUnitOfWork, caller: Caller, incident_id: uuid.UUID) -> tuple[Any, str]:
    row = uow.incidents.get(incident_id)
    if row is None:
        raise NotFound("No such incident.")
    return row, _party_or_staff(caller, row)


def check_task_ids(
    task_ids: Sequence[str | uuid.UUID], tasks: Sequence[Mapping[str, Any]], field: str = "task_ids"
) -> list[uuid.UUID]:
    """The ids, once each, in the order given; each must be a task of the mission's contract."""
    known = {t["task_id"] for t in tasks}
    chosen: list[uuid.UUID] = []
    errors = []
    for index, raw in enumerate(task_ids):
        task_id = uuid.UUID(str(raw))
        if task_id not in known:
            errors.append(field_error(f"{field}[{index}]", "is not a task of this mission"))
        elif task_id not in chosen:
            chosen.append(task_id)
    if errors:
        raise ValidationFailed("Some tasks are not tasks of this mission.", errors=errors)
    return chosen


def open_incident(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    *,
    mission_id: uuid.UUID,
    category: str,
    description: str,
    task_ids: Sequence[str],
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    if caller.role not in (rules.CLIENT, rules.PRO):
        raise Forbidden("Only the client or the professional of a mission declares an incident.")
    description = description.strip()
    if not description:
        raise ValidationFailed(errors=[field_error("description", "is empty")])
    with uow:
        mission = uow.missions.get(mission_id)
        # A mission with no contract (or not ours) is not one the caller can declare anything on.
        if mission is None or mission["status"] is None:
            raise NotFound("No such mission.")
        who = _party_or_staff(caller, mission)
        if mission["status"] not in rules.OPEN_TO_INCIDENTS:
            raise Conflict(f"The mission is {mission['status']}: no incident can be declared on it.")
        scope = check_task_ids(task_ids, uow.tasks.of_mission(mission_id))
        at = now()
        row = {
            "id": uuid.uuid4(),
            "mission_id": mission_id,
            "client_id": mission["client_id"],
            "pro_id": mission["pro_id"],
            "opened_by": caller.user_id,
            "opened_by_role": who,
            "category": category,
            "description": description,
            "task_ids": [str(t) for t in scope],
            "dispute_id": None,
            "status": "open",
            "opened_at": at,
            "answer_due_at": at + dt.timedelta(days=settings.incident_answer_days),
            "answered_at": None,
            "outcome": None,
            "amount_cents": None,
            "resolution_task_ids": None,
            "reason": None,
            "resolved_by": None,
            "resolved_at": None,
            "version": 1,
        }
        record_opened(uow, caller, row)
        uow.commit()
    log.info("incident %s opened on mission %s by the %s", row["id"], mission_id, who)
    return views.incident(row, now=at, settings=settings)


def record_opened(uow: TrustSafetyUnitOfWork, caller: Caller, row: Mapping[str, Any]) -> None:
    """The incident, its IncidentOpened (payments freezes, missions shows it) and its audit line."""
    uow.incidents.add(row)
    uow.publish(
        "IncidentOpened",
        {
            "incident_id": row["id"],
            "mission_id": row["mission_id"],
            "client_id": row["client_id"],
            "pro_id": row["pro_id"],
            "opened_by": row["opened_by"],
            "opened_by_role": row["opened_by_role"],
            "category": row["category"],
            "task_ids": list(row["task_ids"]),
            "dispute_id": row["dispute_id"],
            "answer_due_at": row["answer_due_at"],
            "opened_at": row["opened_at"],
        },
    )
    audit(
        uow, caller, "incident.open", "incident", row["id"], at=row["opened_at"], reason=row["description"],
        mission_id=row["mission_id"], category=row["category"], task_ids=list(row["task_ids"]),
        dispute_id=row["dispute_id"],
    )  # fmt: skip


def get(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    incident_id: uuid.UUID,
    *,
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    with uow:
        row, _ = visible_incident(uow, caller, incident_id)
    return views.incident(row, now=now(), settings=settings)


def list_incidents(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    *,
    mission_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    """A mission's incidents (its parties, staff), oldest first; without a mission, the caller's own,
    newest first (staff: use the moderation queue)."""
    at = now()
    with uow:
        if mission_id is not None:
            mission = uow.missions.get(mission_id)
            if mission is None or mission["status"] is None:
                raise NotFound("No such mission.")
            _party_or_staff(caller, mission)
            rows = uow.incidents.of_mission(mission_id)
            items, next_cursor = rows, None
        else:
            if caller.is_staff or caller.user_id is None:
                raise ValidationFailed(
                    errors=[field_error("mission_id", "is required for staff (the queue is /moderation)")]
                )
            rows = uow.incidents.of_user(caller.user_id, limit=limit + 1, after=decode_cursor(cursor))
            items, next_cursor = page(rows, limit, lambda r: (r["opened_at"], r["id"]))
    return {
        "items": [views.incident(r, now=at, settings=settings) for r in items],
        "next_cursor": next_cursor,
    }


def post_message(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    incident_id: uuid.UUID,
    body: str,
    uploads: Sequence[Upload],
    *,
    storage: AttachmentStorage,
    now: Clock,
    settings: TrustSafetySettings,
) -> dict[str, Any]:
    body = (body or "").strip()
    with uow:
        incident, who = visible_incident(uow, caller, incident_id)
        if incident["status"] != "open":
            raise Conflict("The incident is resolved: its thread is closed.")
        files = _check_uploads(body, uploads, settings)
        at = now()
        message_id = uuid.uuid4()
        uow.messages.add(
            {
                "id": message_id,
                "incident_id": incident_id,
                "author_id": caller.user_id,
                "author_role": who,
                "author_staff_role": caller.role if who == rules.STAFF else None,
                "body": body,
                "created_at": at,
            }
        )
        saved: list[str] = []
        try:
            attachments = []
            for data, media_type in files:
                attachment_id = uuid.uuid4()
                row = {
                    "id": attachment_id,
                    "incident_id": incident_id,
                    "message_id": message_id,
                    # Our name, never the uploader's: no path tricks, no personal data in file names.
                    "storage_key": f"{incident_id}/{attachment_id}.{EXTENSIONS[media_type]}",
                    "content_type": media_type,
                    "size_bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "created_at": at,
                }
                storage.save(row["storage_key"], data)
                saved.append(row["storage_key"])
                uow.messages.add_attachment(row)
                attachments.append(row)
            answer = who in rules.answerers(incident["opened_by_role"]) and uow.incidents.mark_answered(
                incident_id, at
            )
            uow.publish(
                "IncidentMessagePosted",
                {
                    "incident_id": incident_id,
                    "mission_id": incident["mission_id"],
                    "client_id": incident["client_id"],
                    "pro_id": incident["pro_id"],
                    "message_id": message_id,
                    "author_id": caller.user_id,
                    "author_role": who,
                    "attachment_count": len(attachments),
                    "answer": answer,
                    "posted_at": at,
                },
            )
            audit(
                uow, caller, "incident.message", "incident", incident_id, at=at, message_id=message_id,
                attachments=[a["id"] for a in attachments], answer=answer,
            )  # fmt: skip
            uow.commit()
        except BaseException:
            for key in saved:  # no file without its row
                storage.delete(key)
            raise
    return views.message(
        {"id": message_id, "incident_id": incident_id, "author_id": caller.user_id, "author_role": who,
         "body": body, "created_at": at},
        attachments,
    )  # fmt: skip


def _check_uploads(
    body: str, uploads: Sequence[Upload], settings: TrustSafetySettings
) -> list[tuple[bytes, str]]:
    errors = []
    if not body:
        errors.append(field_error("body", "is empty"))
    elif len(body) > 5000:
        errors.append(field_error("body", "must be at most 5000 characters"))
    if len(uploads) > settings.incident_attachments_per_message:
        errors.append(
            field_error(
                "attachments", f"at most {settings.incident_attachments_per_message} files per message"
            )
        )
    files = []
    for upload in uploads:
        if not upload.data:
            errors.append(field_error(upload.field, "is empty"))
        elif len(upload.data) > settings.incident_attachment_max_bytes:
            errors.append(
                field_error(upload.field, f"must be at most {settings.incident_attachment_max_bytes} bytes")
            )
        elif (media_type := recognise(upload.data)) is None:
            errors.append(field_error(upload.field, "is not a PDF, JPEG or PNG file"))
        else:
            files.append((upload.data, media_type))
    if errors:
        raise ValidationFailed("The message cannot be posted.", errors=errors)
    return files


def list_messages(
    uow: TrustSafetyUnitOfWork, caller: Caller, incident_id: uuid.UUID, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    with uow:
        visible_incident(uow, caller, incident_id)
        rows = uow.messages.thread(incident_id, limit=limit + 1, after=decode_cursor(cursor))
        items, next_cursor = page(rows, limit, lambda r: (r["created_at"], r["id"]))
        attachments = uow.messages.attachments_of([r["id"] for r in items])
    return {"items": [views.message(r, attachments[r["id"]]) for r in items], "next_cursor": next_cursor}


def download_attachment(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    incident_id: uuid.UUID,
    attachment_id: uuid.UUID,
    *,
    storage: AttachmentStorage,
    now: Clock,
) -> tuple[bytes, dict[str, Any]]:
    with uow:
        _, who = visible_incident(uow, caller, incident_id)
        row = uow.messages.attachment(incident_id, attachment_id)
        if row is None:
            raise NotFound("No such attachment.")
        if who == rules.STAFF:  # staff reading a party's documents is on the record
            audit(uow, caller, "incident.attachment_read", "incident", incident_id, at=now(),
                  attachment_id=attachment_id)  # fmt: skip
            uow.commit()
    return storage.read(row["storage_key"]), views.attachment(row)
