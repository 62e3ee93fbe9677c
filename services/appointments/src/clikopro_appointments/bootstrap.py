"""Wiring of the appointments service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clikopro_appointments import SERVICE
from clikopro_appointments.service_layer.unit_of_work import AppointmentsUnitOfWork
from clikopro_appointments.settings import AppointmentsSettings
from clikopro_chassis.db import Database


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: AppointmentsSettings
    database: Database
    now: Callable[[], dt.datetime] = utcnow

    def uow(self) -> AppointmentsUnitOfWork:
        return AppointmentsUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> AppointmentsUnitOfWork:
        return AppointmentsUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def bootstrap(settings: AppointmentsSettings | None = None) -> Services:
    settings = settings or AppointmentsSettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
