"""The caller's own account: reading it, and changing contact details (R1)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from clikopro_chassis.errors import Conflict, NotFound, ValidationFailed, field_error
from clikopro_identity.domain.phones import InvalidPhone, normalise_phone
from clikopro_identity.domain.users import User, normalise_email
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork

CONTACT_FIELDS = ("email", "phone", "first_name", "last_name")


def get_user(uow: IdentityUnitOfWork, user_id: uuid.UUID) -> User:
    with uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def change_contact_details(
    uow: IdentityUnitOfWork,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    current_password: str | None,
    hasher: PasswordHasher,
    now: dt.datetime,
) -> User:
    """Apply the changes and publish ``ContactDetailsChanged`` (the full current set) if anything changed.

    Changing the e-mail (the login) needs the current password: a stolen access token alone must
    not be enough to take the account over.
    """
    errors = []
    values: dict[str, Any] = {}
    if "email" in changes:
        values["email"] = normalise_email(changes["email"])
    if "phone" in changes:
        try:
            values["phone"] = normalise_phone(changes["phone"])
        except InvalidPhone as exc:
            errors.append(field_error("phone", str(exc)))
    for name in ("first_name", "last_name"):
        if name in changes:
            values[name] = changes[name].strip()
            if not values[name]:
                errors.append(field_error(name, "must not be empty"))
    if errors:
        raise ValidationFailed(errors=errors)
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("No such account.")
        changed = {k: v for k, v in values.items() if getattr(user, k) != v}
        if not changed:
            return user
        if "email" in changed:
            if not current_password:
                raise ValidationFailed(
                    errors=[field_error("current_password", "is required to change the e-mail")]
                )
            try:
                hasher.verify(user.password_hash, current_password)
            except (VerificationError, InvalidHashError):
                raise ValidationFailed(errors=[field_error("current_password", "is wrong")]) from None
            if uow.users.email_taken(changed["email"], besides=user.id):
                raise Conflict(
                    "An account already uses this email.", errors=[field_error("email", "already used")]
                )
        for name, value in changed.items():
            setattr(user, name, value)
        user.updated_at = now
        uow.users.save(user)
        uow.publish(
            "ContactDetailsChanged",
            {
                "user_id": user.id,
                "email": user.email,
                "phone": user.phone,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "changed_at": now,
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict(
                "An account already uses this email.", errors=[field_error("email", "already used")]
            ) from None
    return user


def user_view(user: User) -> dict[str, Any]:
    """The account as its owner sees it (never the password hash)."""
    view: dict[str, Any] = {
        "id": user.id,
        "role": user.role,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "status": user.status,
        "created_at": user.created_at,
    }
    if user.role == "pro":
        view["pro_profile"] = {
            "company_name": user.profile.get("company_name"),
            "siret": user.profile.get("siret"),
            "trades": user.profile.get("trades"),
            "postcode": user.profile.get("postcode"),
            "insurance": user.profile.get("insurance"),
            "insurance_valid_until": user.insurance_valid_until,
            "verified_at": user.verified_at,
        }
    return view
