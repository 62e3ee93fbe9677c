"""Wiring of the subscriptions service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_subscriptions import SERVICE
from clikopro_subscriptions.adapters.stripe_billing import SdkStripeBilling, StripeBilling
from clikopro_subscriptions.domain.plans import Catalog, parse_catalog
from clikopro_subscriptions.service_layer.unit_of_work import SubscriptionsUnitOfWork
from clikopro_subscriptions.settings import SubscriptionsSettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: SubscriptionsSettings
    database: Database
    catalog: Catalog
    stripe: StripeBilling
    #: The clock of every rule (periods, reminders, retry window, leases); tests move it.
    now: Callable[[], dt.datetime] = utcnow

    def uow(self) -> SubscriptionsUnitOfWork:
        return SubscriptionsUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> SubscriptionsUnitOfWork:
        return SubscriptionsUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def load_catalog(settings: SubscriptionsSettings) -> Catalog:
    if settings.plans_file:
        return parse_catalog(Path(settings.plans_file).read_text(encoding="utf-8"))
    return parse_catalog(resources.files("clikopro_subscriptions").joinpath("plans.yaml").read_text("utf-8"))


def stripe_from(settings: SubscriptionsSettings) -> SdkStripeBilling:
    # Builds no connection: the SDK client is made on first use.
    return SdkStripeBilling.from_settings(settings)


def bootstrap(settings: SubscriptionsSettings | None = None) -> Services:
    settings = settings or SubscriptionsSettings.from_env(SERVICE)
    return Services(
        settings=settings,
        database=Database(settings.database_url),
        catalog=load_catalog(settings),
        stripe=stripe_from(settings),
    )
