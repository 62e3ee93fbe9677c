"""Writing events into the outbox, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from clikopro_chassis.messaging import outbox_messages, utcnow
from clikopro_chassis.tracing import current_traceparent
from clikopro_contracts import Event

#: PostgreSQL channel the relay LISTENs on; NOTIFY is delivered only on commit.
NOTIFY_CHANNEL = "clikopro_outbox"


def encode(event: Event) -> str:
    envelope = event.to_dict()
    traceparent = current_traceparent()
    if traceparent:  # the request's or handler's trace, for the relay to carry on (chassis.tracing)
        envelope["traceparent"] = traceparent
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


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


def pending_summary(session: Session) -> tuple[int, float]:
    """How many events wait in the outbox and the age in seconds of the oldest (the relay's lag)."""
    count, oldest = session.execute(
        select(func.count(), func.min(outbox_messages.c.created_at)).where(
            outbox_messages.c.published_at.is_(None)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(count), (utcnow() - oldest).total_seconds() if oldest else 0.0
