"""Events per second through outbox -> RabbitMQ -> consumer with inbox, against raw
kombu on the same broker in the same run, and the producer-commit to
consumer-commit latency at half the measured capacity.

``python -m bench.events_pipeline [--help]`` (or ``python -m bench.run events_pipeline``).

Phases, each on fresh databases and fresh exchange/queue names:

raw        kombu alone: a producer process publishing N persistent messages with
           ``confirm_publish`` (one confirm at a time, kombu's way) to a topic exchange,
           and a consumer process on a durable quorum queue acking each message
           (prefetch 100), both running at once. msgs/s = N / (first publish -> last ack).
drain      a backlog of N events committed into the producing service's outbox in one
           transaction, while its worker (the relay) and the sink's worker (another
           service, its own database) run. events/s = N / (that commit -> last consumer
           commit). No producer competes for the CPU.
sustained  producer processes write N events flat out (one per transaction, through
           UnitOfWork) while both workers run. events/s = N / (first producer
           transaction -> last consumer commit). This is the figure compared to raw.
latency    producers paced at half the sustained figure for a fixed time; each event's
           latency = consumer commit - producer commit (wall clock, same machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from kombu import Connection, Exchange, Queue, binding
from sqlalchemy import insert

from bench.common import (
    BROKER_URL,
    RESULTS_DIR,
    CpuSampler,
    Scratch,
    distribution_ms,
    machine_info,
    scratch,
    table,
    update_docs_section,
    wait_for,
    wait_quiet,
    write_results,
)
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import outbox_messages

NAME = "events_pipeline"
GOALS = {"throughput_ratio_min": 0.40, "latency_p50_ms_max": 30.0, "latency_p99_ms_max": 300.0}
CHASSIS_DEFAULTS = {"CONSUMER_BATCH_SIZE": 50, "CONSUMER_PREFETCH": 100, "RELAY_BATCH_SIZE": 500}


@dataclasses.dataclass
class Options:
    raw_count: int = 5000
    drain_count: int = 10000
    sustained_count: int = 10000
    producers: int = 3
    latency_seconds: float = 20.0
    latency_producers: int = 2
    latency_rate: float = 0.0
    phases: tuple[str, ...] = ("raw", "drain", "sustained", "latency")
    settings: dict[str, str] = dataclasses.field(default_factory=dict)
    patches: tuple[str, ...] = ()
    profile: bool = False
    attempts: int = 2
    out: Path | None = None
    docs: bool = True


# -- raw kombu -----------------------------------------------------------------------------------------


def run_raw(s: Scratch, opts: Options, labels: dict[int, str], name: str = "raw") -> dict[str, Any]:
    folder = s.dir / name
    folder.mkdir()
    exchange_name = s.exchange(f"{s.prefix}_{name}.events")
    queue_name = s.queue(f"{s.prefix}_{name}.sink")
    exchange = Exchange(exchange_name, type="topic", durable=True)
    queue = Queue(
        queue_name,
        bindings=[binding(exchange, routing_key="identity.UserRegistered")],
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    with Connection(BROKER_URL) as conn:
        channel = conn.channel()
        exchange(channel).declare()
        queue(channel).declare()
    count = opts.raw_count
    with CpuSampler(labels) as cpu:
        consumer = s.spawn(
            [
                "-m",
                "bench.raw_kombu",
                "consume",
                "--queue",
                queue_name,
                "--count",
                str(count),
                "--ready",
                str(folder / "ready"),
                "--out",
                str(folder / "consumer.json"),
            ],
            log=f"{name}-consumer.log",
        )
        labels[consumer.pid] = "raw consumer"
        wait_for(lambda: (folder / "ready").exists(), timeout=30, what="raw consumer ready", alive=[consumer])
        producer = s.spawn(
            [
                "-m",
                "bench.raw_kombu",
                "produce",
                "--exchange",
                exchange_name,
                "--count",
                str(count),
                "--out",
                str(folder / "producer.json"),
            ],
            log=f"{name}-producer.log",
        )
        labels[producer.pid] = "raw producer"
        for process, log in ((producer, f"{name}-producer.log"), (consumer, f"{name}-consumer.log")):
            if process.wait(180) != 0:
                raise RuntimeError(f"{log} failed:\n{s.log_tail(log)}")
    produced = json.loads((folder / "producer.json").read_text())
    consumed = json.loads((folder / "consumer.json").read_text())
    if consumed["count"] != count:
        raise RuntimeError(f"raw consumer got {consumed['count']} of {count}")
    elapsed = consumed["last_ack"] - produced["first_publish"]
    return {
        "count": count,
        "transport": "separate producer and consumer processes, concurrently",
        "end_to_end_msgs_per_s": round(count / elapsed, 1),
        "publish_msgs_per_s": round(count / (produced["last_confirm"] - produced["first_publish"]), 1),
        "elapsed_s": round(elapsed, 3),
        "cpu": cpu.report(),
    }


# -- the pipeline ----------------------------------------------------------------------------------------


class Pipeline:
    """Two databases (producer's outbox, sink's inbox + projection), a bus prefix and the two workers."""

    def __init__(self, s: Scratch, name: str, opts: Options, labels: dict[int, str]) -> None:
        from bench.events_worker import create_schema

        self.s, self.name, self.opts, self.labels = s, name, opts, labels
        self.dir = s.dir / name
        self.dir.mkdir()
        self.out_url = s.database(f"{name}_identity")
        self.in_url = s.database(f"{name}_sink")
        create_schema(self.out_url, sink=False)
        create_schema(self.in_url, sink=True)
        self.prefix = f"{s.prefix}_{name}"
        s.queue(f"{self.prefix}.benchsink")
        s.queue(f"{self.prefix}.benchsink.dead-letter")
        s.exchange(f"{self.prefix}.events")
        self.sink = self.relay = None
        self.warm_up = 0
        self._count_conn = psycopg.connect(self.in_url, autocommit=True)

    def _env(self, database_url: str) -> dict[str, str]:
        return {
            "DATABASE_URL": database_url,
            "BROKER_URL": BROKER_URL,
            "BUS_PREFIX": self.prefix,
            "LOG_FORMAT": "text",
            "BENCH_DIR": str(self.dir),
            "BENCH_PROFILE": "1" if self.opts.profile else "0",
            "BENCH_PATCHES": ",".join(self.opts.patches),
            **self.opts.settings,
        }

    def start(self, warm_up: int = 20) -> None:
        """Start the sink's worker, then the relay's, then put ``warm_up`` events through.

        The measured events then find the connections open, as in a running system.
        """
        self.sink = self.s.spawn(
            ["-m", "bench.events_worker", "sink"], env=self._env(self.in_url), log=f"{self.name}-sink.log"
        )
        self.labels[self.sink.pid] = "sink worker (consumer)"
        wait_for(
            lambda: (self.dir / "sink.ready").exists(), timeout=30, what="sink consuming", alive=[self.sink]
        )
        self.relay = self.s.spawn(
            ["-m", "bench.events_worker", "relay"], env=self._env(self.out_url), log=f"{self.name}-relay.log"
        )
        self.labels[self.relay.pid] = "relay worker"
        wait_for((self.dir / "relay.started").exists, timeout=30, what="relay started", alive=[self.relay])
        from bench.events_producer import publish_one

        database = Database(self.out_url)
        for _ in range(warm_up):
            publish_one(database)
            time.sleep(0.01)
        database.dispose()
        self.warm_up = warm_up
        self.wait_projected(0, timeout=30)

    def projected(self) -> int:
        return self._count_conn.execute("select count(*) from bench_projected_users").fetchone()[0]

    def wait_projected(self, count: int, timeout: float) -> None:
        """Wait for ``count`` measured events (after the warm-up ones) in the projection."""
        wait_for(
            lambda: self.projected() >= self.warm_up + count,
            timeout=timeout,
            interval=0.1,
            what=f"{self.name}: {count} events projected",
            alive=[p for p in (self.sink, self.relay) if p],
        )

    def stop(self) -> dict[str, Any]:
        """Stop both workers; their commit times and CPU figures."""
        for process, role in ((self.relay, "relay"), (self.sink, "sink")):
            if process is not None and self.s.stop(process, timeout=30) != 0:
                raise RuntimeError(
                    f"{role} worker exited with {process.returncode}:\n"
                    f"{self.s.log_tail(f'{self.name}-{role}.log')}"
                )
        commits = dict(json.loads((self.dir / "sink.commits.json").read_text()))
        stats = {
            role: json.loads((self.dir / f"{role}.stats.json").read_text()) for role in ("relay", "sink")
        }
        return {"commits": commits, "stats": stats}

    def produce(self, count: int, processes: int, rate: float) -> list[dict[str, Any]]:
        """Run producer processes (flat out if rate is 0); their per-event records."""
        base, extra = divmod(count, processes)
        started = []
        for k in range(processes):
            n = base + (1 if k < extra else 0)
            args = [
                "-m",
                "bench.events_producer",
                "--db",
                self.out_url,
                "--count",
                str(n),
                "--ready",
                str(self.dir / f"producer{k}.ready"),
                "--go",
                str(self.dir / "go"),
                "--out",
                str(self.dir / f"producer{k}.json"),
            ]
            if rate:
                args += ["--rate", str(rate / processes), "--phase", str(k / processes)]
            process = self.s.spawn(
                args, env={"BENCH_PATCHES": ",".join(self.opts.patches)}, log=f"{self.name}-producer{k}.log"
            )
            self.labels[process.pid] = "producers"
            started.append(process)
        wait_for(
            lambda: all((self.dir / f"producer{k}.ready").exists() for k in range(processes)),
            timeout=30,
            what="producers ready",
            alive=started,
        )
        (self.dir / "go").write_text(repr(time.time() + 0.1))
        for k, process in enumerate(started):
            if process.wait(300) != 0:
                raise RuntimeError(f"producer {k} failed:\n{self.s.log_tail(f'{self.name}-producer{k}.log')}")
        return [json.loads((self.dir / f"producer{k}.json").read_text()) for k in range(processes)]

    def published_times(self, ids: list[str]) -> dict[str, float]:
        """When the relay had each event confirmed by the broker (``published_at``)."""
        with psycopg.connect(self.out_url) as conn:
            rows = conn.execute(
                "select event_id, extract(epoch from published_at) from outbox_messages"
            ).fetchall()
        times = {event_id: float(at) for event_id, at in rows if at is not None}
        return {i: times[i] for i in ids}

    def close(self) -> None:
        self._count_conn.close()
        for process in (self.relay, self.sink):
            if process is not None:
                self.s.stop(process)
        self.s.drop_database(self.out_url)
        self.s.drop_database(self.in_url)


def prefill(database_url: str, count: int) -> tuple[list[str], float]:
    """A backlog of ``count`` events committed at once (as after a broker outage); ids and commit time.

    The rows are those UnitOfWork.publish writes (one event built with make_event, then
    copied with fresh ids), bulk-inserted in one transaction that NOTIFYs the relay.
    """
    from bench.events_producer import user_registered
    from clikopro_chassis.messaging import utcnow
    from clikopro_chassis.outbox import encode, notify_relay
    from clikopro_contracts import make_event

    template = make_event("UserRegistered", user_registered(), correlation_id="c", producer="identity")
    rows = []
    for _ in range(count):
        event = dataclasses.replace(
            template,
            id=str(uuid.uuid4()),
            correlation_id=str(uuid.uuid4()),
            data={
                **template.data,
                "user_id": str(uuid.uuid4()),
                "email": f"{uuid.uuid4().hex[:12]}@example.fr",
            },
        )
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "routing_key": event.routing_key,
                "correlation_id": event.correlation_id,
                "body": encode(event),
                "created_at": utcnow(),
            }
        )
    database = Database(database_url)
    with database.session() as session:
        for i in range(0, count, 2000):
            session.execute(insert(outbox_messages), rows[i : i + 2000])
        notify_relay(session)
        session.commit()
        committed = time.time()
    database.dispose()
    return [row["event_id"] for row in rows], committed


def _batches(commits: dict[str, float], ids: list[str]) -> dict[str, Any]:
    """How many consumer transactions the measured events took."""
    sizes = Counter(commits[i] for i in ids)
    return {
        "consumer_transactions": len(sizes),
        "mean_events_per_transaction": round(len(ids) / len(sizes), 1),
    }


def _worker_cpu(result: dict[str, Any]) -> dict[str, Any]:
    return {
        role: {k: v for k, v in stats.items() if k.endswith("cpu_s")}
        for role, stats in result["stats"].items()
    }


def _relay_batches(result: dict[str, Any]) -> dict[str, Any]:
    """The producing service's relay: transactions it ran, and how many found nothing to publish."""
    stats = result["stats"]["relay"]
    return {k: stats[k] for k in ("relay_batches", "relay_empty_batches", "relay_published")}


