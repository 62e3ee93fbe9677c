"""The gateway's ASGI app.

A proxy is I/O-bound, so the gateway is an async Starlette app (not a
connexion/Flask one): it validates nothing of the bodies itself, the owning
service does that against its own spec. For every request, in this order:

1. route: the owning service, else 404;
2. rate limit per client address;
3. unless the route is public: the bearer token (401), the rate limit per
   user (429), the suspended accounts (403 ``account_suspended``), the plan
   entitlements (403 ``plan_required``);
4. forward, with ``X-Request-Id``; a service that is down answers 502/503/504.

The services verify the token again themselves: the gateway is a first line,
not the only one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
import httpx
from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from swagger_ui_bundle import swagger_ui_path

from clikopro_chassis.auth import TokenVerifier
from clikopro_chassis.context import request_id_var
from clikopro_chassis.errors import AppError, NotFound, ServiceUnavailable
from clikopro_chassis.metrics import render_latest
from clikopro_chassis.web.middleware import BodyLimitMiddleware, PathGuardMiddleware, RequestContextMiddleware
from clikopro_gateway import SERVICE
from clikopro_gateway.access import AccountSuspended, EdgeAuthenticator, is_public
from clikopro_gateway.entitlements import EntitlementCache, needs_body, refusal, requirement
from clikopro_gateway.events import EdgeEventListener
from clikopro_gateway.openapi import MergedSpec
from clikopro_gateway.proxy import Forwarder
from clikopro_gateway.ratelimit import EdgeRateLimits
from clikopro_gateway.routes import owner_of
from clikopro_gateway.settings import GatewaySettings
from clikopro_gateway.suspensions import SuspensionSet

SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CLIKOPRO API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui",
  persistAuthorization: true, displayRequestDuration: true});
</script></body></html>"""


EDGE_REFUSALS = Counter(
    "clikopro_gateway_refusals_total", "Requests the gateway answered itself with a problem", ["code"]
)
#: How long start-up waits for identity's list of suspensions before serving anyway (requests
#: that need a token are refused with 503 until it is loaded).
STARTUP_WAIT_SECONDS = 10.0


def problem_response(error: AppError) -> JSONResponse:
    body = error.body()
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type="application/problem+json"
    )


def client_address(request: Request) -> str:
    """The caller's address. The server (uvicorn) already replaced the peer by the
    X-Forwarded-For entry when the peer is a trusted proxy (``FORWARDED_ALLOW_IPS``, by default
    127.0.0.1 only: set it to the load balancer's address in front of the gateway)."""
    return request.client.host if request.client else ""


