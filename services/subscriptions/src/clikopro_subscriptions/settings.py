from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class SubscriptionsSettings(Settings):
    """Settings of the subscriptions service (its own fields come with its features)."""
