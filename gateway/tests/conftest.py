"""A gateway in front of fake services, over real HTTP, fed with events on an in-process broker."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.queues import publish_raw
from clikopro_chassis.testing.services import INTERNAL_TEST_TOKEN
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_contracts import make_event
from clikopro_gateway.app import create_app
from clikopro_gateway.routes import UPSTREAMS
from clikopro_gateway.settings import GatewaySettings


@dataclass
class FakeServices:
    """Every service at once: records what reaches it and answers with an echo."""

    received: list[dict[str, Any]] = field(default_factory=list)
    suspensions: list[dict[str, Any]] = field(default_factory=list)
    #: pro_id -> entitlements answer of subscriptions' internal route (absent: 404).
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    plan_reads: int = 0
    #: What the services' internal routes require in X-Internal-Token, as the real ones do.
    internal_token: str = INTERNAL_TEST_TOKEN

    def app(self) -> Starlette:
        def refused(request: Request) -> JSONResponse | None:
            if request.headers.get("x-internal-token") == self.internal_token:
                return None
            return JSONResponse({"code": "unauthenticated"}, status_code=401)

        async def internal_suspensions(request: Request) -> JSONResponse:
            if (refusal := refused(request)) is not None:
                return refusal
            return JSONResponse({"items": self.suspensions})

        async def internal_entitlements(request: Request) -> JSONResponse:
            if (refusal := refused(request)) is not None:
                return refusal
            self.plan_reads += 1
            plan = self.plans.get(request.path_params["pro_id"])
            if plan is None:
                return JSONResponse({"code": "not_found"}, status_code=404)
            return JSONResponse(plan)

        async def echo(request: Request) -> Response:
            body = await request.body()
            self.received.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "headers": dict(request.headers),
                    "body": body,
                }
            )
            return JSONResponse({"reached": request.url.path, "method": request.method}, status_code=200)

        async def openapi(_request: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "openapi": "3.0.3",
                    "paths": {
                        "/api/v1/auth/token": {
                            "post": {
                                "operationId": "token",
                                "requestBody": {"content": {"application/json": {"schema": {}}}},
                                "responses": {},
                            }
                        },
                        "/api/v1/me": {"get": {"operationId": "me", "security": [{"bearerAuth": []}]}},
                        "/api/v1/pros/{id}/reviews": {"get": {"operationId": "reviews"}},
                        "/api/v1/missions/{id}/proposals": {"post": {"operationId": "propose"}},
                    },
                    "components": {
                        "securitySchemes": {
                            "bearerAuth": {
                                "type": "http",
                                "scheme": "bearer",
                                "x-bearerInfoFunc": "clikopro_chassis.web.security.bearer_info",
                            }
                        }
                    },
                }
            )

        async def ready(_request: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        async def download(_request: Request) -> StreamingResponse:
            async def pdf() -> AsyncIterator[bytes]:
                for n in range(40):
                    yield bytes([n]) * 65536

            return StreamingResponse(pdf(), media_type="application/pdf", headers={"x-pages": "40"})

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[
                Route("/internal/suspensions", internal_suspensions),
                Route("/internal/entitlements/{pro_id}", internal_entitlements),
                Route("/openapi.json", openapi),
                Route("/ready", ready),
                Route("/api/v1/missions/big/invoices/download", download),
                Route("/{path:path}", echo, methods=methods),
            ]
        )

    def paths(self) -> list[str]:
        return [r["path"] for r in self.received]


@dataclass
class Edge:
    url: str
    settings: GatewaySettings
    services: FakeServices
    issuer: TokenFactory
    broker_url: str
    prefix: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=10, **kwargs)

    def publish(self, event_type: str, data: dict[str, Any], producer: str) -> None:
        event = make_event(event_type, data, producer=producer, correlation_id=str(uuid.uuid4()))
        publish_raw(self.broker_url, self.prefix, event.to_dict())

    def suspend(self, user_id: uuid.UUID, *, at: dt.datetime | None = None, until: dt.datetime | None = None):
        data = {"user_id": user_id, "reason": "test", "until": until, "suspended_by": None,
                "suspended_at": at or dt.datetime.now(dt.UTC)}  # fmt: skip
        self.publish("AccountSuspended", data, "trust-safety")

    def reinstate(self, user_id: uuid.UUID, *, at: dt.datetime | None = None) -> None:
        data = {"user_id": user_id, "reinstated_by": None, "reinstated_at": at or dt.datetime.now(dt.UTC)}
        self.publish("AccountReinstated", data, "trust-safety")

    def plan(self, event_type: str, pro_id: uuid.UUID, features: list[str], **extra: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        paid = bool(features)
        data = {
            "subscription_id": uuid.uuid4(),
            "pro_id": pro_id,
            "plan": "pro" if paid else "free",
            "features": features,
            "proposals_per_month": None if "unlimited_proposals" in features else 5,
            "commission_rate_bps": 800,
            "period_start": now - dt.timedelta(days=1),
            "period_end": now + dt.timedelta(days=365) if paid else None,
            "effective_at": now,
            **extra,
        }
        self.publish(event_type, data, "subscriptions")


@pytest.fixture
def fake_services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[TokenFactory]:
    factory = TokenFactory(tmp_path / "jwks")
    yield factory
    factory.close()


@pytest.fixture
def make_edge(
    fake_services: FakeServices, issuer: TokenFactory
) -> Iterator[Callable[..., contextlib.AbstractContextManager[Edge]]]:
    stack = contextlib.ExitStack()

    @contextlib.contextmanager
    def start(upstreams: dict[str, str] | None = None, **overrides: Any) -> Iterator[Edge]:
        """A gateway whose services are all the fake one, except those given in ``upstreams``."""
        upstream = stack.enter_context(serve(fake_services.app()))
        prefix = f"t{uuid.uuid4().hex[:8]}"
        broker_url = "memory://"
        defaults: dict[str, Any] = {
            "jwks_url": issuer.jwks_url,
            "jwks_refresh_cooldown_seconds": 0.0,
            "broker_url": broker_url,
            "bus_prefix": prefix,
            "instance": "test",
            "log_format": "text",
            "upstream_timeout": 2.0,
            "internal_api_token": fake_services.internal_token,
        }
        settings = GatewaySettings(
            upstreams={service: upstream for service in UPSTREAMS} | (upstreams or {}),
            **(defaults | overrides),
        )
        with serve(create_app(settings)) as url:
            yield Edge(url, settings, fake_services, issuer, broker_url, prefix)

    yield start
    stack.close()


@pytest.fixture
def edge(make_edge) -> Iterator[Edge]:
    with make_edge() as running:
        yield running
