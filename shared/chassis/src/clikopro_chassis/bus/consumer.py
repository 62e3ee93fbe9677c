"""The idempotent event consumer of a service.

Each message is handled in a database transaction together with the record
of its id in the inbox, and acknowledged only after that transaction commits:

- a redelivered event finds its id in the inbox and has no second effect;
- a worker killed mid-message never acked it, so the broker delivers it again;
- a handler that raises is retried with back-off (``CONSUMER_RETRY_DELAYS_MS``),
  then moved to the service's dead-letter queue with the error and the attempt
  count in its headers; other messages keep flowing meanwhile;
- a message that is not a valid event (not JSON, unknown type, payload
  against its contract) goes to the dead-letter queue at once.

For throughput, the messages already received are handled as one batch: one
transaction, one savepoint per message (a failing handler rolls back only its
own work), one commit. Prefetch bounds how many are in hand.

A retry is the message published back to the service queue with
``x-attempts`` and ``x-retry-at`` headers; when it comes round before its
time, the worker holds it unacknowledged until then. The attempt count thus
travels with the message, and the mechanism is the same on RabbitMQ and on
kombu's embedded transports (which have no TTL or dead-letter exchanges).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kombu import Connection, Consumer
from kombu.message import Message
from opentelemetry.trace import SpanKind
from sqlalchemy.orm import Session

from clikopro_chassis import inbox, metrics, tracing
from clikopro_chassis.bus.publisher import ConfirmingPublisher, OutgoingMessage
from clikopro_chassis.bus.topology import Topology
from clikopro_chassis.context import message_context
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import utcnow
from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_contracts import ContractError, Event, parse_event

log = logging.getLogger(__name__)

#: A handler gets the event and the service's unit of work, joined to the batch's
#: transaction: what it writes and publishes commits with the inbox record.
Handler = Callable[[Event, Any], None]

ATTEMPTS_HEADER = "x-attempts"
RETRY_AT_HEADER = "x-retry-at"
MAX_BACKOFF_SECONDS = 30.0


class _HandlerFailed(Exception):
    """A handler failed in the fast path: the batch is redone message by message."""


@dataclass(slots=True)
class _Outcome:
    message: Message
    kind: str  # pending (parsed, not yet handled) | done | duplicate | ignored | failed | malformed
    event: Event | None = None
    error: BaseException | None = None


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        database: Database,
        topology: Topology,
        handlers: Mapping[str, Handler],
        uow_factory: Callable[[Session], UnitOfWork],
        connection_factory: Callable[[], Connection],
        prefetch: int = 100,
        batch_size: int = 50,
        retry_delays: Sequence[float] = (0.5, 5.0, 30.0),
        heartbeat_dir: Path | None = None,
    ) -> None:
        if not handlers:
            raise ValueError(f"{service} has no event handlers to consume for")
        self.service = service
        self.database = database
        self.topology = topology
        self.handlers = dict(handlers)
        self.uow_factory = uow_factory
        self.connection_factory = connection_factory
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.retry_delays = tuple(retry_delays)
        self.heartbeat_dir = heartbeat_dir
        self._heartbeat_at = 0.0
        self._received: list[Message] = []
        self._held: list[tuple[float, int, Message]] = []
        self._seq = itertools.count()
        #: Set once the consumer is attached to its queue (tests wait on it).
        self.ready = threading.Event()

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            connection = self.connection_factory()
            publisher = ConfirmingPublisher(self.connection_factory())
            try:
                self._consume(connection, publisher, stop)
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - broker restart, network, database down
                log.warning(
                    "consumer of %s lost its connection, retrying in %.1fs: %s", self.service, backoff, exc
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                self.ready.clear()
                self._heartbeat_stop()
                # Unacknowledged messages go back to the queue when the channel closes.
                self._received.clear()
                self._held.clear()
                for closeable in (publisher, connection):
                    try:
                        closeable.close()
                    except Exception:  # noqa: BLE001
                        pass
        log.info("consumer of %s stopped", self.service)

    def _consume(self, connection: Connection, publisher: ConfirmingPublisher, stop: threading.Event) -> None:
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        channel.basic_qos(0, self.prefetch, False)
        queue = self.topology.declare(channel, self.handlers)
        consumer = Consumer(channel, queues=[queue], on_message=self._received.append, accept=None)
        with consumer:
            self.ready.set()
            log.info("consuming %s for %s", queue.name, sorted(self.handlers))
            while not stop.is_set():
                self._heartbeat()
                self._receive(connection)
                batch = self._take_ready()
                if batch:
                    self._handle_batch(batch, publisher)
                elif connection.transport.driver_type == "amqp":
                    connection.heartbeat_check()

    # -- embedded broker: a file per consumer, for clikopro-ops ----------------------------------
    # A stopped consumer renames its file ``*.stopped``: its time says since when nobody consumes.

    @property
    def _heartbeat_file(self) -> Path | None:
        if self.heartbeat_dir is None:
            return None
        return self.heartbeat_dir / f"{self.topology.queue_name}@{socket.gethostname()}-{os.getpid()}"

    def _heartbeat(self) -> None:
        path = self._heartbeat_file
        if path is None or time.monotonic() - self._heartbeat_at < 1.0:
            return
        first = self._heartbeat_at == 0.0
        self._heartbeat_at = time.monotonic()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            if first:  # this queue has a consumer again: the stopped ones are history
                for stopped in path.parent.glob(f"{self.topology.queue_name}@*.stopped"):
                    stopped.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("consumer heartbeat not written: %s", exc)

    def _heartbeat_stop(self) -> None:
        path = self._heartbeat_file
        self._heartbeat_at = 0.0
        if path is not None and path.exists():
            try:
                path.replace(path.with_name(path.name + ".stopped"))
                path.with_name(path.name + ".stopped").touch()
            except OSError as exc:
                log.debug("consumer heartbeat not closed: %s", exc)

    def _receive(self, connection: Connection) -> None:
        """Wait up to a second for messages, then take whatever else already arrived."""
        timeout = 1.0
        if self._held:
            timeout = max(0.0, min(timeout, self._held[0][0] - time.time()))
        try:
            connection.drain_events(timeout=timeout)
            while len(self._received) < self.batch_size:
                connection.drain_events(timeout=0)
        except TimeoutError:
            pass

    def _take_ready(self) -> list[Message]:
        now = time.time()
        ready: list[Message] = []
        for message in self._received:
            retry_at = float((message.headers or {}).get(RETRY_AT_HEADER) or 0)
            if retry_at > now:
                heapq.heappush(self._held, (retry_at, next(self._seq), message))
            else:
                ready.append(message)
        self._received.clear()
        while self._held and self._held[0][0] <= now:
            ready.append(heapq.heappop(self._held)[2])
        return ready

    # -- one batch --------------------------------------------------------------------------------

    def _handle_batch(self, messages: list[Message], publisher: ConfirmingPublisher) -> None:
        outcomes = self.process(messages)
        self._settle(outcomes, publisher)

    def process(self, messages: Sequence[Message]) -> list[_Outcome]:
        """Run the handlers of ``messages`` in one transaction; nothing is acked here.

        The fast path claims the whole batch in the inbox with one statement and
        runs the handlers without savepoints. If any handler fails, the batch is
        rolled back and run again message by message, each in its own savepoint,
        so that the failure costs only its own message (the others' handlers run
        twice, the first run rolled back: handlers only write to the database).
        """
        parsed = [self._parse(message) for message in messages]
        try:
            return self._run_batch(parsed)
        except _HandlerFailed:
            return self._run_one_by_one(parsed)

    def _parse(self, message: Message) -> _Outcome:
        try:
            event = parse_event(message.body)
        except ContractError as exc:
            return _Outcome(message, "malformed", error=exc)
        if event.type not in self.handlers:
            return _Outcome(message, "ignored", event)
        return _Outcome(message, "pending", event)

    def _run_batch(self, parsed: list[_Outcome]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        session = self.database.session()
        try:
            pending = [o.event for o in parsed if o.kind == "pending" and o.event is not None]
            fresh = inbox.claim_all(session, self.service, pending)
            for outcome in parsed:
                event = outcome.event
                if outcome.kind != "pending" or event is None:
                    outcomes.append(outcome)
                    continue
                if event.id not in fresh:
                    outcomes.append(_Outcome(outcome.message, "duplicate", event))
                    continue
                fresh.discard(event.id)  # a second copy in the same batch is a duplicate
                try:
                    self._handle(session, event, outcome.message)
                except Exception as exc:
                    log.info(
                        "handler of %s failed in a batch; running the batch one by one: %s", event.type, exc
                    )
                    raise _HandlerFailed from exc
                outcomes.append(_Outcome(outcome.message, "done", event))
            session.commit()
        except BaseException:
            session.rollback()
            raise  # nothing was acked: every message of the batch comes back
        finally:
            session.close()
        return outcomes

    def _run_one_by_one(self, parsed: list[_Outcome]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        session = self.database.session()
        try:
            for outcome in parsed:
                event = outcome.event
                if outcome.kind != "pending" or event is None:
                    outcomes.append(outcome)
                    continue
                savepoint = session.begin_nested()
                try:
                    if not inbox.claim(session, self.service, event):
                        savepoint.commit()
                        outcomes.append(_Outcome(outcome.message, "duplicate", event))
                        continue
                    self._handle(session, event, outcome.message)
                    savepoint.commit()
                except Exception as exc:
                    savepoint.rollback()
                    log.warning("handler of %s failed: %s", event.type, exc, exc_info=True)
                    outcomes.append(_Outcome(outcome.message, "failed", event, exc))
                    continue
                outcomes.append(_Outcome(outcome.message, "done", event))
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()
        return outcomes

    def _handle(self, session: Session, event: Event, message: Message) -> None:
        span = tracing.tracer().start_as_current_span(
            f"{event.type} process",
            context=tracing.context_from_message(message.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": self.topology.queue_name,
                "messaging.message.id": event.id,
                "messaging.operation.type": "process",
            },
        )
        with span, message_context(correlation_id=event.correlation_id, causation_id=event.id):
            started = time.perf_counter()
            try:
                with self.uow_factory(session) as uow:
                    self.handlers[event.type](event, uow)
                    uow.commit()
            finally:
                metrics.EVENT_HANDLING.labels(self.service, event.type).observe(time.perf_counter() - started)

    def _settle(self, outcomes: list[_Outcome], publisher: ConfirmingPublisher) -> None:
        """After the commit: ack what is done, send the rest to retry or dead letter, then ack it."""
        forwards: list[OutgoingMessage] = []
        forwarded: list[_Outcome] = []
        now = time.time()
        for outcome in outcomes:
            label = outcome.event.type if outcome.event else "unknown"
            if outcome.event is not None:
                self._observe_wait(outcome.event, now)
            if outcome.kind in {"done", "duplicate", "ignored"}:
                outcome.message.ack()
                metrics.EVENTS_HANDLED.labels(self.service, label, outcome.kind).inc()
                if outcome.kind == "ignored":
                    log.warning("no handler for %s; acknowledged without effect", label)
                continue
            forwards.append(self._forward(outcome))
            forwarded.append(outcome)
        if forwards:
            publisher.publish(forwards)
            for outcome, forward in zip(forwarded, forwards, strict=True):
                outcome.message.ack()
                kind = "retried" if forward.routing_key == self.topology.queue_name else "dead_lettered"
                label = outcome.event.type if outcome.event else "unknown"
                metrics.EVENTS_HANDLED.labels(self.service, label, kind).inc()
                if kind == "dead_lettered":
                    log.error(
                        "dead-lettered %s after %s attempt(s): %s",
                        label,
                        forward.headers[ATTEMPTS_HEADER],
                        forward.headers["x-error"],
                    )

    def _observe_wait(self, event: Event, now: float) -> None:
        """How long the event waited between its fact and this delivery (a consumer-side lag)."""
        try:
            occurred = dt.datetime.fromisoformat(event.occurred_at).timestamp()
        except (TypeError, ValueError):
            return
        metrics.EVENT_WAIT.labels(self.service, event.type).observe(max(0.0, now - occurred))

    def _forward(self, outcome: _Outcome) -> OutgoingMessage:
        message = outcome.message
        headers: dict[str, Any] = dict(message.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER) or 0) + 1
        headers[ATTEMPTS_HEADER] = attempts
        assert outcome.error is not None
        error = _error_text(outcome.error)
        properties = message.properties or {}
        common = {
            "body": message.body,
            "exchange": "",
            "message_id": properties.get("message_id"),
            "correlation_id": properties.get("correlation_id"),
            "type": properties.get("type"),
        }
        if outcome.kind == "failed" and attempts < self.max_attempts:
            delay = self.retry_delays[attempts - 1]
            headers[RETRY_AT_HEADER] = time.time() + delay
            headers["x-last-error"] = error
            headers.setdefault("x-original-routing-key", message.delivery_info.get("routing_key"))
            return OutgoingMessage(routing_key=self.topology.queue_name, headers=headers, **common)
        headers.pop(RETRY_AT_HEADER, None)
        headers.pop("x-last-error", None)
        headers.setdefault("x-original-routing-key", message.delivery_info.get("routing_key"))
        headers |= {
            "x-error": error,
            "x-error-kind": "malformed" if outcome.kind == "malformed" else "handler_failed",
            "x-dead-lettered-at": utcnow().isoformat(),
            "x-consumer": self.service,
        }
        return OutgoingMessage(routing_key=self.topology.dead_letter_queue_name, headers=headers, **common)
