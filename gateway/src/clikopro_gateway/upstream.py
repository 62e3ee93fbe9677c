"""A lean HTTP/1.1 client for the gateway's hop to the services.

Why not httpx (which the gateway still uses for its own few internal reads): measured here,
one proxied request cost ~0.5-0.7 ms of CPU in httpx/httpcore/anyio (URL objects, cookie
extraction, a connection-pool scan, anyio stream wrappers) against ~0.03 ms for the same
exchange on an asyncio protocol with ``httptools`` (the parser uvicorn already uses). At a goal
of >= 1,000 proxied requests/s per core, that was most of the budget.

What it does, and only that:

- one pool of keep-alive connections per service (LIFO, so the warmest one is reused; a
  connection idle longer than ``idle_expiry`` is closed rather than reused, which stays below
  the services' keep-alive timeout);
- the request is written in one go (the gateway has already read and bounded the body);
- the response head is awaited with a timeout; a body of known, small length (the usual JSON
  answer) is awaited whole and returned as one response; others are streamed, with back-pressure
  on the socket;
- failures are typed for the problem answers: refused connection (503), no connection or no
  answer in time (504), a broken or truncated answer (502). A request on a reused connection
  that the service had closed in the meantime (before any byte of answer) is retried once on a
  new connection when its method is idempotent.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
#: Stop reading from the service while this much body waits for a slow client.
HIGH_WATER = 1 << 20


class UpstreamError(Exception):
    """``kind``: ``refused`` (nobody listens), ``timeout`` (no connection or answer in time),
    ``broken`` (the answer is not valid HTTP, or the connection dropped mid-answer)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class _ClosedBeforeAnswer(Exception):
    pass


@dataclass
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    _connection: _Connection
    #: Which exchange of the connection this is: once it is finished, the connection may already
    #: carry the next request, which a late ``close()`` of this one must not touch.
    _exchange: int

    @property
    def complete(self) -> bool:
        return self._connection.body_done

    def body(self) -> bytes:
        """The whole body, once :attr:`complete`."""
        return b"".join(self._connection.chunks)

    @property
    def content_length(self) -> int | None:
        for name, value in self.headers:
            if name.lower() == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def read(self) -> bytes:
        """Wait for the whole body (for answers small enough to hold)."""
        while not self._connection.body_done:
            await self._connection.wait_for_body()
        return self.body()

    async def stream(self) -> AsyncIterator[bytes]:
        connection = self._connection
        try:
            while True:
                while connection.chunks:
                    chunk = connection.chunks.popleft()
                    connection.buffered -= len(chunk)
                    connection.maybe_resume()
                    yield chunk
                if connection.body_done:
                    return
                await connection.wait_for_body()
        finally:
            self.close()

    def close(self) -> None:
        """Give the connection back to the pool (if the answer was read whole), else drop it."""
        self._connection.finish_exchange(self._exchange)


