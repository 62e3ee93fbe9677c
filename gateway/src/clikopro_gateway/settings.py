from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from clikopro_gateway.routes import UPSTREAMS


def _default_upstreams(env: Mapping[str, str]) -> dict[str, str]:
    """``<SERVICE>_URL`` per service (``TRUST_SAFETY_URL``), else the local-run ports."""
    urls = {}
    for service, port in UPSTREAMS.items():
        key = service.upper().replace("-", "_") + "_URL"
        urls[service] = env.get(key) or f"http://127.0.0.1:{port}"
    return urls


@dataclass(frozen=True)
class GatewaySettings:
    upstreams: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait for a service's answer before 504.
    upstream_timeout: float = 10.0
    connect_timeout: float = 2.0
    max_body_bytes: int = 10 * 1_048_576
    log_level: str = "INFO"
    log_format: str = "json"
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            upstreams=_default_upstreams(env),
            upstream_timeout=float(env.get("UPSTREAM_TIMEOUT", 10.0)),
            connect_timeout=float(env.get("UPSTREAM_CONNECT_TIMEOUT", 2.0)),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", 10 * 1_048_576)),
            log_level=env.get("LOG_LEVEL", "INFO"),
            log_format=env.get("LOG_FORMAT", "json"),
            cors_origins=origins,
        )
