from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_trust_safety.adapters.repositories import (
    AuditRepository,
    IncidentRepository,
    MessageRepository,
    MissionRepository,
    TaskRepository,
)
from clikopro_trust_safety.settings import TrustSafetySettings


class TrustSafetyUnitOfWork(UnitOfWork):
    """The trust-safety service's unit of work."""

    missions: MissionRepository
    tasks: TaskRepository
    incidents: IncidentRepository
    messages: MessageRepository
    audit: AuditRepository
    #: Set by the bootstrap: event handlers read the service's settings and clock through it.
    settings: TrustSafetySettings
    clock: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        return self.clock()

    def bind(self, session: Session) -> None:
        self.missions = MissionRepository(session)
        self.tasks = TaskRepository(session)
        self.incidents = IncidentRepository(session)
        self.messages = MessageRepository(session)
        self.audit = AuditRepository(session)
