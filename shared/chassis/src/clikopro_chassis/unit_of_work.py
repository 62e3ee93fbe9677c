"""The unit of work: one database transaction, with the events it emits.

It rolls back unless committed (cosmicpython). Events go into the outbox in
the same transaction as the state change, never straight to the broker, so a
broker outage cannot lose them and a rollback cannot leak them.

A service subclasses it and builds its repositories in :meth:`bind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from sqlalchemy.orm import Session

from clikopro_chassis import idempotency
from clikopro_chassis.context import current_causation_id, current_correlation_id
from clikopro_chassis.db import Database
from clikopro_chassis.outbox import add_to_outbox, notify_relay
from clikopro_contracts import Event, make_event


class UnitOfWork:
    def __init__(self, database: Database, *, producer: str, session: Session | None = None) -> None:
        self.database = database
        self.producer = producer
        self._joined = session
        self._committed = False
        self._notified = False
        self.events: list[Event] = []

    @classmethod
    def joined(cls, database: Database, *, producer: str, session: Session) -> Self:
        """A unit of work inside a transaction someone else commits (an event handler's batch)."""
        return cls(database, producer=producer, session=session)

    def __enter__(self) -> Self:
        self.session = self._joined if self._joined is not None else self.database.session()
        self._committed = False
        self.events = []
        self.bind(self.session)
        return self

    def bind(self, session: Session) -> None:
        """Build repositories on ``session``; the default unit of work has none."""

    def publish(self, type_: str, data: Mapping[str, Any], *, version: int | None = None) -> Event:
        """Emit an event of this service, committed (or not) with the rest of the work."""
        # make_event refuses an event this service is not a producer of.
        event = make_event(
            type_,
            data,
            version=version,
            producer=self.producer,
            correlation_id=current_correlation_id(),
            causation_id=current_causation_id(),
        )
        add_to_outbox(self.session, event)
        if not self._notified:
            notify_relay(self.session)
            self._notified = True
        self.events.append(event)
        return event

    def commit(self) -> None:
        if self._joined is not None:
            self.session.flush()  # the batch owner commits
        else:
            # An HTTP request with an Idempotency-Key claims it with its effect, atomically.
            idempotency.claim_in(self.session)
            self.session.commit()
        self._committed = True
        self._notified = False

    def commit_step(self) -> None:
        """Commit a preparatory step of a request whose effect commits later (a lease taken
        before calling Stripe, say). Unlike :meth:`commit`, it does not claim the request's
        Idempotency-Key, which must be claimed with the effect: a request that fails after
        this step can then be retried with the same key."""
        if self._joined is not None:
            self.session.flush()
        else:
            self.session.commit()
        self._notified = False

    def rollback(self) -> None:
        if self._joined is None:
            self.session.rollback()
        self.events = []
        self._notified = False

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._joined is not None:
            return  # a joined unit of work neither rolls back nor closes what it does not own
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
