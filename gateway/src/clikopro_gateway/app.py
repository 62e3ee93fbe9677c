"""The gateway's ASGI app.

A proxy is I/O-bound, so the gateway is an async Starlette app (not a
connexion/Flask one): it validates nothing of the bodies itself, the owning
service does that against its own spec; it routes, and (issue 3) it
authenticates and checks suspensions and entitlements at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from swagger_ui_bundle import swagger_ui_path

from clikopro_chassis.context import request_id_var
from clikopro_chassis.errors import AppError, NotFound
from clikopro_chassis.metrics import render_latest
from clikopro_chassis.web.middleware import BodyLimitMiddleware, RequestContextMiddleware
from clikopro_gateway import SERVICE
from clikopro_gateway.openapi import MergedSpec
from clikopro_gateway.proxy import Forwarder
from clikopro_gateway.routes import owner_of
from clikopro_gateway.settings import GatewaySettings

SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CLIKOPRO API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui",
  persistAuthorization: true, displayRequestDuration: true});
</script></body></html>"""


def problem_response(error: AppError) -> JSONResponse:
    body = error.body()
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type="application/problem+json"
    )


def create_app(settings: GatewaySettings) -> ASGIApp:
    state: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.upstream_timeout, connect=settings.connect_timeout)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            state["forwarder"] = Forwarder(client)
            state["spec"] = MergedSpec(client, settings.upstreams)
            state["client"] = client
            yield

    async def proxy(request: Request) -> Response:
        service = owner_of(request.url.path)
        if service is None:
            raise NotFound(f"No route for {request.url.path}.")
        forwarder: Forwarder = state["forwarder"]  # type: ignore[assignment]
        return await forwarder.forward(request, service, settings.upstreams[service])

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
    return RequestContextMiddleware(BodyLimitMiddleware(asgi, settings.max_body_bytes), SERVICE)
