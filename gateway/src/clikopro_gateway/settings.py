from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clikopro_gateway.routes import UPSTREAMS


def _default_upstreams(env: Mapping[str, str]) -> dict[str, str]:
    """``<SERVICE>_URL`` per service (``TRUST_SAFETY_URL``), else the local-run ports."""
    urls = {}
    for service, port in UPSTREAMS.items():
        key = service.upper().replace("-", "_") + "_URL"
        urls[service] = (env.get(key) or f"http://127.0.0.1:{port}").rstrip("/")
    return urls


@dataclass(frozen=True)
class GatewaySettings:
    upstreams: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait for a service's answer before 504.
    upstream_timeout: float = 10.0
    connect_timeout: float = 2.0
    #: A pooled connection to a service idle longer than this is not reused: keep it below the
    #: services' keep-alive timeout (gunicorn's default is 2 s; the images set 75 s).
    upstream_idle_expiry: float = 1.5
    max_body_bytes: int = 10 * 1_048_576
    log_level: str = "INFO"
    log_format: str = "json"
    cors_origins: tuple[str, ...] = ()
    #: Identity's public keys (default: ``<IDENTITY_URL>/.well-known/jwks.json``).
    jwks_url: str = ""
    #: Least seconds between two JWKS refetches caused by an unknown key id.
    jwks_refresh_cooldown_seconds: float = 30.0
    #: The event bus, for suspensions and plan changes (same variables as the services).
    broker_url: str = ""
    bus_prefix: str = "clikopro"
    #: Names this process's event queue; default: host, pid and a random part (each replica and
    #: each worker process has its own queue, as each keeps its own copy of the state).
    instance: str = ""
    #: Rate limits in the ``limits`` notation ("600/minute"); empty disables one.
    rate_limit_per_ip: str = "1200/minute"
    rate_limit_per_user: str = "600/minute"
    #: Shared counters for several gateway replicas; unset: in this process's memory.
    redis_url: str = ""
    #: How long a plan read from subscriptions (not from an event) is trusted.
    entitlements_read_ttl: float = 60.0
    #: How long "free plan" is assumed after subscriptions did not answer, before asking again.
    entitlements_unreachable_ttl: float = 5.0
    #: Seconds allowed for subscriptions' and identity's internal reads.
    internal_timeout: float = 1.0
    #: Shared secret presented to identity's and subscriptions' internal routes.
    internal_api_token: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip())
        upstreams = _default_upstreams(env)
        data_dir = Path(env.get("DATA_DIR") or "var")
        return cls(
            upstreams=upstreams,
            upstream_timeout=float(env.get("UPSTREAM_TIMEOUT", 10.0)),
            connect_timeout=float(env.get("UPSTREAM_CONNECT_TIMEOUT", 2.0)),
            upstream_idle_expiry=float(env.get("UPSTREAM_IDLE_EXPIRY", 1.5)),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", 10 * 1_048_576)),
            log_level=env.get("LOG_LEVEL", "INFO"),
            log_format=env.get("LOG_FORMAT", "json"),
            cors_origins=origins,
            jwks_url=env.get("JWKS_URL") or f"{upstreams['identity']}/.well-known/jwks.json",
            jwks_refresh_cooldown_seconds=float(env.get("JWKS_REFRESH_COOLDOWN_SECONDS", 30.0)),
            broker_url=env.get("BROKER_URL") or f"filesystem://{(data_dir / 'broker').resolve()}",
            bus_prefix=env.get("BUS_PREFIX") or "clikopro",
            instance=env.get("GATEWAY_INSTANCE", ""),
            rate_limit_per_ip=env.get("RATE_LIMIT_PER_IP", cls.rate_limit_per_ip),
            rate_limit_per_user=env.get("RATE_LIMIT_PER_USER", cls.rate_limit_per_user),
            redis_url=env.get("REDIS_URL", ""),
            entitlements_read_ttl=float(env.get("ENTITLEMENTS_READ_TTL", 60.0)),
            entitlements_unreachable_ttl=float(env.get("ENTITLEMENTS_UNREACHABLE_TTL", 5.0)),
            internal_timeout=float(env.get("INTERNAL_TIMEOUT", 1.0)),
            internal_api_token=env.get("INTERNAL_API_TOKEN", ""),
        )

    def instance_name(self) -> str:
        return self.instance or f"{socket.gethostname()}-{os.getpid()}"
