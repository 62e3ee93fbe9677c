"""Wiring of the identity service: the one place that builds its dependencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_identity import SERVICE
from clikopro_identity.adapters.keys import KeyStore
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork
from clikopro_identity.settings import IdentitySettings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: IdentitySettings
    database: Database
    keys: KeyStore
    now: Callable[[], dt.datetime] = utcnow
    #: argon2id with the library's defaults (RFC 9106 "low memory" profile).
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def uow(self) -> IdentityUnitOfWork:
        return IdentityUnitOfWork(self.database, producer=SERVICE)

    def joined_uow(self, session: Session) -> IdentityUnitOfWork:
        return IdentityUnitOfWork.joined(self.database, producer=SERVICE, session=session)


def bootstrap(settings: IdentitySettings | None = None) -> Services:
    settings = settings or IdentitySettings.from_env(SERVICE)
    database = Database(settings.database_url)
    keys = KeyStore(
        database,
        # A replaced key stays published until every token it signed has expired (+ leeway).
        overlap=settings.access_token_ttl + dt.timedelta(minutes=1),
        passphrase=settings.signing_key_passphrase,
    )
    return Services(settings=settings, database=database, keys=keys)
