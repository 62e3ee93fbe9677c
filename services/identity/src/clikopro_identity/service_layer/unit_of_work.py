from __future__ import annotations

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_identity.adapters.repositories import (
    LoginFailureRepository,
    RefreshTokenRepository,
    SuspensionRepository,
    UserRepository,
)


class IdentityUnitOfWork(UnitOfWork):
    users: UserRepository
    refresh_tokens: RefreshTokenRepository
    login_failures: LoginFailureRepository
    suspensions: SuspensionRepository

    def bind(self, session: Session) -> None:
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.login_failures = LoginFailureRepository(session)
        self.suspensions = SuspensionRepository(session)
