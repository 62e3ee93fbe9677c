"""What the use cases share: the caller, service errors, the audit trail, cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from clikopro_chassis.errors import Forbidden, RateLimited, ValidationFailed, field_error
from clikopro_contracts import format_time
from clikopro_missions.domain.lifecycle import CLIENT, OTHER, PRO, STAFF, SYSTEM, actor_of
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork


@dataclass(frozen=True)
class Caller:
    """Who asks: a person from a verified access token, or the service itself (``user_id`` None)."""

    user_id: uuid.UUID | None
    role: str | None

    @property
    def is_staff(self) -> bool:
        return self.role in {"moderator", "admin"}

    def relation(self, *, client_id: uuid.UUID, pro_id: uuid.UUID | None) -> str:
        return actor_of(self.user_id, self.role, client_id=client_id, pro_id=pro_id)


SYSTEM_CALLER = Caller(None, None)


class AccountSuspended(Forbidden):
    code = "account_suspended"
    title = "Account suspended"


class PlanRequired(Forbidden):
    code = "plan_required"
    title = "A paid plan is required"


class ProposalQuotaExceeded(RateLimited):
    code = "proposal_quota_exceeded"
    title = "Monthly proposal quota reached"


def ensure_not_suspended(uow: MissionsUnitOfWork, caller: Caller) -> None:
    """The gateway refuses suspended accounts first; the service holds the rule too."""
    if caller.user_id is not None and uow.accounts.is_suspended(caller.user_id):
        raise AccountSuspended("This account is suspended.")


def record_transition(
    uow: MissionsUnitOfWork,
    *,
    mission_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    command: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    caller: Caller,
    now: dt.datetime,
    reason: str | None = None,
) -> None:
    uow.transitions.record(
        {
            "mission_id": mission_id,
            "entity": entity,
            "entity_id": entity_id,
            "command": command,
            "from_state": from_state,
            "to_state": to_state,
            "actor": actor,
            "actor_id": caller.user_id if actor != SYSTEM else None,
            "actor_role": caller.role if actor != SYSTEM else None,
            "reason": reason,
            "occurred_at": now,
        }
    )


def canceller(actor: str) -> str:
    """``cancelled_by`` of MissionCancelled for an actor of the lifecycle table."""
    return {CLIENT: "client", PRO: "pro", STAFF: "moderator", SYSTEM: "system", OTHER: "system"}[actor]


# -- keyset cursors: opaque to clients, (time, id) of the last item of the page ------------------------


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
