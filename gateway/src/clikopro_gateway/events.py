"""The gateway's event listener: a kombu consumer in a background thread of the gateway process.

It keeps the local state the edge checks need, without a database:

- ``AccountSuspended`` / ``AccountReinstated`` (trust & safety) -> :class:`SuspensionSet`;
- ``SubscriptionActivated/Renewed/Cancelled/Lapsed`` (subscriptions) -> :class:`EntitlementCache`.

Every gateway process needs every event, so each has its own queue, bound to the events exchange:
``<prefix>.gateway.<instance>``, not durable, deleted by RabbitMQ after 5 minutes without a
consumer (``x-expires``): a reconnection within that time loses nothing; after a longer outage the
queue is new, events may have been missed, and the listener reloads the suspensions from identity
(replacing its copy) and marks every cached plan to be read again.

On start-up (a new queue), once it consumes, it loads identity's list of suspensions in force, so
that a restarted gateway is right at once. While the broker is unreachable it keeps polling that
list, so a suspension still reaches the gateway.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from typing import Any

import httpx
from kombu import Connection, Consumer, Exchange, Queue, binding
from kombu.message import Message
from prometheus_client import Counter

from clikopro_chassis.bus.connection import broker_connection, describe, is_amqp
from clikopro_chassis.bus.topology import routing_keys
from clikopro_contracts import ContractError, Event, load_data, parse_event
from clikopro_gateway.entitlements import EntitlementCache
from clikopro_gateway.suspensions import SuspensionSet, fetch_list

log = logging.getLogger(__name__)

SUSPENSION_EVENTS = ("AccountSuspended", "AccountReinstated")
PLAN_EVENTS = ("SubscriptionActivated", "SubscriptionRenewed", "SubscriptionCancelled", "SubscriptionLapsed")
EVENT_TYPES = SUSPENSION_EVENTS + PLAN_EVENTS
#: RabbitMQ deletes the queue of a gateway gone this long (ms).
QUEUE_EXPIRES_MS = 300_000
MAX_BACKOFF_SECONDS = 10.0
#: How long one wait for messages lasts (also how quickly a stop is noticed).
DRAIN_SECONDS = 0.5

EDGE_EVENTS = Counter(
    "clikopro_gateway_events_total", "Events applied to the gateway's local state", ["type", "outcome"]
)


class EdgeEventListener:
    def __init__(
        self,
        *,
        broker_url: str,
        prefix: str,
        instance: str,
        identity_url: str,
        suspensions: SuspensionSet,
        entitlements: EntitlementCache,
        internal_timeout: float = 2.0,
        internal_token: str = "",
    ) -> None:
        self.broker_url = broker_url
        self.amqp = is_amqp(broker_url)
        # On RabbitMQ a random part makes two processes with one name impossible; the embedded
        # transports keep no queue for us after a crash, so a stable name is reused (and purged).
        suffix = f"{instance}-{secrets.token_hex(3)}" if self.amqp else instance
        self.exchange_name = f"{prefix}.events"
        self.queue_name = f"{prefix}.gateway.{suffix}"
        self.identity_url = identity_url
        self.suspensions = suspensions
        self.entitlements = entitlements
        self.internal_timeout = internal_timeout
        self.internal_token = internal_token
        #: Set while the listener consumes its queue.
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._replace_pending = False

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="gateway-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            with broker_connection(self.broker_url, connect_timeout=2) as conn:
                self._queue()(conn.channel()).delete()
        except Exception as exc:  # noqa: BLE001 - RabbitMQ deletes it anyway once it expires
            log.debug("could not delete %s: %s", self.queue_name, exc)

    # -- the queue --------------------------------------------------------------------------------

    def _queue(self) -> Queue:
        exchange = Exchange(self.exchange_name, type="topic", durable=True)
        keys = sorted({key for event_type in EVENT_TYPES for key in routing_keys(event_type)})
        return Queue(
            self.queue_name,
            bindings=[binding(exchange, routing_key=key) for key in keys],
            durable=False,
            auto_delete=False,
            queue_arguments={"x-expires": QUEUE_EXPIRES_MS} if self.amqp else None,
        )

    def _queue_exists(self, conn: Connection) -> bool:
        if not self.amqp:
            return True  # nothing expires it
        channel = conn.channel()
        try:
            channel.queue_declare(queue=self.queue_name, passive=True)
            return True
        except Exception:  # noqa: BLE001 - NOT_FOUND closes the channel
            return False
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001
                pass

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        backoff = 0.5
        first = True
        while not self._stop.is_set():
            try:
                with broker_connection(self.broker_url) as conn:
                    conn.ensure_connection(max_retries=1)
                    lost = not first and not self._queue_exists(conn)
                    channel = conn.channel()
                    exchange = Exchange(self.exchange_name, type="topic", durable=True)
                    exchange(channel).declare()
                    queue = self._queue()(channel)
                    queue.declare()
                    if first and not self.amqp:
                        queue.purge()  # what a previous run left: its state was lost with it
                    if lost:
                        log.warning("the gateway's queue expired during the outage: reloading the state")
                        self.entitlements.forget_events()
                        self._replace_pending = True
                    consumer = Consumer(channel, queues=[queue], on_message=self._on_message, accept=None)
                    with consumer:
                        self.ready.set()
                        log.info("gateway consuming %s on %s", self.queue_name, describe(self.broker_url))
                        first = False
                        backoff = 0.5
                        while not self._stop.is_set():
                            if self._replace_pending or not self.suspensions.loaded.is_set():
                                self._load_suspensions(replace=self._replace_pending)
                            try:
                                conn.drain_events(timeout=DRAIN_SECONDS)
                            except TimeoutError:
                                pass
                            if self.amqp:
                                conn.heartbeat_check()
            except Exception as exc:  # noqa: BLE001 - broker restart, network: keep trying
                self.ready.clear()
                log.warning("gateway event listener lost the broker, retrying in %.1fs: %s", backoff, exc)
                # Meanwhile identity's list still brings new suspensions (it only adds).
                self._load_suspensions(replace=False)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self.ready.clear()

    def _load_suspensions(self, *, replace: bool) -> None:
        try:
            items = fetch_list(self.identity_url, self.internal_timeout, self.internal_token)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("cannot read the suspensions from identity yet: %s", exc)
            return
        self.suspensions.apply_list(items, replace=replace)
        if replace:
            self._replace_pending = False
        log.info("%d suspension(s) in force loaded from identity", len(items))

    # -- one message ------------------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        try:
            event = parse_event(message.body)
        except ContractError as exc:
            # The gateway's state is a cache: a broken message is logged, never retried here
            # (the consuming services dead-letter it in their own queues).
            log.error("gateway ignored a message that is not a valid event: %s", exc)
            EDGE_EVENTS.labels("unknown", "malformed").inc()
            message.ack()
            return
        try:
            applied = self.apply(event)
            EDGE_EVENTS.labels(event.type, "applied" if applied else "superseded").inc()
        except Exception:
            log.exception("gateway could not apply %s %s", event.type, event.id)
            EDGE_EVENTS.labels(event.type, "failed").inc()
        message.ack()

    def apply(self, event: Event) -> bool:
        data: dict[str, Any] = load_data(event)
        if event.type == "AccountSuspended":
            return self.suspensions.suspend(_id(data["user_id"]), data["suspended_at"], data["until"])
        if event.type == "AccountReinstated":
            return self.suspensions.reinstate(_id(data["user_id"]), data["reinstated_at"])
        if event.type in PLAN_EVENTS:
            return self.entitlements.apply_event(_id(data["pro_id"]), data)
        return False


def _id(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
