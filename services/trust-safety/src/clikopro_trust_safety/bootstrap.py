"""Wiring of the trust-safety service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_trust_safety import SERVICE
from clikopro_trust_safety.adapters.storage import AttachmentStorage, LocalDirectoryStorage
from clikopro_trust_safety.service_layer.unit_of_work import TrustSafetyUnitOfWork
from clikopro_trust_safety.settings import TrustSafetySettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: TrustSafetySettings
    database: Database
    #: The clock of every rule (answer deadlines, overdue flags); tests move it.
    now: Callable[[], dt.datetime] = utcnow
    storage: AttachmentStorage = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.storage is None:
            self.storage = LocalDirectoryStorage(self.settings.attachment_directory)

    def _configure(self, uow: TrustSafetyUnitOfWork) -> TrustSafetyUnitOfWork:
        uow.settings = self.settings
        uow.clock = lambda: self.now()
        return uow

    def uow(self) -> TrustSafetyUnitOfWork:
        return self._configure(TrustSafetyUnitOfWork(self.database, producer=SERVICE))

    def joined_uow(self, session: Session) -> TrustSafetyUnitOfWork:
        return self._configure(TrustSafetyUnitOfWork.joined(self.database, producer=SERVICE, session=session))


def bootstrap(settings: TrustSafetySettings | None = None) -> Services:
    settings = settings or TrustSafetySettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