def run_drain(s: Scratch, opts: Options, labels: dict[int, str], name: str = "drain") -> dict[str, Any]:
    count = opts.drain_count
    pipeline = Pipeline(s, name, opts, labels)
    try:
        pipeline.start()
        with CpuSampler(labels) as cpu:
            ids, started = prefill(pipeline.out_url, count)
            pipeline.wait_projected(count, timeout=180)
        published = pipeline.published_times(ids)
        result = pipeline.stop()
    finally:
        pipeline.close()
    commits = result["commits"]
    last = max(commits[i] for i in ids)
    return {
        "count": count,
        "events_per_s": round(count / (last - started), 1),
        "relay_published_per_s": round(count / (max(published.values()) - started), 1),
        "elapsed_s": round(last - started, 3),
        **_batches(commits, ids),
        "cpu": cpu.report(),
        "worker_cpu_s": _worker_cpu(result),
        "relay": _relay_batches(result),
    }


def _ids(producers: list[dict[str, Any]]) -> list[str]:
    return [e[0] for p in producers for e in p["events"]]


def _latencies(producers: list[dict[str, Any]], commits: dict[str, float]) -> list[float]:
    missing = [e for p in producers for e in p["events"] if e[0] not in commits]
    if missing:
        raise RuntimeError(f"{len(missing)} produced events have no consumer commit")
    return [commits[e[0]] - e[2] for p in producers for e in p["events"]]


