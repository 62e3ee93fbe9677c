"""``clikopro-ops status``: the platform on one screen, problems first.

Per service: its web process (``/ready``: database, broker, and the outbox's pending count and
the age of its oldest pending event, which the web reads from its own database), its worker
(seen through its queue's consumers and its outbox lag), its queue (messages, ready, unacked,
consumers, rates, how long it has been stalled) and its dead letters (count, oldest, most
frequent errors). Exit status 0 when nothing is wrong, 1 otherwise: cron or a probe can use it.

A queue that holds messages but delivers none is *stalled*. Without peeking (a quorum queue's
delivery limit counts peeks) the broker does not say how old its head message is; so each run
records what it saw in a small state file, and the next run says since when the queue has been
stalled: at least that long is what its oldest message has waited. On the embedded broker the
age of the oldest message is known exactly (the message files are named by their enqueue time).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clikopro_chassis.ops import dead_letters
from clikopro_chassis.ops.broker import BrokerView, QueueStats

OUTBOX_LAG_LIMIT_SECONDS = 60.0
DEFAULT_PORTS = {
    "identity": 8101,
    "missions": 8102,
    "payments": 8103,
    "subscriptions": 8104,
    "appointments": 8105,
    "reputation": 8106,
    "trust-safety": 8107,
}


@dataclass
class Problem:
    service: str
    what: str
    severity: str = "critical"  # critical | warning


@dataclass
class ServiceStatus:
    service: str
    web: dict[str, Any]
    worker: dict[str, Any]
    queue: dict[str, Any]
    dead_letters: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


def service_url(service: str, env: Mapping[str, str]) -> str:
    """Where the service's web process answers: ``<SERVICE>_URL`` as for the gateway, else local."""
    key = service.upper().replace("-", "_") + "_URL"
    return env.get(key) or f"http://127.0.0.1:{DEFAULT_PORTS.get(service, 8000)}"


def read_web(url: str, timeout: float = 3.0) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/ready", timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:  # 503: not ready, with its checks
        try:
            body = json.load(exc)
        except ValueError:
            return {"url": url, "status": f"HTTP {exc.code}"}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"url": url, "status": "down", "error": str(getattr(exc, "reason", exc))}
    return {
        "url": url,
        "status": body.get("status"),
        "checks": body.get("checks"),
        "outbox": body.get("outbox"),
    }


