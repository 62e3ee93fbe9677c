"""Forwarding a request to the service that owns it.

The request goes out whole (the body-limit middleware bounds it; connexion refuses chunked
bodies on operations that require one) with the path and query exactly as the client sent them.
The answer comes back whole when it is small and of known length (the usual JSON), else streamed.

A service that is down or slow answers as a problem, quickly: refused connection -> 503, no
connection or no answer in time -> 504, broken answer -> 502.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from clikopro_chassis.context import correlation_id_var, request_id_var
from clikopro_chassis.errors import AppError
from clikopro_chassis.tracing import current_traceparent
from clikopro_gateway.upstream import UpstreamError, UpstreamPool

log = logging.getLogger(__name__)

#: An answer of known length up to this size is read whole and sent as one response; a longer
#: one, or one of unknown length, is streamed. (Streaming costs a task group per response.)
BUFFER_LIMIT = 256 * 1024

# RFC 9110 hop-by-hop headers are never forwarded.
_HOP_BY_HOP = {
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
    b"transfer-encoding", b"upgrade",
}  # fmt: skip
#: Request headers the proxy sets itself.
_NOT_FORWARDED = _HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"x-request-id",
    b"x-correlation-id",
    b"x-forwarded-for",
    b"x-client-ip",
    b"traceparent",  # replaced by the gateway's own span (chassis.tracing)
    b"tracestate",
}
#: Response headers the gateway's own server writes (it would otherwise send them twice).
_NOT_RETURNED = _HOP_BY_HOP | {b"date", b"server", b"x-request-id", b"content-length"}


class BadGateway(AppError):
    status = 502
    code = "bad_gateway"
    title = "The service answered badly"


class UpstreamUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    title = "The service is unavailable"


class UpstreamTimeout(AppError):
    status = 504
    code = "gateway_timeout"
    title = "The service did not answer in time"


class _RawHeadersResponse(Response):
    """A response whose headers are given as raw pairs (no re-parsing)."""

    def __init__(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, length: int | None = None
    ) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        length = len(body) if length is None else length  # HEAD: the length a GET would have
        self.raw_headers = [*headers, (b"content-length", str(length).encode())]


class Forwarder:
    def __init__(
        self, upstreams: dict[str, str], *, connect_timeout: float, timeout: float, idle_expiry: float
    ):
        self.timeout = timeout
        self.pools = {
            service: UpstreamPool(url, connect_timeout=connect_timeout, idle_expiry=idle_expiry)
            for service, url in upstreams.items()
        }

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()

    async def forward(self, request: Request, service: str, client_ip: str) -> Response:
        """``client_ip``: the caller's address as the gateway determined it, sent as ``X-Client-Ip``
        (identity counts failed sign-ins per address with it); whatever the client sent is dropped."""
        scope = request.scope
        headers = [(k, v) for k, v in scope["headers"] if k not in _NOT_FORWARDED]
        headers.append((b"x-request-id", (request_id_var.get() or "").encode()))
        headers.append((b"x-correlation-id", (correlation_id_var.get() or "").encode()))
        client_host = request.client.host if request.client else ""
        forwarded_for = request.headers.get("x-forwarded-for")
        chain = f"{forwarded_for}, {client_host}" if forwarded_for else client_host
        headers.append((b"x-forwarded-for", chain.encode("latin-1")))
        headers.append((b"x-client-ip", client_ip.encode("latin-1")))
        traceparent = current_traceparent()
        if traceparent:
            headers.append((b"traceparent", traceparent.encode()))
        target = scope.get("raw_path") or quote(scope["path"]).encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        body = await request.body()
        try:
            upstream = await self.pools[service].request(
                request.method, target, headers, body, timeout=self.timeout
            )
        except UpstreamError as exc:
            log.warning("%s: %s", service, exc)
            if exc.kind == "refused":
                raise UpstreamUnavailable(
                    f"The {service} service cannot be reached; try again shortly."
                ) from None
            if exc.kind == "timeout":
                raise UpstreamTimeout(f"The {service} service did not answer in time.") from None
            raise BadGateway(f"The {service} service gave an invalid answer.") from None
        response_headers = [(k, v) for k, v in upstream.headers if k.lower() not in _NOT_RETURNED]
        length = upstream.content_length
        if upstream.complete or (length is not None and length <= BUFFER_LIMIT):
            try:
                body = await upstream.read()
            except UpstreamError as exc:
                upstream.close()
                log.warning("%s: %s", service, exc)
                if exc.kind == "timeout":
                    raise UpstreamTimeout(f"The {service} service did not answer in time.") from None
                raise BadGateway(f"The {service} service gave an invalid answer.") from None
            upstream.close()
            head_length = length if request.method == "HEAD" else None
            return _RawHeadersResponse(upstream.status, response_headers, body, head_length)
        streaming = StreamingResponse(
            upstream.stream(), status_code=upstream.status, background=BackgroundTask(upstream.close)
        )
        streaming.raw_headers = response_headers
        return streaming
