from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class IdentitySettings(Settings):
    #: Minimum password length (the full policy lives in domain/passwords).
    password_min_length: int = 10
