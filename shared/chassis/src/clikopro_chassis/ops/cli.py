"""``clikopro-ops``: what operations need to watch and mend the event bus (R22).

    clikopro-ops queues                      depth and consumers of every service queue and dead-letter queue
    clikopro-ops dead-letters SERVICE        what is in a service's dead-letter queue, with the errors
    clikopro-ops replay SERVICE [--limit N]  move dead letters back to the service's queue

The broker is ``--broker`` or ``BROKER_URL``; names use ``--prefix`` or
``BUS_PREFIX`` (default ``clikopro``). Outbox lag and handler failures are
Prometheus metrics of each worker (``clikopro_outbox_oldest_pending_age_seconds``,
``clikopro_events_handled_total``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from clikopro_chassis.ops.dead_letters import connect, peek, queue_state, replay

SERVICES = ("identity", "missions", "payments", "subscriptions", "appointments", "reputation", "trust-safety")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clikopro-ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--broker", default=os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    )
    parser.add_argument("--prefix", default=os.environ.get("BUS_PREFIX", "clikopro"))
    sub = parser.add_subparsers(dest="command", required=True)
    queues = sub.add_parser("queues")
    queues.add_argument("--services", default=",".join(SERVICES))
    dead = sub.add_parser("dead-letters")
    dead.add_argument("service")
    dead.add_argument("--limit", type=int, default=50)
    again = sub.add_parser("replay")
    again.add_argument("service")
    again.add_argument("--limit", type=int, default=1_000)
    args = parser.parse_args(argv)

    broker = args.broker.replace(
        "amqp://guest:guest@127.0.0.1:5672//", "amqp://guest:guest@127.0.0.1:5672/%2F"
    )
    with connect(broker) as connection:
        channel = connection.channel()
        if args.command == "queues":
            print(f"{'queue':<45} {'messages':>9} {'consumers':>9}")
            for service in args.services.split(","):
                for name in (f"{args.prefix}.{service}", f"{args.prefix}.{service}.dead-letter"):
                    state = queue_state(channel, name)
                    if state is None:
                        channel = connection.channel()  # a missing queue closes the channel
                        print(f"{name:<45} {'(absent)':>9}")
                    else:
                        print(f"{name:<45} {state.messages:>9} {state.consumers:>9}")
        elif args.command == "dead-letters":
            for entry in peek(channel, f"{args.prefix}.{args.service}.dead-letter", args.limit):
                print(json.dumps(entry, ensure_ascii=False))
        elif args.command == "replay":
            moved = replay(
                channel,
                f"{args.prefix}.{args.service}.dead-letter",
                f"{args.prefix}.{args.service}",
                args.limit,
            )
            print(f"replayed {moved} message(s) to {args.prefix}.{args.service}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
