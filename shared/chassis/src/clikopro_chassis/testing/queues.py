"""Reading queues in tests (dead letters, catch-all taps)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from kombu import Queue

from clikopro_chassis.bus.connection import broker_connection


def take_all(broker_url: str, queue: Queue, *, limit: int = 10_000) -> list[dict[str, Any]]:
    """Remove and return every message in ``queue``: body, headers, properties."""
    taken: list[dict[str, Any]] = []
    with broker_connection(broker_url) as conn:
        bound = queue(conn.channel())
        while len(taken) < limit:
            message = bound.get(no_ack=False, accept=None)
            if message is None:
                break
            taken.append(
                {
                    "body": message.body,
                    "headers": dict(message.headers or {}),
                    "properties": dict(message.properties or {}),
                    "routing_key": message.delivery_info.get("routing_key"),
                }
            )
            message.ack()
    return taken


@contextlib.contextmanager
def tap(broker_url: str, exchange: str, name: str, routing_key: str = "#") -> Iterator[Queue]:
    """A temporary queue bound to ``exchange``: everything published there is copied into it."""
    from kombu import Exchange

    queue = Queue(
        name, Exchange(exchange, type="topic", durable=True), routing_key=routing_key, durable=False
    )
    with broker_connection(broker_url) as conn:
        queue(conn.channel()).declare()
    try:
        yield queue
    finally:
        with broker_connection(broker_url) as conn, contextlib.suppress(Exception):
            conn.channel().queue_delete(name)
