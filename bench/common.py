"""What every benchmark shares: servers, scratch resources cleaned up even on
failure, machine information, results files and the sections of docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from kombu import Connection

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DOCS_FILE = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable

#: The servers; override with BENCH_POSTGRES_URL / BENCH_BROKER_URL.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def run_tag() -> str:
    return uuid.uuid4().hex[:8]


# -- scratch resources -------------------------------------------------------------------------------


class Scratch:
    """Databases, queues, exchanges, processes and a temp dir of one run; all removed by :meth:`close`.

    Everything is named ``clikopro_bench_<tag>...`` so that a leftover is recognisable.
    """

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag or run_tag()
        self.prefix = f"clikopro_bench_{self.tag}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}_"))
        self.databases: list[str] = []
        self.queues: list[str] = []
        self.exchanges: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        #: Shared by every process of the run, as in a deployment: the gateway reads identity's
        #: and subscriptions' internal routes with it.
        self.internal_token = secrets.token_urlsafe(24)

    # databases
    def database(self, name: str) -> str:
        database = f"{self.prefix}_{name}"[:63]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
        self.databases.append(database)
        base, _, _ = POSTGRES_URL.rpartition("/")
        return f"{base}/{database}"

    def drop_database(self, url: str) -> None:
        database = url.rpartition("/")[2]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if database in self.databases:
            self.databases.remove(database)

    # broker names (declared by whoever uses them; deleted here)
    def queue(self, name: str) -> str:
        self.queues.append(name)
        return name

    def exchange(self, name: str) -> str:
        self.exchanges.append(name)
        return name

    def delete_broker_names(self) -> None:
        if not (self.queues or self.exchanges):
            return
        with Connection(BROKER_URL, connect_timeout=5) as conn:
            for name in self.queues:
                with contextlib.suppress(Exception):
                    conn.channel().queue_delete(name)
            for name in self.exchanges:
                with contextlib.suppress(Exception):
                    conn.channel().exchange_delete(name)
        self.queues.clear()
        self.exchanges.clear()

    # processes
    def spawn(self, args: Sequence[str], *, env: dict[str, str] | None = None, log: str) -> subprocess.Popen:
        """Start ``python <args>`` from the repo root, stdout+stderr into ``<dir>/<log>``."""
        with open(self.dir / log, "ab") as out:
            process = subprocess.Popen(
                [PYTHON, *args],
                cwd=ROOT,
                env={**os.environ, "INTERNAL_API_TOKEN": self.internal_token, **(env or {})},
                stdout=out,
                stderr=out,
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 20.0) -> int:
        """SIGTERM one process we started, then SIGKILL if it does not exit."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return process.returncode

    def log_tail(self, log: str, lines: int = 30) -> str:
        path = self.dir / log
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        errors = []
        for process in reversed(self.processes):
            try:
                self.stop(process, timeout=10)
            except Exception as exc:  # noqa: BLE001 - keep cleaning
                errors.append(exc)
        self.processes.clear()
        for action in (self.delete_broker_names, self._drop_all):
            try:
                action()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"(logs kept in {self.dir})")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            print(f"cleanup problems: {errors}", file=sys.stderr)

    def _drop_all(self) -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for database in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.databases.clear()