def run_sustained(
    s: Scratch, opts: Options, labels: dict[int, str], name: str = "sustained"
) -> dict[str, Any]:
    count = opts.sustained_count
    pipeline = Pipeline(s, name, opts, labels)
    try:
        pipeline.start()
        with CpuSampler(labels) as cpu:
            producers = pipeline.produce(count, opts.producers, 0)
            pipeline.wait_projected(count, timeout=180)
        result = pipeline.stop()
    finally:
        pipeline.close()
    commits = result["commits"]
    began = min(p["began"] for p in producers)
    produced = max(p["finished"] for p in producers)
    last = max(commits[i] for i in _ids(producers))
    return {
        "count": count,
        "producer_processes": opts.producers,
        "events_per_s": round(count / (last - began), 1),
        "produced_per_s": round(count / (produced - began), 1),
        "consumer_finished_after_producers_s": round(last - produced, 3),
        "elapsed_s": round(last - began, 3),
        "latency_under_saturation": distribution_ms(_latencies(producers, commits)),
        **_batches(commits, _ids(producers)),
        "cpu": cpu.report(),
        "worker_cpu_s": _worker_cpu(result),
        "relay": _relay_batches(result),
        "producer_cpu_s": round(sum(p["cpu_s"] for p in producers), 2),
    }


