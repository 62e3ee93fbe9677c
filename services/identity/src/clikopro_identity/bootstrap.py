"""Wiring of the identity service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_identity import SERVICE
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork
from clikopro_identity.settings import IdentitySettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: IdentitySettings
    database: Database
    now: Callable[[], dt.datetime] = utcnow

    def uow(self) -> IdentityUnitOfWork:
        return IdentityUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> IdentityUnitOfWork:
        return IdentityUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def bootstrap(settings: IdentitySettings | None = None) -> Services:
    settings = settings or IdentitySettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
