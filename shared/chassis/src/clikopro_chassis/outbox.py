"""Writing events into the outbox, in the caller's transaction."""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from clikopro_chassis.messaging import outbox_messages, utcnow
from clikopro_contracts import Event

#: PostgreSQL channel the relay LISTENs on; NOTIFY is delivered only on commit.
NOTIFY_CHANNEL = "clikopro_outbox"


def encode(event: Event) -> str:
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False)


def add_to_outbox(session: Session, event: Event) -> None:
    session.execute(
        insert(outbox_messages).values(
            event_id=event.id,
            event_type=event.type,
            routing_key=event.routing_key,
            correlation_id=event.correlation_id,
            body=encode(event),
            created_at=utcnow(),
        )
    )


def notify_relay(session: Session) -> None:
    """Wake the relay when this transaction commits (PostgreSQL only; SQLite is polled)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
