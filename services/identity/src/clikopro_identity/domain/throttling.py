"""Login throttling (R2): too many failed logins for one account, or from one address, in a sliding
window, and further attempts are refused until the oldest counted failure leaves the window."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleRule:
    max_failures: int
    window: dt.timedelta


def retry_after(failures: Sequence[dt.datetime], rule: ThrottleRule, now: dt.datetime) -> int | None:
    """Seconds to wait before the next attempt, or ``None`` if one may try now.

    ``failures`` are the failure times (any order); only those inside the window count.
    """
    recent = sorted(t for t in failures if t > now - rule.window)
    if len(recent) < rule.max_failures:
        return None
    # Once this failure leaves the window, fewer than max_failures remain.
    frees_at = recent[len(recent) - rule.max_failures] + rule.window
    return max(1, math.ceil((frees_at - now).total_seconds()))
