"""The free plan's monthly proposal quota: calendar months in Europe/Paris.

A proposal counts in the Paris calendar month of its submission; the quota
resets at the first instant of the next month in Paris (00:00 local, which is
22:00 or 23:00 UTC the day before depending on daylight saving time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class QuotaMonth:
    #: ``YYYY-MM`` in Paris: the key of the counter.
    key: str
    starts_at: dt.datetime
    #: First instant of the next Paris month, in UTC: when the quota resets.
    resets_at: dt.datetime


def month_of(now: dt.datetime) -> QuotaMonth:
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    local = now.astimezone(PARIS)
    start_local = dt.datetime(local.year, local.month, 1, tzinfo=PARIS)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    next_local = dt.datetime(year, month, 1, tzinfo=PARIS)
    return QuotaMonth(
        key=f"{local.year:04d}-{local.month:02d}",
        starts_at=start_local.astimezone(dt.UTC),
        resets_at=next_local.astimezone(dt.UTC),
    )


def paris_today(now: dt.datetime) -> dt.date:
    return now.astimezone(PARIS).date()


def limit_for(proposals_per_month: int | None, *, known_plan: bool, free_default: int) -> int | None:
    """Proposals allowed this month: the plan's figure when subscriptions told us the plan,
    the configured free quota for a pro we have heard nothing about; None is unlimited."""
    if not known_plan:
        return free_default
    return proposals_per_month