def run_latency(
    s: Scratch, opts: Options, labels: dict[int, str], rate: float, name: str = "latency"
) -> dict[str, Any]:
    count = max(opts.latency_producers, int(rate * opts.latency_seconds))
    pipeline = Pipeline(s, name, opts, labels)
    try:
        pipeline.start()
        with CpuSampler(labels) as cpu:
            producers = pipeline.produce(count, opts.latency_producers, rate)
            pipeline.wait_projected(count, timeout=120)
        published = pipeline.published_times(_ids(producers))
        result = pipeline.stop()
    finally:
        pipeline.close()
    commits = result["commits"]
    latencies = _latencies(producers, commits)
    start = min(e[1] for p in producers for e in p["events"])
    end = max(e[2] for p in producers for e in p["events"])
    behind = [e[2] - e[1] for p in producers for e in p["events"]]
    return {
        "target_events_per_s": round(rate, 1),
        "achieved_events_per_s": round(count / (end - start), 1),
        "count": count,
        "producer_processes": opts.latency_producers,
        "seconds": opts.latency_seconds,
        "commit_to_commit": distribution_ms(latencies),
        "producer_commit_to_relay_confirmed": distribution_ms(
            [published[e[0]] - e[2] for p in producers for e in p["events"]]
        ),
        "relay_confirmed_to_consumer_commit": distribution_ms(
            [commits[e[0]] - published[e[0]] for p in producers for e in p["events"]]
        ),
        "producer_schedule_to_commit": distribution_ms(behind),
        **_batches(commits, _ids(producers)),
        "cpu": cpu.report(),
        "worker_cpu_s": _worker_cpu(result),
        "relay": _relay_batches(result),
    }


# -- report ------------------------------------------------------------------------------------------


