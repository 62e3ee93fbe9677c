"""What the operation handlers share."""

from __future__ import annotations

from clikopro_chassis.web.security import principal
from clikopro_trust_safety.service_layer.common import Caller


def caller() -> Caller:
    who = principal()
    return Caller(who.user_id, who.role)
