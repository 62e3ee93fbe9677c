"""Recording processed events, so that a redelivered event has no second effect."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from clikopro_chassis.db import upsert_insert
from clikopro_chassis.messaging import inbox_messages, utcnow
from clikopro_contracts import Event


def claim_all(session: Session, consumer: str, events: Sequence[Event]) -> set[str]:
    """Record ``events`` as processed by ``consumer``; returns the ids that were not already.

    One statement for a whole batch, inside the handlers' transaction: if it
    rolls back, so do the claims, and the events can be tried again.
    """
    rows = {e.id: {"consumer": consumer, "event_id": e.id, "event_type": e.type} for e in events}
    if not rows:
        return set()
    now = utcnow()
    statement = (
        upsert_insert(session, inbox_messages)
        .values([{**row, "processed_at": now} for row in rows.values()])
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        # RETURNING, not rowcount: SQLAlchemy 2.1 on psycopg reports -1 for such inserts.
        .returning(inbox_messages.c.event_id)
    )
    return set(session.execute(statement).scalars())


def claim(session: Session, consumer: str, event: Event) -> bool:
    """Record one event as processed by ``consumer``; False if it already was."""
    return event.id in claim_all(session, consumer, [event])
