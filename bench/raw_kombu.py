"""The baseline: plain kombu, no database. One process per role.

``python -m bench.raw_kombu produce --exchange X --count N --out F``: publishes N
persistent messages (a real UserRegistered body) with kombu's ``confirm_publish``
transport option, i.e. each publish waits for its confirm (kombu's default way).

``python -m bench.raw_kombu consume --queue Q --count N --ready F --out F``:
consumes with manual acks (one ``basic.ack`` per message) and the chassis's prefetch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from bench.common import BROKER_URL

ROUTING_KEY = "identity.UserRegistered"


def sample_body() -> str:
    from clikopro_chassis.outbox import encode
    from clikopro_contracts import make_event

    data = {
        "user_id": str(uuid.uuid4()),
        "role": "client",
        "email": "ana.martin@example.fr",
        "first_name": "Ana",
        "last_name": "Martin",
        "registered_at": "2026-11-26T08:00:00Z",
    }
    return encode(make_event("UserRegistered", data, correlation_id=str(uuid.uuid4()), producer="identity"))


def produce(exchange_name: str, count: int, out: Path) -> None:
    body = sample_body()
    exchange = Exchange(exchange_name, type="topic", durable=True)
    with Connection(BROKER_URL, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel())
        producer.publish("warm-up", exchange=exchange, routing_key="nowhere", delivery_mode=2)
        started = time.time()
        for _ in range(count):
            producer.publish(
                body,
                exchange=exchange,
                routing_key=ROUTING_KEY,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(uuid.uuid4()),
            )
        finished = time.time()
    out.write_text(json.dumps({"first_publish": started, "last_confirm": finished, "count": count}))


def consume(queue_name: str, count: int, prefetch: int, ready: Path, out: Path) -> None:
    queue = Queue(queue_name, no_declare=True)
    state = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(message) -> None:
        if not state["n"]:
            state["first"] = time.time()
        message.ack()
        state["n"] += 1
        if state["n"] == count:
            state["last"] = time.time()

    with Connection(BROKER_URL) as conn:
        channel = conn.channel()
        channel.basic_qos(0, prefetch, False)
        with Consumer(channel, queues=[queue], on_message=on_message, accept=None):
            ready.write_text("ready")
            deadline = time.monotonic() + 300
            while state["n"] < count and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    pass
    out.write_text(
        json.dumps({"first_receive": state["first"], "last_ack": state["last"], "count": state["n"]})
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.raw_kombu")
    parser.add_argument("role", choices=["produce", "consume"])
    parser.add_argument("--exchange")
    parser.add_argument("--queue")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefetch", type=int, default=100)
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.role == "produce":
        produce(args.exchange, args.count, args.out)
    else:
        consume(args.queue, args.count, args.prefetch, args.ready, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