#: A phase during which other processes used this much of the machine is measured again.
INTERFERENCE_RETRY_PCT = 10.0


def interference_pct(phase: dict[str, Any], cores: int | None) -> float:
    """Share of the machine's CPU that processes outside the benchmark used during ``phase``."""
    cpu = phase["cpu"]
    return 100 * cpu["cpu_s"].get("other", 0.0) / (cpu["elapsed_s"] * (cores or 1))


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    phases = results["phases"]
    summary: dict[str, Any] = {}
    raw = phases.get("raw", {}).get("end_to_end_msgs_per_s")
    for phase in ("drain", "sustained"):
        if raw and phase in phases:
            summary[f"{phase}_vs_raw"] = round(phases[phase]["events_per_s"] / raw, 3)
    if "sustained_vs_raw" in summary:
        summary["throughput_goal_met"] = summary["sustained_vs_raw"] >= GOALS["throughput_ratio_min"]
    interference = {}
    for name, phase in phases.items():
        share = interference_pct(phase, results["machine"]["cores"])
        if share >= 5:
            interference[name] = round(share, 1)
    if interference:
        summary["interference_pct"] = interference
    if "latency" in phases:
        c2c = phases["latency"]["commit_to_commit"]
        summary["latency_goal_met"] = (
            c2c["p50_ms"] <= GOALS["latency_p50_ms_max"] and c2c["p99_ms"] <= GOALS["latency_p99_ms_max"]
        )
    return summary


CPU_GROUPS = {
    "producer": ("producers", "raw producer"),
    "relay worker": ("relay worker",),
    "consumer worker": ("sink worker (consumer)", "raw consumer"),
    "postgresql": ("postgresql",),
    "rabbitmq": ("rabbitmq",),
    "other": ("other",),
}


def cpu_table(phases: dict[str, Any]) -> str:
    rows = []
    for name, phase in phases.items():
        cpu, count = phase["cpu"], phase["count"]
        per_event = {
            g: sum(cpu["cpu_s"].get(k, 0.0) for k in keys) * 1000 / count for g, keys in CPU_GROUPS.items()
        }
        total = sum(v for g, v in per_event.items() if g != "other")
        rows.append(
            [
                name,
                *(f"{per_event[g]:.2f}" for g in CPU_GROUPS),
                f"{total:.2f}",
                f"{cpu['machine_busy_pct']:.0f}",
            ]
        )
    return table(["phase", *CPU_GROUPS, "total (w/o other)", "machine busy %"], rows)


