from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clikopro_missions.adapters.orm import members


class MemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, user_id: uuid.UUID, role: str, display_name: str, registered_at: dt.datetime) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(members).values(
            user_id=user_id, role=role, display_name=display_name, registered_at=registered_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"role": role, "display_name": display_name}
        )
        self.session.execute(statement)

    def role_of(self, user_id: uuid.UUID) -> str | None:
        return self.session.execute(select(members.c.role).where(members.c.user_id == user_id)).scalar()
