from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class PaymentsSettings(Settings):
    """Settings of the payments service (its own fields come with its features)."""
