"""Queues in tests: reading them (dead letters, catch-all taps), and publishing as another
service's relay would."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from kombu import Exchange, Producer, Queue

from clikopro_chassis.bus.connection import broker_connection


def publish_raw(
    broker_url: str, prefix: str, message: Mapping[str, Any] | bytes, *, routing_key: str | None = None
) -> None:
    """Put ``message`` (an envelope, or any bytes) on the bus's events exchange, persistent, as the
    producer's relay does: a test playing another service. The routing key is the envelope's
    ``<producer>.<type>`` unless given."""
    if isinstance(message, Mapping):
        routing_key = routing_key or f"{message['producer']}.{message['type']}"
        body: bytes = json.dumps(message).encode()
    else:
        body = message
    assert routing_key, "bytes need their routing key"
    with broker_connection(broker_url) as conn:
        Producer(conn.channel()).publish(
            body,
            exchange=Exchange(f"{prefix}.events", type="topic", durable=True),
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )


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
