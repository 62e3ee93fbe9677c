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
from contextlib import suppress
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
        self._postgres: str | None = None
        self._broker: str | None = None
        self._redis: str | None = None
        self._containers: list[object] = []

    def postgres(self) -> str:
        if self._postgres is None:
            url = os.environ.get("TEST_POSTGRES_URL")
            if url:
                if not _reachable(url, 5432):
                    raise ServerUnreachable(f"TEST_POSTGRES_URL={url} is not reachable")
            elif docker_available():
                from testcontainers.postgres import PostgresContainer

                container = PostgresContainer("postgres:16-alpine", driver=None)
                container.start()
                self._containers.append(container)
                url = container.get_connection_url()
            else:
                pytest.skip("no PostgreSQL: set TEST_POSTGRES_URL or run a Docker engine")
            self._postgres = url
        return self._postgres

    def broker(self) -> str:
        if self._broker is None:
            url = os.environ.get("TEST_BROKER_URL")
            if url:
                if not _reachable(url, 5672):
                    raise ServerUnreachable(f"TEST_BROKER_URL={url} is not reachable")
            elif docker_available():
                from testcontainers.rabbitmq import RabbitMqContainer

                container = RabbitMqContainer("rabbitmq:3.13-management-alpine")
                container.start()
                self._containers.append(container)
                params = container.get_connection_params()
                url = f"amqp://guest:guest@{params.host}:{params.port}//"
            else:
                pytest.skip("no RabbitMQ: set TEST_BROKER_URL or run a Docker engine")
            self._broker = url
        return self._broker

    def redis(self) -> str:
        if self._redis is None:
            url = os.environ.get("TEST_REDIS_URL")
            if url:
                if not _reachable(url, 6379):
                    raise ServerUnreachable(f"TEST_REDIS_URL={url} is not reachable")
            elif docker_available():
                from testcontainers.community.redis import RedisContainer

                container = RedisContainer("redis:7-alpine")
                container.start()
                self._containers.append(container)
                host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
                url = f"redis://{host}:{port}/0"
            else:
                pytest.skip("no Redis: set TEST_REDIS_URL or run a Docker engine")
            self._redis = url
        return self._redis

    def stop(self) -> None:
        for container in self._containers:
            with suppress(Exception):
                container.stop()  # type: ignore[attr-defined]
