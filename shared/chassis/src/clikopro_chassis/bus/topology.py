"""Names and declarations of the exchange and queues (EVENTS.md, "Topology").

- one durable topic exchange ``<prefix>.events`` for every domain event,
  routing key ``<producer>.<EventType>``;
- one durable queue per consuming service, ``<prefix>.<service>``, bound to
  the keys it handles (a quorum queue on RabbitMQ);
- one dead-letter queue per service, ``<prefix>.<service>.dead-letter``.

Retries do not need queues of their own: a failed message is published back
to the service queue with its attempt count and the time it may run again
(see :mod:`clikopro_chassis.bus.consumer`), which works on every transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kombu import Exchange, Queue, binding

from clikopro_contracts import contract_for, latest_version


def routing_keys(event_type: str) -> tuple[str, ...]:
    """``<producer>.<EventType>`` for every service allowed to publish the type."""
    return contract_for(event_type, latest_version(event_type)).routing_keys


@dataclass(frozen=True)
class Topology:
    prefix: str
    service: str
    queue_type: str = "quorum"
    delivery_limit: int = 20

    @property
    def exchange_name(self) -> str:
        return f"{self.prefix}.events"

    @property
    def queue_name(self) -> str:
        return f"{self.prefix}.{self.service}"

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.prefix}.{self.service}.dead-letter"

    def exchange(self) -> Exchange:
        return Exchange(self.exchange_name, type="topic", durable=True)

    def _arguments(self) -> dict[str, Any]:
        if self.queue_type != "quorum":
            return {}
        return {"x-queue-type": "quorum"}

    def queue(self, event_types: Iterable[str]) -> Queue:
        exchange = self.exchange()
        keys = sorted({key for t in event_types for key in routing_keys(t)})
        arguments = self._arguments()
        if self.queue_type == "quorum":
            # A message redelivered this often is killing its worker: RabbitMQ
            # moves it to the dead-letter queue instead of looping forever.
            arguments |= {
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dead_letter_queue_name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
        return Queue(
            self.queue_name,
            bindings=[binding(exchange, routing_key=key) for key in keys],
            durable=True,
            queue_arguments=arguments or None,
        )

    def dead_letter_queue(self) -> Queue:
        return Queue(self.dead_letter_queue_name, durable=True, queue_arguments=self._arguments() or None)

    def declare(self, channel: Any, event_types: Iterable[str]) -> Queue:
        """Declare the exchange, the service queue with its bindings, and the dead-letter queue."""
        self.exchange()(channel).declare()
        self.dead_letter_queue()(channel).declare()
        queue = self.queue(event_types)(channel)
        queue.declare()
        return queue

    def declare_exchange(self, channel: Any) -> None:
        self.exchange()(channel).declare()
