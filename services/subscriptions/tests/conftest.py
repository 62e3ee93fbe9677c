"""Fixtures of the subscriptions tests: the service on SQLite (or PostgreSQL) behind real HTTP, the
real ``stripe`` SDK against the local Stripe emulator (one process per run, wiped before each test:
the ``stripe_emulator`` fixture of its pytest plugin, shared with payments) whose signed webhooks reach
the service, tokens signed like identity's, and one clock for the service and the emulator."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from subscriptions_helpers import WEBHOOK_PATH, WEBHOOK_SECRET, Api, Clock, make_services

from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.services import migrated_postgres as migrated_postgres_database
from clikopro_chassis.testing.services import migrated_sqlite, truncate_all
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_stripe_emulator import StripeEmulator
from clikopro_subscriptions.adapters.orm import metadata
from clikopro_subscriptions.bootstrap import Services
from clikopro_subscriptions.entrypoints.web import build


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenFactory]:
    factory = TokenFactory(tmp_path_factory.mktemp("jwks"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_databases) -> str:
    return migrated_postgres_database(postgres_databases, "clikopro_subscriptions")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return migrated_sqlite("clikopro_subscriptions", tmp_path)
    return request.getfixturevalue("migrated_postgres")


@pytest.fixture
def clock(stripe_emulator: StripeEmulator) -> Clock:
    return Clock(stripe_emulator)


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, issuer: TokenFactory, clock: Clock, stripe_emulator: StripeEmulator
) -> Iterator[Services]:
    services = make_services(database_url, stripe_emulator, issuer, clock, tmp_path)
    if services.database.is_postgres:
        truncate_all(services.database, metadata)
    yield services
    services.database.dispose()


@pytest.fixture
def api(
    services: Services, issuer: TokenFactory, clock: Clock, stripe_emulator: StripeEmulator
) -> Iterator[Api]:
    with serve(build(services)) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        webhook_url = base_url + WEBHOOK_PATH
        stripe_emulator.add_webhook(f"subscriptions-{uuid.uuid4().hex[:6]}", webhook_url, WEBHOOK_SECRET)
        yield Api(http, issuer, services, clock, stripe_emulator, webhook_url)
