"""Forwarding a request to the service that owns it, streaming both ways.

A service that is down or slow answers as a problem, quickly: refused
connection -> 503, no answer in time -> 504, broken answer -> 502.
"""

from __future__ import annotations

import logging

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from clikopro_chassis.context import correlation_id_var, request_id_var
from clikopro_chassis.errors import AppError

log = logging.getLogger(__name__)

# RFC 9110 hop-by-hop headers are never forwarded.
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade",
}  # fmt: skip
#: Request headers the proxy sets itself.
_NOT_FORWARDED = _HOP_BY_HOP | {"host", "content-length", "x-request-id", "x-correlation-id"}
#: Response headers the gateway's own server writes (it would otherwise send them twice).
_NOT_RETURNED = _HOP_BY_HOP | {"date", "server", "x-request-id"}


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


class Forwarder:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def forward(self, request: Request, service: str, base_url: str) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
        headers.append(("x-request-id", request_id_var.get() or ""))
        headers.append(("x-correlation-id", correlation_id_var.get() or ""))
        client_host = request.client.host if request.client else ""
        forwarded_for = request.headers.get("x-forwarded-for")
        headers.append(
            ("x-forwarded-for", f"{forwarded_for}, {client_host}" if forwarded_for else client_host)
        )
        # The body is read whole (the body-limit middleware bounds it) and sent with a
        # Content-Length: connexion refuses chunked bodies on operations that require one.
        upstream_request = self.client.build_request(
            request.method,
            base_url + request.url.path,
            params=request.query_params.multi_items(),
            headers=headers,
            content=await request.body(),
        )
        try:
            upstream = await self.client.send(upstream_request, stream=True)
        except httpx.ConnectError as exc:
            log.warning("%s is unreachable: %s", service, exc)
            raise UpstreamUnavailable(
                f"The {service} service cannot be reached; try again shortly."
            ) from None
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"The {service} service did not answer in time.") from None
        except httpx.HTTPError as exc:
            log.warning("%s answered badly: %s", service, exc)
            raise BadGateway(f"The {service} service gave an invalid answer.") from None
        response_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_RETURNED}
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream.aclose),
        )
