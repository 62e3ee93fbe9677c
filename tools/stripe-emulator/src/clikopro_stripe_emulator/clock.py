"""The emulator's clock: localstripe reads ``time.time()`` for every timestamp; we give it a clock
that can be moved forward (``POST /_config/clock {"advance_seconds": N}``), so that a test can make
time pass (a renewal, an expiry) without waiting. What runs on that time (e.g. Billing renewals)
reads :func:`now`."""

from __future__ import annotations

import time as _real_time
from typing import Any

_offset = 0.0


def now() -> float:
    return _real_time.time() + _offset


def advance(seconds: float) -> float:
    global _offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    _offset += seconds
    return now()


def reset() -> None:
    global _offset
    _offset = 0.0


class ShiftedTime:
    """Stands in for the ``time`` module inside localstripe."""

    def time(self) -> float:
        return now()

    def __getattr__(self, name: str) -> Any:
        return getattr(_real_time, name)