def create_app(settings: GatewaySettings) -> ASGIApp:
    state: dict[str, object] = {}
    suspensions = SuspensionSet()
    entitlements = EntitlementCache(
        settings.upstreams["subscriptions"],
        read_ttl=settings.entitlements_read_ttl,
        unreachable_ttl=settings.entitlements_unreachable_ttl,
        internal_token=settings.internal_api_token,
    )
    authenticator = EdgeAuthenticator(
        TokenVerifier(settings.jwks_url, refresh_cooldown=settings.jwks_refresh_cooldown_seconds)
    )
    rate_limits = EdgeRateLimits(
        per_ip=settings.rate_limit_per_ip,
        per_user=settings.rate_limit_per_user,
        redis_url=settings.redis_url,
        key_prefix=settings.bus_prefix,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.upstream_timeout, connect=settings.connect_timeout)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        listener = EdgeEventListener(
            broker_url=settings.broker_url,
            prefix=settings.bus_prefix,
            instance=settings.instance_name(),
            identity_url=settings.upstreams["identity"],
            suspensions=suspensions,
            entitlements=entitlements,
            internal_timeout=settings.internal_timeout,
            internal_token=settings.internal_api_token,
        )
        listener.start()
        state["listener"] = listener
        forwarder = Forwarder(
            settings.upstreams,
            connect_timeout=settings.connect_timeout,
            timeout=settings.upstream_timeout,
            idle_expiry=settings.upstream_idle_expiry,
        )
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            state["forwarder"] = forwarder
            state["spec"] = MergedSpec(client, settings.upstreams)
            state["client"] = client
            await anyio.to_thread.run_sync(suspensions.loaded.wait, STARTUP_WAIT_SECONDS)
            try:
                yield
            finally:
                forwarder.close()
                await anyio.to_thread.run_sync(listener.stop)

    async def check_edge(request: Request, path: str, client_ip: str) -> None:
        method = request.method
        await rate_limits.check("ip", client_ip)
        if is_public(method, path):
            return
        principal = await authenticator.authenticate(request.headers.get("authorization"))
        await rate_limits.check("user", str(principal.user_id))
        if not suspensions.loaded.is_set():
            raise ServiceUnavailable(
                "The gateway is starting (loading the suspended accounts); try again shortly.",
                headers={"Retry-After": "2"},
            )
        if suspensions.is_suspended(principal.user_id):
            raise AccountSuspended("This account is suspended.")
        body = await request.body() if needs_body(method, path) else None
        needed = requirement(method, path, principal, body)
        if needed is not None:
            client: httpx.AsyncClient = state["client"]  # type: ignore[assignment]
            plan = await entitlements.of(needed.pro_id, client, settings.internal_timeout)
            problem = refusal(needed, plan, principal)
            if problem is not None:
                raise problem

    async def proxy(request: Request) -> Response:
        path = request.url.path
        service = owner_of(path)
        if service is None:
            raise NotFound(f"No route for {path}.")
        client_ip = client_address(request)
        await check_edge(request, path, client_ip)
        forwarder: Forwarder = state["forwarder"]  # type: ignore[assignment]
        return await forwarder.forward(request, service, client_ip)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": SERVICE})

    async def ready(_request: Request) -> JSONResponse:
        client: httpx.AsyncClient = state["client"]  # type: ignore[assignment]

        async def probe(service: str, url: str) -> tuple[str, str]:
            try:
                response = await client.get(f"{url}/ready", timeout=2.0)
                return service, "ok" if response.status_code == 200 else f"error: {response.status_code}"
            except httpx.HTTPError as exc:
                return service, f"error: {type(exc).__name__}"

        checks = dict(await asyncio.gather(*(probe(s, u) for s, u in settings.upstreams.items())))
        listener: EdgeEventListener = state["listener"]  # type: ignore[assignment]
        checks["events"] = "ok" if listener.ready.is_set() else "error: not consuming"
        checks["suspensions"] = "ok" if suspensions.loaded.is_set() else "error: not loaded"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "service": SERVICE, "checks": checks},
            status_code=200 if ok else 503,
        )

    async def metrics(_request: Request) -> Response:
        payload, content_type = render_latest()
        return Response(payload, media_type=content_type)

    async def openapi(_request: Request) -> Response:
        spec: MergedSpec = state["spec"]  # type: ignore[assignment]
        return Response(await spec.document(), media_type="application/json")

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE)

    async def app_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        EDGE_REFUSALS.labels(exc.code).inc()
        return problem_response(exc)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", metrics),
            Route("/api/v1/openapi.json", openapi),
            Route("/docs", docs),
            Mount("/docs/static", app=StaticFiles(directory=str(Path(swagger_ui_path)))),
            Route("/{path:path}", proxy, methods=methods),
        ],
        exception_handlers={AppError: app_error},
        lifespan=lifespan,
    )
    asgi: ASGIApp = app
    if settings.cors_origins:
        asgi = CORSMiddleware(
            asgi,
            allow_origins=list(settings.cors_origins),
            allow_methods=methods,
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    return RequestContextMiddleware(
        PathGuardMiddleware(BodyLimitMiddleware(asgi, settings.max_body_bytes)), SERVICE
    )
