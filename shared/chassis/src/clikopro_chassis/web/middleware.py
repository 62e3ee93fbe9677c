"""ASGI middleware every service (and the gateway) wraps around its app.

- :class:`RequestContextMiddleware` gives each request its id (taken from a
  valid ``X-Request-Id`` or made), its correlation id (``X-Correlation-Id``,
  else the request id), echoes ``X-Request-Id`` on the response, writes one
  access-log line and the HTTP metrics.
- :class:`BodyLimitMiddleware` refuses bodies over the limit with 413 before
  they are read into memory, whether announced by ``Content-Length`` or not.
- :class:`PathGuardMiddleware` answers 404 for a path holding control characters, 400 for a
  query holding a NUL.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clikopro_chassis import metrics, tracing
from clikopro_chassis.context import message_context
from clikopro_chassis.errors import AppError, NotFound, PayloadTooLarge, RequestShapeInvalid, field_error

access_log = logging.getLogger("clikopro.access")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_ID_SEGMENT = re.compile(
    r"/(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+)(?=/|$)"
)


def route_label(scope: Scope) -> str:
    """A low-cardinality name for the route: the operation id, else the path with ids folded."""
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    if routing.get("operation_id"):
        return str(routing["operation_id"])
    return _ID_SEGMENT.sub("/{id}", scope.get("path", ""))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            try:
                text = value.decode("latin-1").strip()
            except UnicodeDecodeError:
                return None
            return text if _SAFE_ID.match(text) else None
    return None


async def send_problem(send: Send, error: AppError, request_id: str | None = None) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-request-id", request_id.encode()))
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or str(uuid.uuid4())
        correlation_id = _header(scope, b"x-correlation-id") or request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        method = scope.get("method", "")
        span = tracing.tracer().start_as_current_span(
            method,
            context=tracing.context_from_headers(scope.get("headers", [])),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "clikopro.request_id": request_id},
        )
        with (
            span as current,
            message_context(request_id=request_id, correlation_id=correlation_id, causation_id=request_id),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_label(scope)
                current.update_name(f"{method} {route}")
                current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
                if status >= 500:
                    current.set_status(StatusCode.ERROR)
                if not scope.get("path", "").startswith(("/health", "/metrics")):
                    metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
                    metrics.HTTP_LATENCY.labels(self.service, method, route).observe(elapsed)
                    access_log.info(
                        "%s %s %s %.1fms",
                        method,
                        scope.get("path"),
                        status,
                        elapsed * 1000,
                        extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": route},
                    )


class PathGuardMiddleware:
    """No route has a control character (a decoded ``%0A``...) in its path, and routers disagree on
    them: connexion's router matches no operation where Flask's still calls the view, which then
    fails outside its operation (a 500); Starlette's answers a plain-text 404. One problem+json 404
    for all, before any router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if _CONTROL.search(scope.get("path", "")):
                await send_problem(send, NotFound("No resource has this path."))
                return
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:  # substring tests: nothing decoded per request
                # No parameter may hold it (PostgreSQL cannot store or compare it in text).
                error = field_error("query", "must not contain the NUL character (U+0000)")
                await send_problem(
                    send, RequestShapeInvalid("A query parameter holds a NUL character.", errors=[error])
                )
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = PayloadTooLarge(f"The request body exceeds {self.max_bytes} bytes.")
        length = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > self.max_bytes:
            await send_problem(send, error)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An AppError, so that connexion's exception layer (which
                    # sees it first) answers 413 rather than 500.
                    raise error
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge:
            if not started:
                await send_problem(send, error)
