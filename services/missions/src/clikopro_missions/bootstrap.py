"""Wiring of the missions service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_missions import SERVICE
from clikopro_missions.adapters.storage import InvoiceStorage, LocalDirectoryStorage
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork
from clikopro_missions.settings import MissionsSettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: MissionsSettings
    database: Database
    #: The clock of every rule (quota month, due dates, task deadlines); tests move it.
    now: Callable[[], dt.datetime] = utcnow
    storage: InvoiceStorage = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.storage is None:
            self.storage = LocalDirectoryStorage(self.settings.invoice_directory)

    def _configure(self, uow: MissionsUnitOfWork) -> MissionsUnitOfWork:
        uow.task_auto_validate_days = self.settings.task_auto_validate_days
        return uow

    def uow(self) -> MissionsUnitOfWork:
        return self._configure(MissionsUnitOfWork(self.database, producer=SERVICE))

    def joined_uow(self, session: Session) -> MissionsUnitOfWork:
        return self._configure(MissionsUnitOfWork.joined(self.database, producer=SERVICE, session=session))


def bootstrap(settings: MissionsSettings | None = None) -> Services:
    settings = settings or MissionsSettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
