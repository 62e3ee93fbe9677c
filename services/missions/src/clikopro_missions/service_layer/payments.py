"""PaymentSecured, order-proof: recorded when it arrives, applied once the mission awaits payment."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from clikopro_missions.domain.lifecycle import MISSION, SYSTEM
from clikopro_missions.service_layer.common import SYSTEM_CALLER, record_transition
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork

log = logging.getLogger(__name__)


def apply_pending_payment(
    uow: MissionsUnitOfWork, mission: Mapping[str, Any], now: dt.datetime
) -> Mapping[str, Any] | None:
    """Move an ``awaiting_payment`` mission to ``in_progress`` if its payment is known to be secured.
    Returns the updated mission, or None if nothing applies yet."""
    if mission["status"] != "awaiting_payment":
        return None
    notice = uow.payments.pending(mission["id"])
    if notice is None:
        return None
    status = MISSION.decide(mission["status"], "secure_payment", SYSTEM)
    changed = uow.missions.change(mission["id"], mission["version"], status=status, updated_at=now)
    if changed is None:
        return None
    uow.payments.mark_applied(mission["id"], now)
    record_transition(
        uow, mission_id=mission["id"], entity="mission", entity_id=mission["id"], command="secure_payment",
        from_state=mission["status"], to_state=status, actor=SYSTEM, caller=SYSTEM_CALLER, now=now,
    )  # fmt: skip
    log.info("payment %s secured: mission %s in progress", notice["payment_id"], mission["id"])
    return changed
