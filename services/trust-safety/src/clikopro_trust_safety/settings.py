from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class TrustSafetySettings(Settings):
    """Settings of the trust-safety service (its own fields come with its features)."""
