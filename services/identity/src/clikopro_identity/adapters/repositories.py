from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clikopro_identity.adapters.orm import users
from clikopro_identity.domain.users import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> None:
        self.session.execute(
            insert(users).values(
                id=user.id,
                email=user.email,
                role=user.role,
                status=user.status,
                first_name=user.first_name,
                last_name=user.last_name,
                phone=user.phone,
                password_hash=user.password_hash,
                profile=user.profile,
                created_at=user.created_at,
            )
        )

    def email_taken(self, email: str) -> bool:
        return self.session.execute(select(users.c.id).where(users.c.email == email)).first() is not None

    def get(self, user_id: uuid.UUID) -> User | None:
        row = self.session.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return User(**row) if row else None