def render(results: dict[str, Any]) -> str:
    p, summary, m = results["phases"], results["summary"], results["machine"]
    rows = []
    raw = p.get("raw")
    if raw:
        rows.append(
            [
                "raw kombu: confirm_publish + consume/ack (quorum)",
                f"{raw['count']:,}",
                f"{raw['end_to_end_msgs_per_s']:,.0f} msg/s",
                "1.00",
                "",
                "",
                "",
            ]
        )
    for key, label in (
        ("drain", "pipeline drain: outbox backlog -> consumer commits"),
        (
            "sustained",
            f"pipeline sustained: {p.get('sustained', {}).get('producer_processes')} producers flat out",
        ),
    ):
        if key in p:
            ratio = summary.get(f"{key}_vs_raw")
            lat = p[key].get("latency_under_saturation", {})
            rows.append(
                [
                    label,
                    f"{p[key]['count']:,}",
                    f"{p[key]['events_per_s']:,.0f} ev/s",
                    f"{ratio:.2f}" if ratio else "",
                    *(f"{lat[k]:,.0f}" if lat else "" for k in ("p50_ms", "p95_ms", "p99_ms")),
                ]
            )
    if "latency" in p:
        lat = p["latency"]
        c = lat["commit_to_commit"]
        rows.append(
            [
                f"pipeline paced at {lat['target_events_per_s']:,.0f} ev/s for {lat['seconds']:.0f}s "
                f"(half of sustained)",
                f"{lat['count']:,}",
                f"{lat['achieved_events_per_s']:,.0f} ev/s",
                "",
                f"{c['p50_ms']:.1f}",
                f"{c['p95_ms']:.1f}",
                f"{c['p99_ms']:.1f}",
            ]
        )
    text = table(["run", "events", "throughput", "vs raw", "p50 ms", "p95 ms", "p99 ms"], rows)
    goals = []
    if "throughput_goal_met" in summary:
        goals.append(
            f"sustained >= 40 % of raw kombu: {'met' if summary['throughput_goal_met'] else 'NOT met'} "
            f"({summary['sustained_vs_raw']:.0%})"
        )
    if "latency_goal_met" in summary:
        c = p["latency"]["commit_to_commit"]
        goals.append(
            f"latency at half capacity p50 <= 30 ms and p99 <= 300 ms: "
            f"{'met' if summary['latency_goal_met'] else 'NOT met'} "
            f"(p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms)"
        )
    if "latency" in p:
        lat = p["latency"]
        a, b = lat["producer_commit_to_relay_confirmed"], lat["relay_confirmed_to_consumer_commit"]
        goals.append(
            f"paced latency split: producer commit -> relay has the broker's confirm p50 {a['p50_ms']:.1f} / "
            f"p99 {a['p99_ms']:.1f} ms; confirm -> consumer commit p50 {b['p50_ms']:.1f} / "
            f"p99 {b['p99_ms']:.1f} ms; {lat['mean_events_per_transaction']} event(s) per consumer "
            f"transaction, {lat['relay']['relay_published'] / max(1, lat['relay']['relay_batches']):.1f} "
            "per relay batch"
        )
    for phase, share in summary.get("interference_pct", {}).items():
        goals.append(
            f"WARNING: other processes on the machine used {share:.0f} % of its CPU during '{phase}': "
            "its figures are pessimistic"
        )
    packages = m["packages"]
    settings = results["parameters"]["chassis_settings"]
    return "\n".join(
        [
            text,
            "",
            "CPU time per event (ms, all cores; from /proc while each phase ran):",
            "",
            cpu_table(p),
            "",
            *(f"- {g}" for g in goals),
            f"- machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, kombu {packages['kombu']}, "
            f"SQLAlchemy {packages['sqlalchemy']}, psycopg {packages['psycopg']}, "
            f"PostgreSQL {(m['postgresql'] or {}).get('version')}, RabbitMQ {m['rabbitmq']}; {m['date']}",
            f"- chassis settings: {', '.join(f'{k}={v}' for k, v in settings.items())}"
            + (
                f"; patches: {', '.join(results['parameters']['patches'])}"
                if results["parameters"]["patches"]
                else ""
            ),
        ]
    )


DOCS_INTRO = """## Events pipeline (outbox -> RabbitMQ -> consumer with inbox)

`python -m bench.run events_pipeline` (code and details: `bench/events_pipeline.py`,
`bench/README.md`). Everything runs on this one machine: PostgreSQL, RabbitMQ and every
process below share its cores. Each phase gets fresh databases, exchange and queues.

- **raw kombu**: the baseline, same broker, same run. One process publishes persistent
  messages with kombu's `confirm_publish` (each publish waits for its confirm) to a topic
  exchange; another consumes them from a durable quorum queue, prefetch 100, one
  `basic.ack` per message, concurrently. msg/s = N / (first publish -> last ack).
- The pipeline is two real chassis `Worker` processes: the producing service's (its
  outbox relay, database 1) and a consuming service's (database 2; its handler inserts a
  projection row, in the batch transaction with the inbox row, one savepoint per event).
  Producers are separate processes writing one event per `UnitOfWork` transaction
  (outbox insert + NOTIFY + COMMIT). 20 warm-up events go through before measuring.
- **pipeline drain**: a backlog of N events committed into the outbox at once, both
  workers running: N / (that commit -> last consumer commit). No producer competes for CPU.
- **pipeline sustained**: 3 producer processes write N events flat out while both
  workers run: N / (first producer transaction -> last consumer commit). **This is the
  figure compared with raw kombu** (both produce and consume at once). Its p50/p95/p99 are
  latencies under saturation, i.e. mostly the backlog's queueing time.
- **pipeline paced**: 2 producers paced (open loop) at half the sustained figure for 20 s.
  Latency = consumer commit (wall clock right after the batch COMMIT returned, before the
  ack) - producer commit (wall clock right after `UnitOfWork.commit()` returned).
- CPU time per event = CPU seconds of each process group (sampled from `/proc` while the
  phase ran) / events. "other" is the rest of the machine; a phase during which it used
  >= 10 % of the machine is measured once more and the cleaner attempt kept.
"""


def docs_section(results: dict[str, Any]) -> str:
    return (
        DOCS_INTRO
        + "\n"
        + render(results)
        + "\n\nRaw figures (CPU seconds per process group, batch sizes...): "
        "`bench/results/events_pipeline.json`.\n"
    )


