from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clikopro_chassis.testing.services import INTERNAL_TEST_TOKEN, migrated_sqlite
from clikopro_identity.bootstrap import Services, bootstrap
from clikopro_identity.entrypoints.web import build
from clikopro_identity.settings import IdentitySettings


@pytest.fixture
def services(tmp_path: Path) -> Services:
    url = migrated_sqlite("clikopro_identity", tmp_path)
    env = {"DATABASE_URL": url, "BROKER_URL": "memory://", "INTERNAL_API_TOKEN": INTERNAL_TEST_TOKEN}
    return bootstrap(IdentitySettings.from_env("identity", env))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(build(services)) as client:
        yield client
