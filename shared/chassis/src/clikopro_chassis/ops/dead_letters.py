"""Reading, replaying and purging a service's dead-letter queue (RabbitMQ or the embedded broker).

Every operation takes the dead letters one by one without acknowledging them and decides, per
message, from a :class:`Selection` (ids, event type, error kind, age): a message that is not
selected is held and given back at the end, unchanged, so one pass sees each message once.

A replayed message goes back to the service's own queue (default exchange, routing key = queue
name) with its body (so its event id) unchanged and its retry headers removed, so that it gets the
full number of attempts again; ``x-replayed`` counts replays. It is published with a confirm
before its dead letter is acked: a crash mid-replay duplicates at worst (the consumer's inbox
makes a second copy harmless), never loses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Queue
from kombu.message import Message

from clikopro_chassis.bus.connection import broker_connection
from clikopro_chassis.bus.publisher import ConfirmingPublisher, OutgoingMessage

RETRY_HEADERS = (
    "x-attempts",
    "x-retry-at",
    "x-last-error",
    "x-error",
    "x-error-kind",
    "x-dead-lettered-at",
    "x-consumer",
    # RabbitMQ's own, when it dead-lettered the message (delivery limit)
    "x-death",
    "x-delivery-count",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
)


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def describe(body: bytes | str, headers: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A dead letter as operations read it: the event's identity and why it is here."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        envelope = json.loads(body)
        event = {
            k: envelope.get(k) for k in ("id", "type", "version", "producer", "occurred_at", "correlation_id")
        }
    except (ValueError, AttributeError, TypeError):
        raw = body if isinstance(body, str) else body.decode("utf-8", "replace")
        event = {"id": None, "type": None, "raw": raw[:200]}
    dead_at = _parse_time(headers.get("x-dead-lettered-at"))
    error = headers.get("x-error")
    kind = headers.get("x-error-kind")
    if error is None and headers.get("x-first-death-reason"):  # dead-lettered by RabbitMQ itself
        reason = headers.get("x-first-death-reason")
        error, kind = f"RabbitMQ dead-lettered it: {reason}", f"broker_{reason}"
    return {
        **event,
        "attempts": headers.get("x-attempts"),
        "error_kind": kind,
        "error": error,
        "dead_lettered_at": headers.get("x-dead-lettered-at"),
        "age_seconds": round((now - dead_at).total_seconds(), 3) if dead_at else None,
        "original_routing_key": headers.get("x-original-routing-key"),
        "replayed": headers.get("x-replayed"),
    }


@dataclass(frozen=True)
class Selection:
    """Which dead letters an operation applies to; empty = all."""

    ids: tuple[str, ...] = ()
    event_type: str | None = None
    error_kind: str | None = None
    older_than: float | None = None  # seconds
    newer_than: float | None = None

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.ids and entry.get("id") not in self.ids:
            return False
        if self.event_type and entry.get("type") != self.event_type:
            return False
        if self.error_kind and entry.get("error_kind") != self.error_kind:
            return False
        age = entry.get("age_seconds")
        if self.older_than is not None and (age is None or age < self.older_than):
            return False
        return not (self.newer_than is not None and (age is None or age > self.newer_than))

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, ())}


@dataclass
class Pass:
    """One pass over a dead-letter queue: what was seen, and what was selected."""

    seen: int = 0
    selected: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _messages(connection: Connection, queue: str, limit: int) -> Iterator[Iterator[Message]]:
    """Dead letters taken without ack; whatever the caller does not settle goes back at the end."""
    channel = connection.channel()
    bound = Queue(queue, no_declare=True)(channel)
    held: list[Message] = []

    def take() -> Iterator[Message]:
        for _ in range(limit):
            message = bound.get(no_ack=False, accept=None)
            if message is None:
                return
            held.append(message)
            yield message

    try:
        yield take()
    finally:
        for message in held:
            if not message.acknowledged:
                message.requeue()
        channel.close()


def _pass(
    broker_url: str,
    queue: str,
    selection: Selection,
    limit: int,
    settle: Callable[[Connection, list[tuple[Message, dict[str, Any]]]], None] | None,
) -> Pass:
    result = Pass()
    with broker_connection(broker_url) as connection:
        connection.ensure_connection(max_retries=3)
        chosen: list[tuple[Message, dict[str, Any]]] = []
        with _messages(connection, queue, limit) as messages:
            for message in messages:
                result.seen += 1
                entry = describe(message.body, dict(message.headers or {}))
                if selection.matches(entry):
                    chosen.append((message, entry))
                    result.selected.append(entry)
            if settle is not None and chosen:
                settle(connection, chosen)
    return result


def peek(broker_url: str, queue: str, selection: Selection = Selection(), limit: int = 10_000) -> Pass:
    """The dead letters that match, all left in place."""
    return _pass(broker_url, queue, selection, limit, None)


def replay(
    broker_url: str,
    dead_letter_queue: str,
    target_queue: str,
    selection: Selection = Selection(),
    limit: int = 10_000,
    *,
    dry_run: bool = False,
) -> Pass:
    """Move the matching dead letters back to ``target_queue`` (``dry_run``: only list them)."""

    def settle(connection: Connection, chosen: list[tuple[Message, dict[str, Any]]]) -> None:
        publisher = ConfirmingPublisher(broker_connection(broker_url))
        try:
            publisher.publish([_replayed(message, target_queue) for message, _ in chosen])
        finally:
            publisher.close()
        for message, _ in chosen:
            message.ack()

    return _pass(broker_url, dead_letter_queue, selection, limit, None if dry_run else settle)


def purge(broker_url: str, queue: str, selection: Selection = Selection(), limit: int = 10_000) -> Pass:
    """Delete the matching dead letters for good."""

    def settle(_connection: Connection, chosen: list[tuple[Message, dict[str, Any]]]) -> None:
        for message, _ in chosen:
            message.ack()

    return _pass(broker_url, queue, selection, limit, settle)


def _replayed(message: Message, target_queue: str) -> OutgoingMessage:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in RETRY_HEADERS}
    headers["x-replayed"] = int(headers.get("x-replayed") or 0) + 1
    headers["x-replayed-at"] = dt.datetime.now(dt.UTC).isoformat()
    properties = message.properties or {}
    return OutgoingMessage(
        body=message.body,
        exchange="",
        routing_key=target_queue,
        message_id=properties.get("message_id"),
        correlation_id=properties.get("correlation_id"),
        type=properties.get("type"),
        headers=headers,
    )


def summarise(entries: Sequence[dict[str, Any]], top: int = 3) -> dict[str, Any]:
    """Count, oldest and most frequent errors of a list of dead letters (for ``status``)."""
    ages = [e["age_seconds"] for e in entries if e.get("age_seconds") is not None]
    errors: dict[tuple[str, str], int] = {}
    for entry in entries:
        # The exception's own line: what follows is context (SQL, links) that splits the count.
        first_line = str(entry.get("error") or "").strip().splitlines()[:1] or [""]
        key = (str(entry.get("error_kind") or "?"), first_line[0][:200])
        errors[key] = errors.get(key, 0) + 1
    ranked = sorted(errors.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "count": len(entries),
        "oldest_age_seconds": max(ages) if ages else None,
        "top_errors": [{"error_kind": k, "error": e, "count": n} for (k, e), n in ranked],
    }
