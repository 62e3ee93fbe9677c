"""Calendar months in Europe/Paris, as missions counts the free plan's proposals (R6, R23)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def month_key(at: dt.datetime) -> str:
    """``YYYY-MM`` of the Paris calendar month ``at`` falls in."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    local = at.astimezone(PARIS)
    return f"{local.year:04d}-{local.month:02d}"