class StallTracker:
    """Remembers, between runs, each queue's last figures and since when it delivers nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.previous: dict[str, Any] = {}
        if path and path.exists():
            try:
                self.previous = json.loads(path.read_text())
            except ValueError:
                self.previous = {}
        self.current: dict[str, Any] = {}

    def observe(self, stats: QueueStats, now: float) -> dict[str, Any]:
        before = self.previous.get(stats.name) or {}
        stalled_since = None
        if stats.messages > 0:
            no_consumer = stats.consumers == 0
            nothing_delivered = (
                stats.delivered_total is not None
                and before.get("delivered_total") == stats.delivered_total
                and before.get("messages", 0) > 0
            )
            if no_consumer or nothing_delivered:
                stalled_since = before.get("stalled_since") or before.get("observed_at") or now
        self.current[stats.name] = {
            "messages": stats.messages,
            "delivered_total": stats.delivered_total,
            "observed_at": now,
            "stalled_since": stalled_since,
        }
        return {
            "growing": bool(before) and stats.messages > int(before.get("messages") or 0),
            "previous_messages": before.get("messages"),
            "stalled_for_seconds": round(now - stalled_since, 1) if stalled_since else None,
        }

    def save(self) -> None:
        if not self.path:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({**self.previous, **self.current}))
        except OSError:
            pass


def collect(
    services: Sequence[str],
    *,
    prefix: str,
    broker_url: str,
    view: BrokerView,
    env: Mapping[str, str],
    tracker: StallTracker,
    dead_letter_sample: int = 500,
) -> list[ServiceStatus]:
    now = time.time()
    names = [n for s in services for n in (f"{prefix}.{s}", f"{prefix}.{s}.dead-letter")]
    stats = view.stats(names)
    result = []
    for service in services:
        web = read_web(service_url(service, env))
        queue_stats = stats[f"{prefix}.{service}"]
        dead_stats = stats[f"{prefix}.{service}.dead-letter"]
        queue = {**asdict(queue_stats), "source": view.source}
        if queue_stats.exists:
            queue |= tracker.observe(queue_stats, now)
        dead: dict[str, Any] = {"count": dead_stats.messages if dead_stats.exists else 0}
        if dead["count"]:
            sample = dead_letters.peek(broker_url, dead_stats.name, limit=dead_letter_sample).selected
            dead |= dead_letters.summarise(sample)
            dead["count"] = max(dead_stats.messages, len(sample))
        outbox = web.get("outbox") or {}
        worker = {
            "consuming": None if not queue_stats.exists else bool(queue_stats.consumers),
            "outbox_pending": outbox.get("pending"),
            "outbox_oldest_pending_age_seconds": outbox.get("oldest_pending_age_seconds"),
        }
        status = ServiceStatus(service, web, worker, queue, dead)
        status.problems = problems_of(status)
        result.append(status)
    tracker.save()
    return result


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def problems_of(status: ServiceStatus) -> list[Problem]:
    found: list[Problem] = []
    service, web, queue, dead, worker = (
        status.service,
        status.web,
        status.queue,
        status.dead_letters,
        status.worker,
    )
    if web.get("status") != "ok":
        failing = {k: v for k, v in (web.get("checks") or {}).items() if v != "ok"}
        found.append(Problem(service, f"web {web.get('status')} at {web['url']} {failing or ''}".strip()))
    lag = worker.get("outbox_oldest_pending_age_seconds")
    if lag is not None and lag > OUTBOX_LAG_LIMIT_SECONDS:
        found.append(
            Problem(service, f"outbox: {worker['outbox_pending']} event(s) unpublished, oldest {_age(lag)}")
        )
    if queue.get("exists"):
        waited = queue.get("oldest_age_seconds") or queue.get("stalled_for_seconds")
        if queue.get("consumers") == 0:
            held = f", {queue['messages']} message(s) waiting" if queue["messages"] else ""
            oldest = f", oldest {_age(waited)}" if queue["messages"] and waited is not None else ""
            found.append(Problem(service, f"nobody consumes {queue['name']}{held}{oldest}"))
        elif queue.get("stalled_for_seconds"):
            found.append(
                Problem(service, f"{queue['name']} delivers nothing for {_age(queue['stalled_for_seconds'])}")
            )
        if queue.get("growing"):
            found.append(
                Problem(
                    service,
                    f"{queue['name']} grows: {queue['previous_messages']} -> {queue['messages']}",
                    "warning",
                )
            )
    if dead.get("count"):
        top = (dead.get("top_errors") or [{}])[0]
        found.append(
            Problem(
                service,
                f"{dead['count']} dead letter(s), oldest {_age(dead.get('oldest_age_seconds'))}; "
                f"{top.get('error_kind')}: {top.get('error')}",
            )
        )
    return found


# -- rendering ------------------------------------------------------------------------------------

RED, YELLOW, GREEN, DIM, BOLD, RESET = "\033[31m", "\033[33m", "\033[32m", "\033[2m", "\033[1m", "\033[0m"


def _num(value: Any, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def render(statuses: Sequence[ServiceStatus], *, colour: bool, source: str) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    problems = [p for s in statuses for p in s.problems]
    problems.sort(key=lambda p: (p.severity != "critical", p.service))
    lines = []
    if problems:
        lines.append(paint(f"{len(problems)} problem(s)", BOLD + RED))
        for problem in problems:
            mark = paint("CRIT", RED) if problem.severity == "critical" else paint("WARN", YELLOW)
            lines.append(f"  {mark} {problem.service:<14} {problem.what}")
    else:
        lines.append(paint("all healthy", BOLD + GREEN))
    lines.append("")
    lines.append(
        f"{'service':<14} {'web':<6} {'outbox':>7} {'lag':>6}  {'queue':>6} {'ready':>6} {'unack':>6} "
        f"{'cons':>4} {'in/s':>6} {'out/s':>6} {'waited':>7}  {'dead':>5} {'oldest':>7}"
    )
    ordered = sorted(statuses, key=lambda s: (not s.problems, s.service))
    for s in ordered:
        q, d, w = s.queue, s.dead_letters, s.worker
        exists = q.get("exists")
        waited = q.get("oldest_age_seconds") or q.get("stalled_for_seconds")
        row = (
            f"{s.service:<14} {s.web.get('status')!s:<6} {_num(w.get('outbox_pending')):>7} "
            f"{_age(w.get('outbox_oldest_pending_age_seconds')) if w.get('outbox_pending') else '-':>6}  "
            f"{_num(q.get('messages')) if exists else 'none':>6} {_num(q.get('ready')) if exists else '':>6} "
            f"{_num(q.get('unacked')) if exists else '':>6} {_num(q.get('consumers')) if exists else '':>4} "
            f"{_num(q.get('publish_rate'), '{:.1f}'):>6} {_num(q.get('deliver_rate'), '{:.1f}'):>6} "
            f"{_age(waited) if waited else '-':>7}  {d.get('count', 0):>5} "
            f"{_age(d.get('oldest_age_seconds')) if d.get('count') else '-':>7}"
        )
        lines.append(paint(row, RED) if s.problems else row)
        for error in d.get("top_errors") or []:
            lines.append(
                paint(f"{'':<16}dead: {error['count']} x {error['error_kind']}: {error['error']}", DIM)
            )
    lines.append("")
    lines.append(
        paint(
            f"queues from: {source}"
            + (
                "  (no unacked count, no rates: enable rabbitmq_management for them)"
                if source == "amqp"
                else "  (filesystem transport: no unacked count, no rates)"
                if source == "embedded"
                else ""
            ),
            DIM,
        )
    )
    return "\n".join(lines)


def as_json(statuses: Sequence[ServiceStatus], source: str) -> str:
    problems = [asdict(p) for s in statuses for p in s.problems]
    return json.dumps(
        {
            "healthy": not problems,
            "source": source,
            "problems": problems,
            "services": [asdict(s) for s in statuses],
        },
        indent=1,
        default=str,
    )


def default_state_file(env: Mapping[str, str]) -> Path:
    if env.get("CLIKOPRO_OPS_STATE"):
        return Path(env["CLIKOPRO_OPS_STATE"])
    base = Path(env.get("XDG_STATE_HOME") or Path(os.path.expanduser("~")) / ".local" / "state")
    return base / "clikopro-ops" / "status.json"
