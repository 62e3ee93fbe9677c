"""Wiring of the subscriptions service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_subscriptions import SERVICE
from clikopro_subscriptions.service_layer.unit_of_work import SubscriptionsUnitOfWork
from clikopro_subscriptions.settings import SubscriptionsSettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: SubscriptionsSettings
    database: Database
    now: Callable[[], dt.datetime] = utcnow

    def uow(self) -> SubscriptionsUnitOfWork:
        return SubscriptionsUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> SubscriptionsUnitOfWork:
        return SubscriptionsUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def bootstrap(settings: SubscriptionsSettings | None = None) -> Services:
    settings = settings or SubscriptionsSettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url))
