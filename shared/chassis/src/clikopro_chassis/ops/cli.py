"""``clikopro-ops``: what an on-call engineer needs to watch and mend the platform (R22).

    clikopro-ops status [--json]                 every service: web, worker, queue, outbox, dead letters;
                                                 exit 1 when anything is unhealthy
    clikopro-ops queues                          depth and consumers of every queue and dead-letter queue
    clikopro-ops dead-letters SERVICE [filters]  the dead letters, one JSON line each, with their error
    clikopro-ops replay SERVICE [filters] [--id ID ...] [--dry-run]
                                                 put dead letters back on the service's queue (same event id)
    clikopro-ops purge SERVICE [filters] [--id ID ...] [--yes]
                                                 delete dead letters for good, after confirmation; audited

Filters: --type EVENT_TYPE, --error-kind (handler_failed, malformed, broker_delivery_limit...),
--older-than / --newer-than AGE (90s, 10m, 2h, 3d: time since dead-lettering).

The broker is ``--broker`` or ``BROKER_URL`` (``filesystem://...`` for the embedded one); names use
``--prefix`` or ``BUS_PREFIX``. Queue figures come from RabbitMQ's management API when it answers
(``--management-url`` or ``RABBITMQ_MANAGEMENT_URL``, default: the broker's host, port 15672; ``""``
turns it off), else from AMQP. Each service's web is reached at ``<SERVICE>_URL`` (as the gateway
does), default ``http://127.0.0.1:81xx``. Replays and purges write an audit line (JSON) to stdout and
append it to ``CLIKOPRO_OPS_AUDIT_LOG`` (default ``~/.local/state/clikopro-ops/audit.log``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clikopro_chassis.ops import dead_letters, status
from clikopro_chassis.ops.broker import view_for

SERVICES = ("identity", "missions", "payments", "subscriptions", "appointments", "reputation", "trust-safety")

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (90s, 10m, 2h, 3d)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _filters(parser: argparse.ArgumentParser, *, ids: bool = True) -> None:
    parser.add_argument("service")
    parser.add_argument("--type", dest="event_type", help="event type, e.g. TaskValidated")
    parser.add_argument("--error-kind", help="handler_failed, malformed, broker_delivery_limit ...")
    parser.add_argument("--older-than", type=duration, help="dead-lettered at least this long ago")
    parser.add_argument("--newer-than", type=duration, help="dead-lettered at most this long ago")
    if ids:
        parser.add_argument("--id", dest="ids", action="append", default=[], help="event id (repeatable)")
    parser.add_argument("--limit", type=int, default=10_000, help="dead letters looked at, at most")


def _selection(args: argparse.Namespace) -> dead_letters.Selection:
    return dead_letters.Selection(
        ids=tuple(getattr(args, "ids", ()) or ()),
        event_type=args.event_type,
        error_kind=args.error_kind,
        older_than=args.older_than,
        newer_than=args.newer_than,
    )


def audit_log_path(env: Mapping[str, str]) -> Path:
    if env.get("CLIKOPRO_OPS_AUDIT_LOG"):
        return Path(env["CLIKOPRO_OPS_AUDIT_LOG"])
    return Path(os.path.expanduser("~")) / ".local" / "state" / "clikopro-ops" / "audit.log"


def audit(env: Mapping[str, str], action: str, **details: Any) -> None:
    """Who did what to which dead letters, when and why: on stdout and appended to the audit log."""
    line = json.dumps(
        {
            "audit": action,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "by": env.get("CLIKOPRO_OPS_OPERATOR") or getpass.getuser(),
            **details,
        },
        ensure_ascii=False,
        default=str,
    )
    print(line)
    path = audit_log_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clikopro-ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--broker", default=os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    )
    parser.add_argument("--prefix", default=os.environ.get("BUS_PREFIX", "clikopro"))
    parser.add_argument("--management-url", default=os.environ.get("RABBITMQ_MANAGEMENT_URL"))
    sub = parser.add_subparsers(dest="command", required=True)
    state = sub.add_parser("status", help="the whole platform, problems first")
    state.add_argument("--services", default=os.environ.get("CLIKOPRO_SERVICES", ",".join(SERVICES)))
    state.add_argument("--json", action="store_true", help="for scripts")
    state.add_argument("--state-file", type=Path, help="where runs remember stalls (CLIKOPRO_OPS_STATE)")
    state.add_argument("--colour", choices=("auto", "always", "never"), default="auto")
    queues = sub.add_parser("queues", help="depth and consumers of every queue")
    queues.add_argument("--services", default=os.environ.get("CLIKOPRO_SERVICES", ",".join(SERVICES)))
    _filters(sub.add_parser("dead-letters", help="list a service's dead letters"))
    again = sub.add_parser("replay", help="move dead letters back to the service's queue")
    _filters(again)
    again.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    again.add_argument("--reason", default="", help="why (kept in the audit line)")
    purge = sub.add_parser("purge", help="delete dead letters (asks first)")
    _filters(purge)
    purge.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    purge.add_argument("--reason", default="", help="why (kept in the audit line)")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    args = build_parser().parse_args(argv)
    broker = args.broker
    prefix = args.prefix

    if args.command in ("status", "queues"):
        services = [s for s in args.services.split(",") if s]
        view = view_for(broker, args.management_url)
        if args.command == "queues":
            names = [n for s in services for n in (f"{prefix}.{s}", f"{prefix}.{s}.dead-letter")]
            print(f"{'queue':<45} {'messages':>9} {'consumers':>9}")
            for name, stats in view.stats(names).items():
                if stats.exists:
                    print(f"{name:<45} {stats.messages:>9} {stats.consumers:>9}")
                else:
                    print(f"{name:<45} {'(absent)':>9}")
            return 0
        tracker = status.StallTracker(args.state_file or status.default_state_file(env))
        statuses = status.collect(
            services, prefix=prefix, broker_url=broker, view=view, env=env, tracker=tracker
        )
        if args.json:
            print(status.as_json(statuses, view.source))
        else:
            colour = args.colour == "always" or (args.colour == "auto" and sys.stdout.isatty())
            print(status.render(statuses, colour=colour, source=view.source))
        return 1 if any(s.problems for s in statuses) else 0

    dead_queue = f"{prefix}.{args.service}.dead-letter"
    selection = _selection(args)
    if args.command == "dead-letters":
        for entry in dead_letters.peek(broker, dead_queue, selection, args.limit).selected:
            print(json.dumps(entry, ensure_ascii=False))
        return 0
    if args.command == "replay":
        target = f"{prefix}.{args.service}"
        result = dead_letters.replay(broker, dead_queue, target, selection, args.limit, dry_run=args.dry_run)
        for entry in result.selected:
            print(json.dumps({"would_replay" if args.dry_run else "replayed": entry}, ensure_ascii=False))
        if args.dry_run:
            print(f"would replay {len(result.selected)} of {result.seen} message(s) to {target} (dry run)")
            return 0
        print(f"replayed {len(result.selected)} message(s) to {target}")
        if result.selected:
            audit(
                env,
                "dead_letters_replayed",
                service=args.service,
                queue=dead_queue,
                selection=selection.as_dict(),
                count=len(result.selected),
                event_ids=[e.get("id") for e in result.selected],
                reason=args.reason,
            )
        return 0
    # purge
    preview = dead_letters.peek(broker, dead_queue, selection, args.limit)
    if not preview.selected:
        print(f"nothing to purge in {dead_queue} ({preview.seen} dead letter(s), none selected)")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("purge deletes for good: confirm with --yes (no terminal to ask on)", file=sys.stderr)
            return 2
        answer = input(
            f"Delete {len(preview.selected)} dead letter(s) of {args.service} for good? "
            f"Type the service name to confirm: "
        )
        if answer.strip() != args.service:
            print("not confirmed; nothing deleted", file=sys.stderr)
            return 2
    result = dead_letters.purge(broker, dead_queue, selection, args.limit)
    print(f"purged {len(result.selected)} message(s) from {dead_queue}")
    audit(
        env,
        "dead_letters_purged",
        service=args.service,
        queue=dead_queue,
        selection=selection.as_dict(),
        count=len(result.selected),
        event_ids=[e.get("id") for e in result.selected],
        errors=sorted({str(e.get("error_kind")) for e in result.selected}),
        reason=args.reason,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
