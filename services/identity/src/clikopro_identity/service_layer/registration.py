"""Signing up (R1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from clikopro_chassis.errors import Conflict, ValidationFailed, field_error
from clikopro_identity.domain.users import User, normalise_email
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Registration:
    role: str
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str
    profile: dict[str, Any]


PRO_REQUIRED = ("company_name", "siret", "insurance", "trades", "postcode")


def _check(command: Registration, password_min_length: int) -> None:
    errors = []
    if len(command.password) < password_min_length:
        errors.append(field_error("password", f"must be at least {password_min_length} characters"))
    if command.role == "pro":
        missing = [name for name in PRO_REQUIRED if name not in command.profile]
        errors += [field_error(name, "is required for a professional") for name in missing]
    if errors:
        raise ValidationFailed(errors=errors)


def _pro_profile(user: User) -> dict[str, Any] | None:
    """The public part of a professional's profile, which other services project."""
    if user.role != "pro":
        return None
    return {k: user.profile[k] for k in ("company_name", "trades", "postcode")}


def register(
    uow: IdentityUnitOfWork,
    command: Registration,
    *,
    now: Callable[[], dt.datetime],
    password_min_length: int,
) -> User:
    _check(command, password_min_length)
    email = normalise_email(command.email)
    with uow:
        if uow.users.email_taken(email):
            raise Conflict(
                "An account already uses this email.", errors=[field_error("email", "already used")]
            )
        user = User(
            email=email,
            role=command.role,
            first_name=command.first_name.strip(),
            last_name=command.last_name.strip(),
            phone=command.phone.strip(),
            password_hash=_hasher.hash(command.password),
            created_at=now(),
            profile=command.profile,
        )
        uow.users.add(user)
        uow.publish(
            "UserRegistered",
            {
                "user_id": user.id,
                "role": user.role,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "registered_at": user.created_at,
                "phone": user.phone,
                "pro_profile": _pro_profile(user),
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            # Two sign-ups with one email at the same instant: the unique index decides.
            raise Conflict(
                "An account already uses this email.", errors=[field_error("email", "already used")]
            )
    return user
