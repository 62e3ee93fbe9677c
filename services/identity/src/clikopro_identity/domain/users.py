"""Accounts: who may sign up, and with what."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

ROLES_OPEN_TO_SIGN_UP = ("client", "pro")


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively: compare and store them lower-cased."""
    return email.strip().lower()


@dataclass
class User:
    email: str
    role: str
    first_name: str
    last_name: str
    phone: str
    password_hash: str
    created_at: dt.datetime
    profile: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = "active"