class _Connection(asyncio.Protocol):
    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.exchange = 0
        self.in_exchange = False
        self._reset_exchange()

    def _reset_exchange(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[UpstreamResponse] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.body_done = False
        self.body_error: UpstreamError | None = None
        self.keep_alive = False
        self.got_bytes = False
        self.paused = False
        self.skip_body = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.timeout = 0.0

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        if not self.in_exchange:  # nothing asked: the service speaks out of turn
            self._abort()
            return
        self._restart_timer()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("broken", "unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError("broken", f"invalid HTTP from the service: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if not self.in_exchange or self.body_done:
            return
        if not self.head.done():
            self.head.set_exception(
                _ClosedBeforeAnswer() if not self.got_bytes else UpstreamError("broken", "closed")
            )
        else:
            self._fail(UpstreamError("broken", "the service closed the connection mid-answer"))

    def pause_writing(self) -> None:  # requests are small; nothing to do
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks ----------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        assert self.head is not None
        response = UpstreamResponse(self.parser.get_status_code(), self.headers, self, self.exchange)
        if self.skip_body:  # an answer to HEAD has no body, whatever its Content-Length says
            self.body_done = True
            self._cancel_timer()
        if not self.head.done():
            self.head.set_result(response)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()
            self._cancel_timer()  # a slow client is not a slow service
        self._wake()

    def on_message_complete(self) -> None:
        self.body_done = True
        self._cancel_timer()
        self._wake()

    # -- exchanges --------------------------------------------------------------------------------

    def send(self, request: bytes, *, timeout: float, skip_body: bool) -> asyncio.Future[UpstreamResponse]:
        assert self.transport is not None
        self._reset_exchange()
        self.exchange += 1
        self.in_exchange = True
        self.skip_body = skip_body
        self.timeout = timeout
        self.head = self.loop.create_future()
        self._restart_timer()
        self.transport.write(request)
        return self.head

    async def wait_for_body(self) -> None:
        if self.body_error is not None:
            raise self.body_error
        if self.body_done:
            return
        self._body_waiter = self.loop.create_future()
        try:
            await self._body_waiter
        finally:
            self._body_waiter = None
        if self.body_error is not None:
            raise self.body_error

    def maybe_resume(self) -> None:
        if self.paused and self.buffered < HIGH_WATER // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
            self._restart_timer()

    def finish_exchange(self, exchange: int) -> None:
        if exchange != self.exchange or not self.in_exchange:
            return  # already finished (the stream's end and the response's background task both call it)
        self.in_exchange = False
        self._cancel_timer()
        if self.body_done and self.keep_alive and not self.closed and self.body_error is None:
            self.pool.release(self)
        else:
            self._abort()

    # -- internals --------------------------------------------------------------------------------

    def _wake(self) -> None:
        if self._body_waiter is not None and not self._body_waiter.done():
            self._body_waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        self.body_error = error
        if self.head is not None and not self.head.done():
            self.head.set_exception(error)
        self._wake()
        self._abort()

    def _on_timeout(self) -> None:
        self._timer = None
        self._fail(UpstreamError("timeout", f"no answer within {self.timeout:g}s"))

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self.body_done:
            self._timer = self.loop.call_later(self.timeout, self._on_timeout)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _abort(self) -> None:
        self.closed = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()


class UpstreamPool:
    """Keep-alive connections to one service (``http://host:port``)."""

    def __init__(
        self, base_url: str, *, connect_timeout: float, idle_expiry: float = 1.5, max_idle: int = 64
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the gateway reaches services over plain http://host:port, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/").encode()
        self.host_header = (f"{self.host}:{self.port}" if parts.port else self.host).encode()
        self.connect_timeout = connect_timeout
        self.idle_expiry = idle_expiry
        self.max_idle = max_idle
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self), self.host, self.port),
                self.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError("timeout", f"no connection within {self.connect_timeout:g}s") from None
        except OSError as exc:
            raise UpstreamError("refused", str(exc)) from None
        return protocol

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self.idle_expiry:
                return connection
            connection._abort()
        return None

    def release(self, connection: _Connection) -> None:
        if len(self._idle) >= self.max_idle:
            connection._abort()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    def close(self) -> None:
        for connection in self._idle:
            connection._abort()
        self._idle.clear()

    def _encode(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        lines = [
            method.encode(),
            b" ",
            self.prefix,
            target,
            b" HTTP/1.1\r\nhost: ",
            self.host_header,
            b"\r\n",
        ]
        for name, value in headers:
            lines += [name, b": ", value, b"\r\n"]
        if body or method not in {"GET", "HEAD", "DELETE", "OPTIONS"}:
            lines += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
        lines.append(b"\r\n")
        if body:
            lines.append(body)
        return b"".join(lines)

    async def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes, *, timeout: float
    ) -> UpstreamResponse:
        """Send the request; return once the response head arrived (the body may still be coming).

        ``target`` is the path and query as sent by the client; ``headers`` are lower-cased names
        without Host or Content-Length.
        """
        payload = self._encode(method, target, headers, body)
        for attempt in (1, 2):
            connection = self._reuse()
            reused = connection is not None
            if connection is None:
                connection = await self._connect()
            try:
                return await connection.send(payload, timeout=timeout, skip_body=method == "HEAD")
            except _ClosedBeforeAnswer:
                # A pooled connection the service closed while idle: safe to resend if idempotent.
                if reused and attempt == 1 and method in IDEMPOTENT:
                    continue
                raise UpstreamError("broken", "the service closed the connection before answering") from None
        raise AssertionError("unreachable")
