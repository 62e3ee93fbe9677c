"""Wiring of the reputation service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_reputation import SERVICE
from clikopro_reputation.service_layer.unit_of_work import ReputationUnitOfWork
from clikopro_reputation.settings import ReputationSettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: ReputationSettings
    database: Database
    now: Callable[[], dt.datetime] = utcnow

    def uow(self) -> ReputationUnitOfWork:
        return ReputationUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> ReputationUnitOfWork:
        return ReputationUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def bootstrap(settings: ReputationSettings | None = None) -> Services:
    settings = settings or ReputationSettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
