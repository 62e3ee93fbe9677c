"""Suspensions decided by trust & safety (R3), as identity keeps them.

Events from trust & safety may arrive in any order (EVENTS.md, "Order-proof"): each change carries
the time it took effect, and a change older than the one already recorded is ignored. A temporary
suspension ends by itself at ``until`` even if its reinstatement event is late.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass
class Suspension:
    user_id: uuid.UUID
    suspended: bool
    changed_at: dt.datetime
    reason: str | None = None
    until: dt.datetime | None = None

    def in_force(self, now: dt.datetime) -> bool:
        return self.suspended and (self.until is None or self.until > now)


def supersedes(change_at: dt.datetime, current: Suspension | None) -> bool:
    """Whether a change that took effect at ``change_at`` replaces ``current`` (ties: the later message)."""
    return current is None or change_at >= current.changed_at
