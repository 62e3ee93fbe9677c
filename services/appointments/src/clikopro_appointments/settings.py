from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class AppointmentsSettings(Settings):
    """Settings of the appointments service (its own fields come with its features)."""
