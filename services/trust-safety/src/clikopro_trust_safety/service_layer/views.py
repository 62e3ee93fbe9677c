"""The API's representations of incidents, their messages and attachments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from clikopro_trust_safety.domain.incidents import answer_overdue, resolution_notice
from clikopro_trust_safety.settings import TrustSafetySettings


def incident(row: Mapping[str, Any], *, now: dt.datetime, settings: TrustSafetySettings) -> dict[str, Any]:
    resolved = row["status"] == "resolved"
    body = {
        "id": row["id"],
        "mission_id": row["mission_id"],
        "client_id": row["client_id"],
        "pro_id": row["pro_id"],
        "status": row["status"],
        "category": row["category"],
        "description": row["description"],
        "task_ids": list(row["task_ids"]),
        "opened_by": row["opened_by"],
        "opened_by_role": row["opened_by_role"],
        "dispute_id": row["dispute_id"],
        "opened_at": row["opened_at"],
        "answer_due_at": row["answer_due_at"],
        "answered_at": row["answered_at"],
        "answer_overdue": answer_overdue(row, now),
        "outcome": row["outcome"],
        "amount_cents": row["amount_cents"],
        "currency": "EUR",
        "reason": row["reason"],
        "resolved_at": row["resolved_at"],
        "resolution": None,
    }
    if resolved:
        body["resolution"] = {
            "outcome": row["outcome"],
            "amount_cents": row["amount_cents"],
            "task_ids": list(row["resolution_task_ids"] or []),
            "reason": row["reason"],
            "resolved_at": row["resolved_at"],
            "notice": resolution_notice(
                row["outcome"],
                row["amount_cents"],
                row["reason"],
                mediator_name=settings.consumer_mediator_name,
                mediator_url=settings.consumer_mediator_url,
            ),
            "mediator": {"name": settings.consumer_mediator_name, "url": settings.consumer_mediator_url},
        }
    return body


def attachment(row: Mapping[str, Any]) -> dict[str, Any]:
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[row["content_type"]]
    return {
        "id": row["id"],
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "file_name": f"piece-{row['id']}.{extension}",
        "download_path": f"/api/v1/incidents/{row['incident_id']}/attachments/{row['id']}",
    }


def message(row: Mapping[str, Any], attachments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "incident_id": row["incident_id"],
        "author_id": row["author_id"],
        "author_role": row["author_role"],
        "body": row["body"],
        "attachments": [attachment(a) for a in attachments],
        "created_at": row["created_at"],
    }
