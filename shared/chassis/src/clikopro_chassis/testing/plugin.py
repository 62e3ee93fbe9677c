"""The chassis pytest plugin: servers, per-run databases and bus namespaces.

Fixtures:
- ``postgres_databases``: creates databases for this run on the test server
  (``postgres_databases.create("identity")`` -> URL), dropped at the end;
- ``broker_url`` and ``bus``: the RabbitMQ URL and a per-run name prefix
  (``bus.prefix``, ``bus.topology(service)``), queues deleted at the end;
- ``redis_url``: the Redis URL (callers keep their keys under a per-run prefix);
- ``wait_until``: poll for an asynchronous effect.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clikopro_chassis.testing.resources import BusNamespace, PostgresDatabases, run_id
from clikopro_chassis.testing.servers import Servers
from clikopro_chassis.testing.waiting import wait_until as _wait_until


@pytest.fixture(scope="session")
def test_servers() -> Iterator[Servers]:
    servers = Servers()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def test_run_id() -> str:
    return run_id()


@pytest.fixture(scope="session")
def postgres_databases(test_servers: Servers, test_run_id: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(test_servers.postgres(), test_run_id)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def broker_url(test_servers: Servers) -> str:
    return test_servers.broker()


@pytest.fixture(scope="session")
def redis_url(test_servers: Servers) -> str:
    return test_servers.redis()


@pytest.fixture
def bus(broker_url: str) -> Iterator[BusNamespace]:
    namespace = BusNamespace(broker_url, run_id())
    yield namespace
    namespace.cleanup()


@pytest.fixture
def wait_until():
    return _wait_until
