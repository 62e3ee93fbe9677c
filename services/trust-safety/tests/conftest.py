"""Fixtures of the trust-safety tests: the service on SQLite or PostgreSQL behind real HTTP, tokens
signed like identity's, a clock the tests move."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from trust_safety_helpers import Api, Clock, make_services

from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.services import migrated_postgres as migrated_postgres_database
from clikopro_chassis.testing.services import migrated_sqlite, truncate_all
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_trust_safety.adapters.orm import metadata
from clikopro_trust_safety.bootstrap import Services
from clikopro_trust_safety.entrypoints.web import build


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenFactory]:
    factory = TokenFactory(tmp_path_factory.mktemp("jwks"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_databases) -> str:
    return migrated_postgres_database(postgres_databases, "clikopro_trust_safety")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return migrated_sqlite("clikopro_trust_safety", tmp_path)
    return request.getfixturevalue("migrated_postgres")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(database_url: str, tmp_path: Path, issuer: TokenFactory, clock: Clock) -> Iterator[Services]:
    services = make_services(database_url, tmp_path, issuer, clock)
    if services.database.is_postgres:
        truncate_all(services.database, metadata)
    yield services
    services.database.dispose()


@pytest.fixture
def api(services: Services, issuer: TokenFactory, clock: Clock) -> Iterator[Api]:
    with serve(build(services)) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield Api(http, issuer, services, clock)