# -- entry point -------------------------------------------------------------------------------------


def parse(argv: list[str]) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m bench.events_pipeline", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--raw-count", type=int, default=defaults.raw_count)
    parser.add_argument("--drain-count", type=int, default=defaults.drain_count)
    parser.add_argument("--sustained-count", type=int, default=defaults.sustained_count)
    parser.add_argument(
        "--producers", type=int, default=defaults.producers, help="flat-out producer processes"
    )
    parser.add_argument("--latency-seconds", type=float, default=defaults.latency_seconds)
    parser.add_argument("--latency-producers", type=int, default=defaults.latency_producers)
    parser.add_argument(
        "--latency-rate", type=float, default=0.0, help="events/s (default: half of sustained)"
    )
    parser.add_argument("--phases", default=",".join(defaults.phases), help="comma-separated subset")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="chassis setting for both workers, e.g. CONSUMER_BATCH_SIZE=100 (experiments)",
    )
    parser.add_argument(
        "--patch", action="append", default=[], help="experimental change (bench/events_patches.py)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the worker threads (slows them)")
    parser.add_argument(
        "--attempts",
        type=int,
        default=defaults.attempts,
        help="measure a phase again (up to this many times in all) when other processes used "
        f">= {INTERFERENCE_RETRY_PCT:.0f} %% of the machine meanwhile; the cleanest attempt is kept",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results file (default bench/results/events_pipeline.json, written only for a plain run)",
    )
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)
    phases = tuple(p for p in args.phases.split(",") if p)
    plain = not (settings or args.patch or args.profile) and phases == defaults.phases
    return Options(
        raw_count=args.raw_count,
        drain_count=args.drain_count,
        sustained_count=args.sustained_count,
        producers=args.producers,
        latency_seconds=args.latency_seconds,
        latency_producers=args.latency_producers,
        latency_rate=args.latency_rate,
        phases=phases,
        settings=settings,
        patches=tuple(args.patch),
        profile=args.profile,
        attempts=max(1, args.attempts),
        out=args.out or (RESULTS_DIR / f"{NAME}.json" if plain else None),
        docs=plain and args.out is None,
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse(sys.argv[1:] if argv is None else argv)
    if "latency" in opts.phases and "sustained" not in opts.phases and not opts.latency_rate:
        print("latency without sustained needs --latency-rate", file=sys.stderr)
        return 2
    labels: dict[int, str] = {}
    phases: dict[str, Any] = {}
    started = time.monotonic()
    with scratch() as s:
        machine = machine_info()
        runners = {"raw": run_raw, "drain": run_drain, "sustained": run_sustained}
        for phase in opts.phases:
            best, best_share = None, 0.0
            for attempt in range(1, opts.attempts + 1):
                name = phase if attempt == 1 else f"{phase}{attempt}"
                busy = wait_quiet()
                print(f"  {phase}... (machine {busy:.0f} % busy before)", flush=True)
                if phase == "latency":
                    rate = opts.latency_rate or phases["sustained"]["events_per_s"] / 2
                    result = run_latency(s, opts, labels, rate, name)
                else:
                    result = runners[phase](s, opts, labels, name)
                result |= {"machine_busy_pct_before": busy, "attempt": attempt}
                share = interference_pct(result, machine["cores"])
                if best is None or share < best_share:
                    best, best_share = result, share
                if share < INTERFERENCE_RETRY_PCT:
                    break
                print(f"  {phase}: other processes used {share:.0f} % of the machine meanwhile", flush=True)
            phases[phase] = best
    settings = {**{k: str(v) for k, v in CHASSIS_DEFAULTS.items()}, **opts.settings}
    results: dict[str, Any] = {
        "benchmark": NAME,
        "machine": machine,
        "parameters": {
            **{k: v for k, v in dataclasses.asdict(opts).items() if k not in {"out", "docs", "settings"}},
            "chassis_settings": settings,
        },
        "phases": phases,
        "duration_s": round(time.monotonic() - started, 1),
    }
    results["summary"] = summarise(results)
    results["goals"] = GOALS
    print(render(results))
    if opts.out:
        print(f"results: {write_results(results, opts.out)}")
    if opts.docs:
        print(f"docs: {update_docs_section(NAME, docs_section(results))}")
    print(f"({results['duration_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
