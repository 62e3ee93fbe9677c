"""What the use cases share: the caller, the audit log, keyset cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from clikopro_chassis.errors import ValidationFailed, field_error
from clikopro_contracts import format_time
from clikopro_trust_safety.domain.incidents import STAFF_ROLES
from clikopro_trust_safety.service_layer.unit_of_work import TrustSafetyUnitOfWork


@dataclass(frozen=True)
class Caller:
    """Who asks: a person from a verified access token, or the service itself (``user_id`` None)."""

    user_id: uuid.UUID | None
    role: str | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


SYSTEM_CALLER = Caller(None, None)


def audit(
    uow: TrustSafetyUnitOfWork,
    caller: Caller,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    *,
    at: dt.datetime,
    reason: str | None = None,
    **details: Any,
) -> None:
    """Who (id and role), when, what (action, target, details), why (reason), in the same transaction
    as the change itself."""
    uow.audit.record(
        {
            "actor_id": caller.user_id,
            "actor_role": caller.role or "system",
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "reason": reason,
            "details": json.loads(json.dumps(details, default=str)),
            "occurred_at": at,
        }
    )


def encode_cursor(at: dt.datetime, item_id: uuid.UUID) -> str:
    raw = json.dumps([format_time(at), str(item_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, uuid.UUID(item_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed(
            "The cursor is not one this API gave.", errors=[field_error("cursor", "is not valid")]
        ) from None


def page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """``rows`` fetched with ``limit + 1``: the page and the cursor of the next one, if any."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(*key(rows[-1]))
    return rows, None
