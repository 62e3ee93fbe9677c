"""Accounts: who may sign up, and with what."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

ROLES = ("client", "pro", "moderator", "admin")
ROLES_OPEN_TO_SIGN_UP = ("client", "pro")
STAFF_ROLES = ("moderator", "admin")


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively: compare and store them lower-cased."""
    return email.strip().lower()


@dataclass
class User:
    email: str
    role: str
    first_name: str
    last_name: str
    phone: str | None
    password_hash: str
    created_at: dt.datetime
    profile: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = "active"
    #: Professionals: when the SIRET and the insurance passed the checks.
    verified_at: dt.datetime | None = None
    #: Professionals: the end of the insurance policy on record.
    insurance_valid_until: dt.date | None = None
    updated_at: dt.datetime | None = None

    @property
    def personal_details(self) -> tuple[str, ...]:
        return (self.email, self.first_name, self.last_name)
