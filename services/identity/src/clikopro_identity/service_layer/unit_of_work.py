from __future__ import annotations

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_identity.adapters.repositories import UserRepository


class IdentityUnitOfWork(UnitOfWork):
    users: UserRepository

    def bind(self, session: Session) -> None:
        self.users = UserRepository(session)