@contextlib.contextmanager
def scratch() -> Iterator[Scratch]:
    """A :class:`Scratch` whose contents go away on exit, on an exception, on SIGTERM or Ctrl-C."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    resources = Scratch()
    try:
        yield resources
    finally:
        resources.close()
        signal.signal(signal.SIGTERM, previous)


def wait_for(
    condition: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    alive: Sequence[subprocess.Popen] = (),
) -> Any:
    """Poll ``condition`` until truthy; fail early if one of ``alive`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for process in alive:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: process {process.args[1:3]} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f}s")
        time.sleep(interval)


def machine_busy_pct(seconds: float = 1.0) -> float:
    """How busy the whole machine was over ``seconds`` (all cores, from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        return sum(fields) - fields[3] - fields[4], sum(fields)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return 100 * (busy1 - busy0) / max(1, total1 - total0)


def wait_quiet(threshold_pct: float = 20.0, patience: float = 15.0) -> float:
    """Wait (up to ``patience`` s) for the machine to be idle enough to measure; its last busy %."""
    deadline = time.monotonic() + patience
    busy = machine_busy_pct()
    while busy > threshold_pct and time.monotonic() < deadline:
        busy = machine_busy_pct()
    return round(busy, 1)


# -- figures -----------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def distribution_ms(values_seconds: Sequence[float]) -> dict[str, float]:
    values = sorted(v * 1000 for v in values_seconds)
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(values[-1], 2) if values else math.nan,
        "mean_ms": round(sum(values) / len(values), 2) if values else math.nan,
    }


# -- machine and versions ----------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _command(args: list[str], timeout: float = 10) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def machine_info() -> dict[str, Any]:
    postgres = None
    with contextlib.suppress(Exception), psycopg.connect(POSTGRES_URL, connect_timeout=5) as conn:
        row = conn.execute(
            "select current_setting('server_version'), current_setting('synchronous_commit'), "
            "current_setting('fsync'), current_setting('shared_buffers')"
        ).fetchone()
        postgres = dict(zip(["version", "synchronous_commit", "fsync", "shared_buffers"], row, strict=True))
    rabbitmq = _command(["rabbitmqctl", "version"])
    if rabbitmq is None:  # rabbitmqctl may need privileges: ask the broker itself
        with contextlib.suppress(Exception), Connection(BROKER_URL, connect_timeout=5) as conn:
            conn.connect()
            rabbitmq = conn.connection.server_properties.get("version")
    mem = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_mb": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in ("kombu", "amqp", "sqlalchemy", "psycopg", "psycopg-binary")},
        "postgresql": postgres,
        "rabbitmq": rabbitmq,
        "git_commit": _command(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(_command(["git", "-C", str(ROOT), "status", "--porcelain"])),
    }


# -- outputs -----------------------------------------------------------------------------------------


def write_results(data: dict[str, Any], path: Path) -> Path:
    """Write ``data`` as JSON (``bench/results/<name>.json`` for a benchmark's plain run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    return path


DOCS_HEADER = """# Benchmarks

Generated by `make bench` (`python -m bench.run [names...]`, see `bench/README.md`).
Each section below belongs to one benchmark, which rewrites it between its
`<!-- bench:NAME -->` markers; the raw figures are in `bench/results/NAME.json`.
"""


def update_docs_section(name: str, markdown: str) -> Path:
    """Replace (or append) the section ``<!-- bench:name -->...<!-- /bench:name -->`` of the docs."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = DOCS_FILE.read_text() if DOCS_FILE.exists() else DOCS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOCS_FILE.write_text(text if text.endswith("\n") else text + "\n")
    return DOCS_FILE


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table (also readable as plain text)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join(
        [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])]
    )


# -- CPU accounting ----------------------------------------------------------------------------------


class CpuSampler:
    """Samples /proc while a phase runs: CPU seconds per process group and machine utilisation.

    Processes that appear during the phase (PostgreSQL backends, our subprocesses)
    count from zero; one that exits loses at most one sampling interval.
    """

    def __init__(self, labels: dict[int, str], interval: float = 0.25) -> None:
        import threading

        self.labels = labels  # pid -> label, for the processes we started (may grow)
        self.interval = interval
        self._first: dict[int, int] = {}
        self._last: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _machine() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields[:8]) - idle, sum(fields[:8])

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                raw = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            comm, _, rest = raw.partition(" (")[2].rpartition(")")
            values = rest.split()
            ticks = int(values[11]) + int(values[12])
            pid = int(entry.name)
            self._last[pid] = (comm, ticks)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._first = {pid: ticks for pid, (_, ticks) in self._last.items()}
        self._machine_start = self._machine()
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self._machine_end = self._machine()
        self._elapsed = time.monotonic() - self._started

    def _label(self, pid: int, comm: str) -> str:
        if pid in self.labels:
            return self.labels[pid]
        if pid == os.getpid():
            return "bench harness"
        if comm.startswith("postgres"):
            return "postgresql"
        if comm in {"beam.smp", "epmd", "erl_child_setup", "inet_gethost"} or comm.startswith("erl"):
            return "rabbitmq"
        return "other"

    def report(self) -> dict[str, Any]:
        groups: dict[str, float] = {}
        others: dict[str, float] = {}
        for pid, (comm, ticks) in self._last.items():
            used = (ticks - self._first.get(pid, 0)) / self._tick
            if used > 0:
                label = self._label(pid, comm)
                groups[label] = groups.get(label, 0.0) + used
                if label == "other":
                    others[comm] = others.get(comm, 0.0) + used
        busy = self._machine_end[0] - self._machine_start[0]
        total = self._machine_end[1] - self._machine_start[1]
        return {
            "elapsed_s": round(self._elapsed, 2),
            "machine_busy_pct": round(100 * busy / total, 1) if total else None,
            "cpu_s": {k: round(v, 2) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
            "other_cpu_s": {k: round(v, 2) for k, v in sorted(others.items(), key=lambda kv: -kv[1])[:5]},
        }
