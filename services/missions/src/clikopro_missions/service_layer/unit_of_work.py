from __future__ import annotations

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_missions.adapters.repositories import MemberRepository


class MissionsUnitOfWork(UnitOfWork):
    members: MemberRepository

    def bind(self, session: Session) -> None:
        self.members = MemberRepository(session)
