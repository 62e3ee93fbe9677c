"""Recording processed events, so that a redelivered event has no second effect."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clikopro_chassis.messaging import inbox_messages, utcnow
from clikopro_contracts import Event


def claim(session: Session, consumer: str, event: Event) -> bool:
    """Record ``event`` as processed by ``consumer``; False if it already was.

    Called inside the handler's transaction: if the handler fails, the claim
    rolls back with it and the event can be tried again.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(inbox_messages)
        .values(consumer=consumer, event_id=event.id, event_type=event.type, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        # RETURNING, not rowcount: SQLAlchemy 2.1 on psycopg reports -1 for this insert.
        .returning(inbox_messages.c.event_id)
    )
    return session.execute(statement).first() is not None
