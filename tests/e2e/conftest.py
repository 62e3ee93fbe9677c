"""The whole platform as child processes, for end-to-end tests.

The ``platform`` fixture starts exactly what ``make run`` starts
(deploy/local/launcher.py) on free ports, on the embedded default and, for
integration runs, on this run's PostgreSQL databases and RabbitMQ names.
"""

from __future__ import annotations

import importlib.util
import os
import random
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from clikopro_chassis.testing.queues import take_all, tap

ROOT = Path(__file__).resolve().parents[2]


def _load_launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "clikopro_launcher", ROOT / "deploy" / "local" / "launcher.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["clikopro_launcher"] = module
    spec.loader.exec_module(module)
    return module


launcher = _load_launcher()


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_offset(base_ports: list[int]) -> int:
    """An offset that moves every port of the platform onto free ones."""
    for _ in range(200):
        offset = random.randrange(10_000, 40_000, 10)
        if all(_free(p + offset) for p in base_ports):
            return offset
    raise RuntimeError("no free ports")


@pytest.fixture(params=["embedded", pytest.param("rabbitmq-postgres", marks=pytest.mark.integration)])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    env: dict[str, str] = {"LOG_LEVEL": "WARNING", "BUS_PREFIX": f"e2e{uuid.uuid4().hex[:6]}"}
    if request.param == "rabbitmq-postgres":
        databases = request.getfixturevalue("postgres_databases")
        bus = request.getfixturevalue("bus")
        for service, _, _ in launcher.SERVICES:
            env[f"{launcher.env_key(service)}_DATABASE_URL"] = databases.create(
                f"{service}_{uuid.uuid4().hex[:4]}"
            )
            bus.topology(service)
        env |= {"BROKER_URL": bus.broker_url, "BUS_PREFIX": bus.prefix}
    ports = [p for _, _, p in launcher.SERVICES] + [8080]
    offset = free_port_offset(ports)
    platform = launcher.Platform(
        data_dir=tmp_path / "data",
        gateway_port=8080 + offset,
        port_offset=offset,
        base_env={**os.environ, **env},
        echo=bool(os.environ.get("E2E_ECHO")),
    )
    platform.migrate()
    platform.plan()
    broker_url = platform.service_env("identity")["BROKER_URL"]
    # A catch-all queue on the exchange: every event published during the test lands here too.
    with tap(broker_url, f"{env['BUS_PREFIX']}.events", f"{env['BUS_PREFIX']}.tap") as queue:
        platform.start()
        try:
            platform.wait_ready(timeout=60)
            platform.tapped = lambda: take_all(broker_url, queue)  # type: ignore[attr-defined]
            yield platform
        finally:
            platform.stop()


@pytest.fixture(scope="module")
def servers_platform(
    request: pytest.FixtureRequest,
    postgres_databases,
    broker_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[object]:
    """The ``make run`` processes on this run's PostgreSQL databases and RabbitMQ names, started once
    for a whole module. Extra environment for every process: the module's ``PLATFORM_ENV``."""
    from clikopro_chassis.testing.resources import BusNamespace, run_id

    bus = BusNamespace(broker_url, run_id())
    env: dict[str, str] = {"LOG_LEVEL": "WARNING", "BROKER_URL": broker_url, "BUS_PREFIX": bus.prefix}
    for service, _, _ in launcher.SERVICES:
        env[f"{launcher.env_key(service)}_DATABASE_URL"] = postgres_databases.create(
            f"{service}_{uuid.uuid4().hex[:4]}"
        )
        bus.topology(service)
    env |= getattr(request.module, "PLATFORM_ENV", {})
    ports = [p for _, _, p in launcher.SERVICES] + [8080]
    offset = free_port_offset(ports)
    platform = launcher.Platform(
        data_dir=tmp_path_factory.mktemp("platform") / "data",
        gateway_port=8080 + offset,
        port_offset=offset,
        base_env={**os.environ, **env},
        echo=bool(os.environ.get("E2E_ECHO")),
    )
    platform.migrate()
    platform.plan()
    platform.start()
    try:
        platform.wait_ready(timeout=60)
        platform.bus = bus  # type: ignore[attr-defined]
        yield platform
    finally:
        platform.stop()
        bus.cleanup()
