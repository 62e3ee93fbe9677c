from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class MissionsSettings(Settings):
    """Settings of the missions service (its own fields come with its features)."""
