"""Signing up (R1), and staff accounts (made by the CLI, never by public sign-up)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from clikopro_chassis.errors import Conflict, ValidationFailed, field_error
from clikopro_identity.domain.passwords import password_problems
from clikopro_identity.domain.phones import InvalidPhone, normalise_phone
from clikopro_identity.domain.professionals import InvalidSiret, insurance_problem, normalise_siret
from clikopro_identity.domain.users import ROLES_OPEN_TO_SIGN_UP, STAFF_ROLES, User, normalise_email
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork


@dataclass(frozen=True)
class Registration:
    role: str
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str | None
    profile: dict[str, Any]


PRO_REQUIRED = ("company_name", "siret", "insurance", "trades", "postcode")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def check_registration(
    command: Registration, *, today: dt.date, password_min_length: int
) -> tuple[str | None, dict[str, Any]]:
    """Every field error at once (ValidationFailed), else the normalised phone and profile."""
    errors = []
    email = normalise_email(command.email)
    for problem in password_problems(
        command.password,
        min_length=password_min_length,
        personal=(email, command.first_name, command.last_name),
    ):
        errors.append(field_error("password", problem))
    phone = None
    if command.phone is not None:
        try:
            phone = normalise_phone(command.phone)
        except InvalidPhone as exc:
            errors.append(field_error("phone", str(exc)))
    profile = dict(command.profile)
    if command.role == "pro":
        missing = [name for name in PRO_REQUIRED if name not in profile]
        errors += [field_error(name, "is required for a professional") for name in missing]
        if "siret" in profile:
            try:
                profile["siret"] = normalise_siret(str(profile["siret"]))
            except InvalidSiret as exc:
                errors.append(field_error("siret", str(exc)))
        insurance = profile.get("insurance")
        if isinstance(insurance, dict):
            valid_until = _as_date(insurance.get("valid_until"))
            if valid_until is None:
                errors.append(field_error("insurance.valid_until", "is not a date"))
            else:
                problem = insurance_problem(valid_until, today)
                if problem:
                    errors.append(field_error("insurance.valid_until", problem))
                profile["insurance"] = {**insurance, "valid_until": valid_until.isoformat()}
    else:
        profile = {}
    if errors:
        raise ValidationFailed(errors=errors)
    return phone, profile


def _pro_profile(user: User) -> dict[str, Any] | None:
    """The public part of a professional's profile, which other services project."""
    if user.role != "pro":
        return None
    return {k: user.profile[k] for k in ("company_name", "trades", "postcode")}


def _email_taken() -> Conflict:
    return Conflict("An account already uses this email.", errors=[field_error("email", "already used")])


def _add_user(uow: IdentityUnitOfWork, user: User) -> None:
    """Store the account and publish what other services need to know about it; commit."""
    if uow.users.email_taken(user.email):
        raise _email_taken()
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
    if user.verified_at is not None:
        uow.publish(
            "ProfessionalVerified",
            {
                "user_id": user.id,
                "company_name": user.profile["company_name"],
                "siret": user.profile["siret"],
                "trades": user.profile["trades"],
                "postcode": user.profile["postcode"],
                "insurance_valid_until": user.insurance_valid_until,
                "verified_at": user.verified_at,
            },
        )
    try:
        uow.commit()
    except IntegrityError:
        # Two sign-ups with one email at the same instant: the unique index decides.
        raise _email_taken() from None


def register(
    uow: IdentityUnitOfWork,
    command: Registration,
    *,
    now: dt.datetime,
    hasher: PasswordHasher,
    password_min_length: int,
) -> User:
    if command.role not in ROLES_OPEN_TO_SIGN_UP:  # the spec refuses it too; this is the rule
        raise ValidationFailed(errors=[field_error("role", "must be client or pro")])
    phone, profile = check_registration(command, today=now.date(), password_min_length=password_min_length)
    user = User(
        email=normalise_email(command.email),
        role=command.role,
        first_name=command.first_name.strip(),
        last_name=command.last_name.strip(),
        phone=phone,
        password_hash=hasher.hash(command.password),
        created_at=now,
        profile=profile,
    )
    if user.role == "pro":
        # The SIRET and the insurance passed the checks above: the professional is verified.
        user.verified_at = now
        user.insurance_valid_until = dt.date.fromisoformat(profile["insurance"]["valid_until"])
    with uow:
        _add_user(uow, user)
    return user


def create_staff(
    uow: IdentityUnitOfWork,
    *,
    role: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None,
    now: dt.datetime,
    hasher: PasswordHasher,
    password_min_length: int,
) -> User:
    """A moderator or an admin (``clikopro-identity create-staff``): same checks as a sign-up."""
    if role not in STAFF_ROLES:
        raise ValidationFailed(errors=[field_error("role", f"must be one of {', '.join(STAFF_ROLES)}")])
    command = Registration(role, email, password, first_name, last_name, phone, {})
    phone, _ = check_registration(command, today=now.date(), password_min_length=password_min_length)
    user = User(
        email=normalise_email(email),
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone,
        password_hash=hasher.hash(password),
        created_at=now,
    )
    with uow:
        _add_user(uow, user)
    return user
