"""The API's representations of missions, proposals, tasks and invoices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def mission(
    row: Mapping[str, Any],
    contract: Mapping[str, Any] | None = None,
    open_incident_ids: Sequence[Any] | None = None,
) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "client_id": row["client_id"],
        "title": row["title"],
        "description": row["description"],
        "trade": row["trade"],
        "postcode": row["postcode"],
        "department": row["department"],
        "budget_cents": row["budget_cents"],
        "currency": row["currency"],
        "wished_start": row["wished_start"],
        "status": row["status"],
        "pro_id": row["pro_id"],
        "published_at": row["published_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }
    if open_incident_ids is not None:
        body["open_incident_ids"] = list(open_incident_ids)
    if contract is not None:
        body["contract"] = {
            "proposal_id": contract["proposal_id"],
            "pro_id": contract["pro_id"],
            "payment_mode": contract["payment_mode"],
            "amount_cents": contract["amount_cents"],
            "currency": contract["currency"],
            "accepted_at": contract["accepted_at"],
            "terms": contract["terms"],
        }
    return body


def contact(user_id: Any, row: Mapping[str, Any] | None) -> dict[str, Any]:
    """A party's contact details as identity last told us (``null`` fields if it has not yet)."""
    return {
        "user_id": user_id,
        "first_name": row["first_name"] if row else None,
        "last_name": row["last_name"] if row else None,
        "email": row["email"] if row else None,
        "phone": row["phone"] if row else None,
    }


def address(mission: Mapping[str, Any], row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The intervention address, ``null`` if the client gave none at publication."""
    if row is None:
        return None
    return {
        "street": row["street"],
        "postcode": mission["postcode"],
        "city": row["city"],
        "details": row["details"],
    }


def proposal(row: Mapping[str, Any], planned: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "mission_id": row["mission_id"],
        "pro_id": row["pro_id"],
        "amount_cents": row["amount_cents"],
        "currency": row["currency"],
        "payment_mode": row["payment_mode"],
        "message": row["message"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "decided_at": row["decided_at"],
        "tasks": [
            {
                "position": t["position"],
                "title": t["title"],
                "amount_cents": t["amount_cents"],
                "due_date": t["due_date"],
            }
            for t in planned
        ],
    }


def task(row: Mapping[str, Any], incident_ids: Sequence[Any] | None = None) -> dict[str, Any]:
    """``incident_ids``: the open incidents that cover the task (a contested task with one is escalated)."""
    return {
        "id": row["id"],
        "mission_id": row["mission_id"],
        "position": row["position"],
        "title": row["title"],
        "amount_cents": row["amount_cents"],
        "currency": "EUR",
        "due_date": row["due_date"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "auto_validate_at": row["auto_validate_at"] if row["status"] == "submitted" else None,
        "reminded_at": row["reminded_at"],
        "validated_at": row["validated_at"],
        "auto_validated": row["auto_validated"],
        "contest_reason": row["contest_reason"],
        "submissions": row["submissions"],
        "released_at": row["released_at"],
        "incident_ids": list(incident_ids or []),
    }


def invoice(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "mission_id": row["mission_id"],
        "pro_id": row["pro_id"],
        "content_type": "application/pdf",
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "file_name": f"facture-{row['id']}.pdf",
        "uploaded_at": row["uploaded_at"],
        "download_path": f"/api/v1/missions/{row['mission_id']}/invoices/{row['id']}",
    }


def transition(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "command": row["command"],
        "from": row["from_state"],
        "to": row["to_state"],
        "actor": row["actor"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "reason": row["reason"],
        "at": row["occurred_at"],
    }
