from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from clikopro_identity.adapters.orm import login_failures, refresh_tokens, suspensions, users
from clikopro_identity.domain.suspensions import Suspension
from clikopro_identity.domain.tokens import RefreshToken
from clikopro_identity.domain.users import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> None:
        self.session.execute(insert(users).values(**_user_row(user)))

    def email_taken(self, email: str, *, besides: uuid.UUID | None = None) -> bool:
        query = select(users.c.id).where(users.c.email == email)
        if besides is not None:
            query = query.where(users.c.id != besides)
        return self.session.execute(query).first() is not None

    def get(self, user_id: uuid.UUID) -> User | None:
        row = self.session.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return User(**row) if row else None

    def by_email(self, email: str) -> User | None:
        row = self.session.execute(select(users).where(users.c.email == email)).mappings().first()
        return User(**row) if row else None

    def save(self, user: User) -> None:
        row = _user_row(user)
        row.pop("id")
        self.session.execute(update(users).where(users.c.id == user.id).values(**row))


def _user_row(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "status": user.status,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "password_hash": user.password_hash,
        "profile": user.profile,
        "created_at": user.created_at,
        "verified_at": user.verified_at,
        "insurance_valid_until": user.insurance_valid_until,
        "updated_at": user.updated_at,
    }


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: RefreshToken) -> None:
        self.session.execute(
            insert(refresh_tokens).values(
                id=token.id,
                family_id=token.family_id,
                user_id=token.user_id,
                token_hash=token.token_hash,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
                revoked_reason=token.revoked_reason,
            )
        )

    def by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (
            self.session.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash))
            .mappings()
            .first()
        )
        return RefreshToken(**row) if row else None

    def spend(self, token_id: uuid.UUID, now: dt.datetime) -> bool:
        """Mark the token used if nobody did first (two racing refreshes: one wins)."""
        result = self.session.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    def revoke_family(self, family_id: uuid.UUID, now: dt.datetime, reason: str) -> int:
        return self._revoke(refresh_tokens.c.family_id == family_id, now, reason)

    def revoke_user(self, user_id: uuid.UUID, now: dt.datetime, reason: str) -> int:
        return self._revoke(refresh_tokens.c.user_id == user_id, now, reason)

    def _revoke(self, condition, now: dt.datetime, reason: str) -> int:
        result = self.session.execute(
            update(refresh_tokens)
            .where(condition, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        return result.rowcount

    def purge(self, before: dt.datetime) -> int:
        """Forget tokens that expired or were revoked before ``before``."""
        result = self.session.execute(
            delete(refresh_tokens).where(
                or_(refresh_tokens.c.expires_at < before, refresh_tokens.c.revoked_at < before)
            )
        )
        return result.rowcount


class LoginFailureRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, scope: str, key: str, at: dt.datetime) -> None:
        self.session.execute(insert(login_failures).values(scope=scope, key=key, failed_at=at))

    def since(self, scope: str, key: str, since: dt.datetime, limit: int) -> Sequence[dt.datetime]:
        """The latest ``limit`` failures after ``since``."""
        return list(
            self.session.execute(
                select(login_failures.c.failed_at)
                .where(
                    login_failures.c.scope == scope,
                    login_failures.c.key == key,
                    login_failures.c.failed_at > since,
                )
                .order_by(login_failures.c.failed_at.desc())
                .limit(limit)
            ).scalars()
        )

    def clear(self, scope: str, key: str) -> None:
        self.session.execute(
            delete(login_failures).where(login_failures.c.scope == scope, login_failures.c.key == key)
        )

    def purge(self, before: dt.datetime) -> int:
        return self.session.execute(
            delete(login_failures).where(login_failures.c.failed_at < before)
        ).rowcount


class SuspensionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: uuid.UUID) -> Suspension | None:
        row = (
            self.session.execute(select(suspensions).where(suspensions.c.user_id == user_id))
            .mappings()
            .first()
        )
        return Suspension(**row) if row else None

    def save(self, suspension: Suspension) -> None:
        values = {
            "suspended": suspension.suspended,
            "reason": suspension.reason,
            "until": suspension.until,
            "changed_at": suspension.changed_at,
        }
        updated = self.session.execute(
            update(suspensions).where(suspensions.c.user_id == suspension.user_id).values(**values)
        )
        if updated.rowcount == 0:
            self.session.execute(insert(suspensions).values(user_id=suspension.user_id, **values))

    def in_force(self, now: dt.datetime) -> list[Suspension]:
        rows = self.session.execute(
            select(suspensions).where(
                suspensions.c.suspended.is_(True),
                or_(suspensions.c.until.is_(None), suspensions.c.until > now),
            )
        ).mappings()
        return [Suspension(**row) for row in rows]
