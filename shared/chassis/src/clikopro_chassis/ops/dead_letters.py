"""Reading and replaying a service's dead-letter queue, with pika.

A replayed message goes back to the service's own queue (default exchange,
routing key = queue name) with its retry headers removed, so that it gets
the full number of attempts again; its ``x-replayed`` header counts replays.
Each message is published with a confirm before its dead letter is acked:
a crash mid-replay duplicates at worst (consumers are idempotent), never loses.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

RETRY_HEADERS = ("x-attempts", "x-retry-at", "x-last-error", "x-error", "x-error-kind", "x-dead-lettered-at")


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int
    consumers: int


def connect(url: str) -> pika.BlockingConnection:
    # kombu writes the default vhost as a trailing "//"; pika wants it percent-encoded.
    if url.endswith("//"):
        url = url[:-1] + "%2F"
    return pika.BlockingConnection(pika.URLParameters(url))


def queue_state(channel: BlockingChannel, name: str) -> QueueState | None:
    try:
        frame = channel.queue_declare(name, passive=True)
    except pika.exceptions.ChannelClosedByBroker:
        return None
    return QueueState(name, frame.method.message_count, frame.method.consumer_count)


def describe(body: bytes, headers: dict[str, Any]) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
        event = {
            k: envelope.get(k) for k in ("id", "type", "version", "producer", "occurred_at", "correlation_id")
        }
    except (ValueError, AttributeError):
        event = {"raw": body[:200].decode("utf-8", "replace")}
    return {
        **event,
        "attempts": headers.get("x-attempts"),
        "error_kind": headers.get("x-error-kind"),
        "error": headers.get("x-error"),
        "dead_lettered_at": headers.get("x-dead-lettered-at"),
        "original_routing_key": headers.get("x-original-routing-key"),
    }


def peek(channel: BlockingChannel, queue: str, limit: int) -> list[dict[str, Any]]:
    """Read up to ``limit`` dead letters and put them all back (nothing changes)."""
    seen: list[dict[str, Any]] = []
    tags = []
    for _ in range(limit):
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            break
        tags.append(method.delivery_tag)
        seen.append(describe(body, dict(properties.headers or {})))
    if tags:
        channel.basic_nack(tags[-1], multiple=True, requeue=True)
    return seen


def replay(channel: BlockingChannel, dead_letter_queue: str, target_queue: str, limit: int) -> int:
    channel.confirm_delivery()
    moved = 0
    while moved < limit:
        method, properties, body = channel.basic_get(dead_letter_queue, auto_ack=False)
        if method is None:
            break
        headers = {k: v for k, v in (properties.headers or {}).items() if k not in RETRY_HEADERS}
        headers["x-replayed"] = int(headers.get("x-replayed") or 0) + 1
        headers["x-replayed-at"] = dt.datetime.now(dt.UTC).isoformat()
        channel.basic_publish(
            exchange="",
            routing_key=target_queue,
            body=body,
            properties=pika.BasicProperties(
                content_type=properties.content_type,
                content_encoding=properties.content_encoding,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=properties.message_id,
                correlation_id=properties.correlation_id,
                type=properties.type,
                timestamp=properties.timestamp,
                headers=headers,
            ),
            mandatory=True,
        )
        channel.basic_ack(method.delivery_tag)
        moved += 1
    return moved
