"""Wiring of the payments service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_payments import SERVICE
from clikopro_payments.adapters.stripe_gateway import SdkStripe, StripePort
from clikopro_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from clikopro_payments.settings import PaymentsSettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: PaymentsSettings
    database: Database
    stripe: StripePort
    now: Callable[[], dt.datetime] = utcnow

    def _configure(self, uow: PaymentsUnitOfWork) -> PaymentsUnitOfWork:
        uow.default_commission_bps = self.settings.default_commission_bps
        uow.clock = self.now
        return uow

    def uow(self) -> PaymentsUnitOfWork:
        return self._configure(PaymentsUnitOfWork(self.database, producer=SERVICE))

    def joined_uow(self, session: Session) -> PaymentsUnitOfWork:
        return self._configure(PaymentsUnitOfWork.joined(self.database, producer=SERVICE, session=session))


def stripe_from(settings: PaymentsSettings) -> SdkStripe:
    # Builds no connection: the SDK client is made on first use.
    return SdkStripe.from_settings(settings)


def bootstrap(settings: PaymentsSettings | None = None) -> Services:
    settings = settings or PaymentsSettings.from_env(SERVICE)
    return Services(settings=settings, database=Database(settings.database_url), stripe=stripe_from(settings))
