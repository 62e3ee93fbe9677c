"""Where the tests find PostgreSQL, RabbitMQ and Redis.

``TEST_POSTGRES_URL`` (a server URL whose user may create databases),
``TEST_BROKER_URL`` and ``TEST_REDIS_URL`` name servers to use; if one is set but unreachable the
run fails loudly. Unset, a Docker engine gives throwaway containers
(testcontainers); with neither, tests that need the server are skipped with
the reason (pure logic still runs on SQLite and kombu's memory transport).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import pytest


class ServerUnreachable(RuntimeError):
    pass


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    with suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    return False


class Servers:
    """Lazily resolves each server once per test session."""

    def __init__(self) -> None:
        self._urls: dict[str, str] = {}
        self._containers: list[object] = []

    def _resolve(self, name: str, variable: str, port: int, container: Callable[[], tuple[Any, str]]) -> str:
        """The URL ``variable`` names (which must answer), else a container's, else a skip."""
        if name not in self._urls:
            url = os.environ.get(variable)
            if url:
                if not _reachable(url, port):
                    raise ServerUnreachable(f"{variable}={url} is not reachable")
            elif docker_available():
                started, url = container()
                self._containers.append(started)
            else:
                pytest.skip(f"no {name}: set {variable} or run a Docker engine")
            self._urls[name] = url
        return self._urls[name]

    def postgres(self) -> str:
        def start() -> tuple[Any, str]:
            from testcontainers.postgres import PostgresContainer

            container = PostgresContainer("postgres:16-alpine", driver=None)
            container.start()
            return container, container.get_connection_url()

        return self._resolve("PostgreSQL", "TEST_POSTGRES_URL", 5432, start)

    def broker(self) -> str:
        def start() -> tuple[Any, str]:
            from testcontainers.rabbitmq import RabbitMqContainer

            container = RabbitMqContainer("rabbitmq:3.13-management-alpine")
            container.start()
            params = container.get_connection_params()
            return container, f"amqp://guest:guest@{params.host}:{params.port}//"

        return self._resolve("RabbitMQ", "TEST_BROKER_URL", 5672, start)

    def redis(self) -> str:
        def start() -> tuple[Any, str]:
            from testcontainers.community.redis import RedisContainer

            container = RedisContainer("redis:7-alpine")
            container.start()
            host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
            return container, f"redis://{host}:{port}/0"

        return self._resolve("Redis", "TEST_REDIS_URL", 6379, start)

    def stop(self) -> None:
        for container in self._containers:
            with suppress(Exception):
                container.stop()  # type: ignore[attr-defined]
