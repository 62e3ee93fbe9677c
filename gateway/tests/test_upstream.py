"""The gateway's HTTP/1.1 client to the services: pooling, streaming, HEAD, failures, retries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from clikopro_chassis.testing.http import free_port, serve
from clikopro_gateway.upstream import UpstreamError, UpstreamPool

BIG = 3 * 1024 * 1024


async def chunks() -> AsyncIterator[bytes]:
    for _ in range(BIG // 65536):
        yield b"x" * 65536
        await asyncio.sleep(0)


def service() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "body": body.decode(),
                "auth": request.headers.get("authorization"),
                "host": request.headers.get("host"),
            }
        )

    async def big(_request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def empty(_request: Request) -> Response:
        return Response(status_code=204)

    async def slow(_request: Request) -> JSONResponse:
        await asyncio.sleep(1)
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/big", big),
            Route("/empty", empty, methods=["DELETE"]),
            Route("/slow", slow),
            Route("/{path:path}", echo, methods=["GET", "POST", "HEAD", "PUT"]),
        ]
    )


@pytest.fixture(scope="module")
def url() -> str:
    with serve(service()) as base:
        yield base


def run(coro):
    return asyncio.run(coro)


def test_a_request_goes_out_whole_and_the_connection_is_reused(url: str) -> None:
    async def scenario() -> None:
        pool = UpstreamPool(url, connect_timeout=1, idle_expiry=30)
        for n in range(3):
            response = await pool.request(
                "POST", b"/api/v1/caf%C3%A9?x=1&y=%20", [(b"authorization", b"Bearer t")], b'{"n": %d}' % n,
                timeout=5,
            )  # fmt: skip
            assert response.status == 200 and response.complete
            import json

            data = json.loads(response.body())
            response.close()
            assert data["path"] == "/api/v1/café" and data["query"] == "x=1&y=%20"
            assert data["body"] == f'{{"n": {n}}}' and data["auth"] == "Bearer t"
            assert data["host"] == url.removeprefix("http://")
        assert len(pool._idle) == 1  # one connection served the three
        pool.close()

    run(scenario())


def test_a_large_answer_streams_with_back_pressure(url: str) -> None:
    async def scenario() -> None:
        pool = UpstreamPool(url, connect_timeout=1)
        response = await pool.request("GET", b"/big", [], b"", timeout=5)
        assert response.status == 200
        received = 0
        async for chunk in response.stream():
            received += len(chunk)
            await asyncio.sleep(0.001)  # a slow client
        assert received == BIG
        response.close()  # the proxy's background task closes it again: still one connection pooled
        assert len(pool._idle) == 1  # read whole: back in the pool
        again = await pool.request("GET", b"/ok", [], b"", timeout=5)
        assert again.status == 200
        again.close()
        pool.close()

    run(scenario())


def test_head_and_no_content_answers_have_no_body(url: str) -> None:
    async def scenario() -> None:
        pool = UpstreamPool(url, connect_timeout=1, idle_expiry=30)
        head = await pool.request("HEAD", b"/x", [], b"", timeout=5)
        assert head.status == 200 and head.complete and head.body() == b""
        head.close()
        empty = await pool.request("DELETE", b"/empty", [], b"", timeout=5)
        assert empty.status == 204 and empty.complete
        empty.close()
        after = await pool.request("GET", b"/x", [], b"", timeout=5)  # the connection is still sound
        assert after.status == 200 and b'"/x"' in after.body()
        after.close()
        pool.close()

    run(scenario())


def test_failures_are_typed(url: str) -> None:
    async def scenario() -> None:
        with pytest.raises(UpstreamError) as refused:
            await UpstreamPool(f"http://127.0.0.1:{free_port()}", connect_timeout=1).request(
                "GET", b"/", [], b"", timeout=1
            )
        assert refused.value.kind == "refused"
        with pytest.raises(UpstreamError) as late:
            await UpstreamPool(url, connect_timeout=1).request("GET", b"/slow", [], b"", timeout=0.2)
        assert late.value.kind == "timeout"

    run(scenario())


@contextlib.asynccontextmanager
async def raw_server(handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def test_a_broken_or_truncated_answer_is_broken() -> None:
    async def garbage(reader, writer) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"this is not HTTP\r\n\r\n")
        await writer.drain()

    async def truncated(reader, writer) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly a part")
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        async with raw_server(garbage) as base:
            with pytest.raises(UpstreamError) as exc:
                await UpstreamPool(base, connect_timeout=1).request("GET", b"/", [], b"", timeout=2)
            assert exc.value.kind == "broken"
        async with raw_server(truncated) as base:
            response = await UpstreamPool(base, connect_timeout=1).request("GET", b"/", [], b"", timeout=2)
            with pytest.raises(UpstreamError) as exc:
                async for _ in response.stream():
                    pass
            assert exc.value.kind == "broken"

    run(scenario())


def test_a_pooled_connection_closed_by_the_service_is_retried_only_when_idempotent() -> None:
    async def one_answer_then_close(reader, writer) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")  # keep-alive, then...
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # ... the service closes it while idle

    async def scenario() -> None:
        async with raw_server(one_answer_then_close) as base:
            pool = UpstreamPool(base, connect_timeout=1, idle_expiry=30)
            first = await pool.request("GET", b"/", [], b"", timeout=2)
            first.close()
            await asyncio.sleep(0.2)
            # The pool noticed the close: a new connection, no error.
            again = await pool.request("POST", b"/", [], b"{}", timeout=2)
            assert again.status == 200
            again.close()

    run(scenario())


def test_a_request_lost_on_a_reused_connection_is_resent_only_if_idempotent() -> None:
    async def answers_once_per_connection(reader, writer) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")  # the next request on this connection...
        writer.close()  # ... is dropped without an answer (the service's keep-alive ran out)

    async def scenario() -> None:
        async with raw_server(answers_once_per_connection) as base:
            pool = UpstreamPool(base, connect_timeout=1, idle_expiry=30)
            (await pool.request("GET", b"/", [], b"", timeout=2)).close()
            resent = await pool.request("GET", b"/", [], b"", timeout=2)  # retried on a new connection
            assert resent.status == 200
            resent.close()
            with pytest.raises(UpstreamError) as exc:  # a POST might have been done: not resent
                await pool.request("POST", b"/", [], b"{}", timeout=2)
            assert exc.value.kind == "broken"

    run(scenario())
