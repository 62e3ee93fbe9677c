"""Configuration from environment variables, built in one place.

Nothing here connects to anything: settings are plain values, read when a
process starts (``Settings.from_env``), so that importing a module never
reaches a database or a broker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Self


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _as_int_list(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Settings every service and worker shares.

    Each field reads the environment variable of the same name in upper case
    (``database_url`` <- ``DATABASE_URL``). A service subclasses this to add
    its own fields; the same rule applies to them.
    """

    service: str
    #: SQLAlchemy URL of the service's own database; ``postgresql://`` uses psycopg 3.
    database_url: str = ""
    #: kombu URL: ``amqp://...`` for RabbitMQ, ``filesystem:///dir`` or ``memory://``.
    broker_url: str = ""
    #: Prefix of every exchange and queue name, so that test runs and tenants never collide.
    bus_prefix: str = "clikopro"
    #: ``quorum`` on RabbitMQ (replicated, delivery limit); ``classic`` where unsupported.
    bus_queue_type: str = "quorum"
    consumer_prefetch: int = 100
    consumer_batch_size: int = 50
    #: Back-off before each retry of a failed handler, in milliseconds; its
    #: length is the number of retries before the dead-letter queue.
    consumer_retry_delays_ms: tuple[int, ...] = (500, 5_000, 30_000)
    #: RabbitMQ dead-letters a message redelivered this many times (a worker
    #: crash loop), so that a poison message cannot stop a queue forever.
    consumer_delivery_limit: int = 20
    relay_batch_size: int = 500
    #: Safety poll of the relay; PostgreSQL also wakes it with NOTIFY on commit.
    relay_poll_interval_ms: int = 1_000
    #: Published outbox rows are kept this long for audit, then deleted.
    outbox_retention_hours: int = 72
    #: Processed-event ids are kept this long to recognise redeliveries, then deleted.
    inbox_retention_days: int = 30
    log_level: str = "INFO"
    log_format: str = "json"
    max_body_bytes: int = 1_048_576
    validate_responses: bool = False
    #: Port of the worker's Prometheus endpoint; 0 disables it.
    worker_metrics_port: int = 0
    #: Identity's public keys, to verify access tokens (file:// works for tests).
    jwks_url: str = "http://127.0.0.1:8101/.well-known/jwks.json"
    #: Least seconds between two JWKS refetches caused by an unknown key id.
    jwks_refresh_cooldown_seconds: int = 30
    #: Shared secret that callers of the ``/internal/...`` routes (the gateway) present in
    #: ``X-Internal-Token``; unset, those routes refuse everyone (closed by default).
    internal_api_token: str = ""
    #: Where a local run keeps its SQLite files and broker folders.
    data_dir: str = "var"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        env = os.environ if env is None else env
        values: dict[str, Any] = {"service": service}
        for f in fields(cls):
            if f.name == "service":
                continue
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f, raw)
        values.update(overrides)
        settings = cls(**values)
        return settings.with_local_defaults()

    def with_local_defaults(self) -> Self:
        """Fill unset URLs with the embedded defaults (SQLite file, filesystem broker)."""
        data_dir = Path(self.data_dir)
        changes: dict[str, Any] = {}
        if not self.database_url:
            changes["database_url"] = f"sqlite:///{data_dir / (self.service + '.sqlite3')}"
        if not self.broker_url:
            changes["broker_url"] = f"filesystem://{(data_dir / 'broker').resolve()}"
        return self.replace(**changes) if changes else self

    def replace(self, **changes: Any) -> Self:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return type(self)(**values)


def _convert(f: Any, raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind == "bool":
        return _as_bool(raw)
    if kind == "int":
        return int(raw)
    if kind.startswith("tuple[int"):
        return _as_int_list(raw)
    return raw


def setting(default: Any = None, **kwargs: Any) -> Any:
    """A field for service settings subclasses (keeps them frozen dataclasses)."""
    return field(default=default, **kwargs)
