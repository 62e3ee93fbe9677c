"""Missions: search latency at 10k and 100k published missions, and POST /missions throughput.

``python -m bench.missions [--help]`` (or ``python -m bench.run missions``).

search      A scratch PostgreSQL database migrated like production, filled (COPY) with N published
            missions (+ N/4 in other statuses) over 20 trades and every department, ANALYZEd. The
            missions web process (gunicorn + uvicorn, one worker, as ``make run``) answers
            ``GET /api/v1/missions`` as a professional browsing: no filter, trade, department,
            trade + department, postcode, trade + postcode, and the next pages (keyset cursor).
            One client, sequential requests on a kept-alive connection (latency, not throughput),
            measured at the client: request sent -> body read. Then the table is grown to the next N.
create      ``POST /api/v1/missions`` through the gateway (one gunicorn worker) to the missions web
            process (two workers), by clients with their own tokens, CONCURRENCY requests in flight;
            and the same straight to the service, to show what the gateway costs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import (
    BROKER_URL,
    RESULTS_DIR,
    Scratch,
    distribution_ms,
    machine_info,
    scratch,
    table,
    update_docs_section,
    wait_for,
    write_results,
)

NAME = "missions"
GOALS = {"search_p95_ms_at_100k_max": 25.0, "search_p95_growth_10k_to_100k_max": 1.5}
TRADES = [
    "plomberie", "electricite", "peinture", "maconnerie", "menuiserie", "carrelage", "couverture",
    "chauffage", "climatisation", "serrurerie", "jardinage", "nettoyage", "demenagement", "vitrerie",
    "platrerie", "isolation", "charpente", "renovation", "domotique", "informatique",
]  # fmt: skip
QUERY_KINDS = ["all", "trade", "department", "trade+department", "postcode", "trade+postcode", "next page"]


def departments() -> list[str]:
    mainland = [f"{n:02d}" for n in range(1, 96) if n != 20]
    return [*mainland, "2A", "2B", "971", "972", "973", "974", "976"]


def postcodes_of(department: str) -> list[str]:
    if department == "2A":
        return [f"20{n:03d}" for n in range(0, 200, 10)]
    if department == "2B":
        return [f"20{n:03d}" for n in range(200, 620, 20)]
    if len(department) == 3:
        return [f"{department}{n:02d}" for n in range(0, 100, 5)]
    return [f"{department}{n:03d}" for n in range(0, 1000, 40)]


POSTCODES = {d: postcodes_of(d) for d in departments()}


def _rows(count: int, rng: random.Random, start: dt.datetime, status_mix: bool) -> io.StringIO:
    out = io.StringIO()
    for i in range(count):
        department = rng.choice(list(POSTCODES))
        postcode = rng.choice(POSTCODES[department])
        published = start - dt.timedelta(seconds=rng.randrange(90 * 86_400))
        status = "published"
        pro = r"\N"
        if status_mix and i % 5 == 4:
            status = rng.choice(["in_progress", "completed", "cancelled", "awaiting_payment"])
            pro = str(uuid.uuid4()) if status != "cancelled" else r"\N"
        stamp = published.isoformat()
        out.write(
            f"{uuid.uuid4()}\t{uuid.uuid4()}\tMission {i}\tDescription {i}\t{rng.choice(TRADES)}\t"
            f"{postcode}\t{department}\t{rng.randrange(10_000, 1_000_000)}\tEUR\t\\N\t{status}\t{pro}\tf\t"
            f"{stamp}\t{stamp}\t1\n"
        )
    out.seek(0)
    return out


COLUMNS = (
    "id, client_id, title, description, trade, postcode, department, budget_cents, currency, wished_start, "
    "status, pro_id, hidden, published_at, updated_at, version"
)


def load(url: str, published: int, rng: random.Random) -> float:
    """Add ``published`` published missions (and a quarter as many in other statuses); returns seconds."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cursor, cursor.copy(f"COPY missions ({COLUMNS}) FROM STDIN") as copy:
            total = published + published // 4
            data = _rows(total, rng, dt.datetime.now(dt.UTC), status_mix=True)
            # every fifth row is not published: top up so that exactly ``published`` are
            rows = data.getvalue().splitlines(keepends=True)
            published_rows = [r for r in rows if "\tpublished\t" in r]
            others = [r for r in rows if "\tpublished\t" not in r]
            missing = published - len(published_rows)
            extra = (
                _rows(missing, rng, dt.datetime.now(dt.UTC), status_mix=False).getvalue()
                if missing > 0
                else ""
            )
            copy.write("".join(published_rows[:published]) + extra + "".join(others))
        conn.execute("ANALYZE missions")
    return time.monotonic() - started


def count_published(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM missions WHERE status = 'published'").fetchone()[0]


def explain(url: str) -> dict[str, Any]:
    """The plan and execution time of a filtered page, as the service runs it."""
    query = (
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM missions WHERE true AND status = 'published' AND "
        "hidden = false AND trade = %s AND department = %s ORDER BY published_at DESC, id DESC LIMIT 21"
    )
    with psycopg.connect(url) as conn:
        [[plan]] = conn.execute(query, ("plomberie", "69")).fetchall()
    top = plan[0]
    node = top["Plan"]
    while node.get("Plans") and node["Node Type"] == "Limit":
        node = node["Plans"][0]
    return {
        "node": node["Node Type"],
        "index": node.get("Index Name"),
        "execution_ms": round(top["Execution Time"], 3),
    }


def search_params(rng: random.Random, kind: str) -> dict[str, str]:
    department = rng.choice(list(POSTCODES))
    trade = rng.choice(TRADES)
    postcode = rng.choice(POSTCODES[department])
    return {
        "all": {},
        "trade": {"trade": trade},
        "department": {"department": department},
        "trade+department": {"trade": trade, "department": department},
        "postcode": {"postcode": postcode},
        "trade+postcode": {"trade": trade, "postcode": postcode},
        "next page": {},
    }[kind]


def measure_search(
    base_url: str, headers: dict[str, str], requests: int, rng: random.Random
) -> dict[str, Any]:
    samples: dict[str, list[float]] = {kind: [] for kind in QUERY_KINDS}
    cursors: list[str] = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for i in range(requests + 50):
            kind = QUERY_KINDS[i % len(QUERY_KINDS)]
            params = search_params(rng, kind)
            if kind == "next page" and cursors:
                params = {"cursor": cursors.pop()}
            started = time.perf_counter()
            response = http.get("/api/v1/missions", params=params)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"search answered {response.status_code}: {response.text[:300]}")
            next_cursor = response.json()["next_cursor"]
            if next_cursor and kind in {"all", "trade", "department", "next page"}:
                cursors.append(next_cursor)
            if i >= 50:  # the first ones warm the connection pool and the caches
                samples[kind].append(elapsed)
    every = [s for values in samples.values() for s in values]
    return {
        "all_queries": distribution_ms(every),
        "by_kind": {k: distribution_ms(v) for k, v in samples.items()},
    }


def start_missions(s: Scratch, url: str, port: int, jwks_url: str, prefix: str, workers: int, log: str):
    env = {
        "DATABASE_URL": url,
        "BROKER_URL": BROKER_URL,
        "BUS_PREFIX": prefix,
        "JWKS_URL": jwks_url,
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(s.dir / "missions-data"),
        # Several gunicorn workers share their metrics through this directory.
        "PROMETHEUS_MULTIPROC_DIR": str(s.dir / "prometheus"),
    }
    (s.dir / "prometheus").mkdir(exist_ok=True)
    process = s.spawn(
        ["-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket",
         "clikopro_missions.entrypoints.web:app"],
        env=env, log=log,
    )  # fmt: skip
    wait_for(lambda: _ready(f"http://127.0.0.1:{port}"), timeout=60, what="missions web", alive=[process])
    return process


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _create_load(base_url: str, tokens: list[str], total: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    body = {
        "title": "Peinture du salon",
        "description": "35 m², deux couches, murs et plafond.",
        "trade": "peinture",
        "postcode": "13001",
        "budget_cents": 150_000,
    }
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/api/v1/missions",
                    json=body,
                    headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": total,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "requests_per_s": round(total / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "latency": distribution_ms(latencies),
    }


def run_create(s: Scratch, jwks, opts: argparse.Namespace) -> dict[str, Any]:
    from clikopro_chassis import migrations

    url = s.database("missions_create")
    migrations.upgrade("clikopro_missions", url)
    prefix = f"{s.prefix}_create"
    s.exchange(f"{prefix}.events")
    service_port, gateway_port, identity_port = free_port(), free_port(), free_port()
    start_missions(s, url, service_port, jwks.jwks_url, prefix, workers=2, log="missions-create.log")
    # The gateway refuses authenticated requests until it has read identity's suspensions in force.
    identity_url = s.database("identity_create")
    migrations.upgrade("clikopro_identity", identity_url)
    identity = s.spawn(
        ["-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "--workers", "1", "--bind",
         f"127.0.0.1:{identity_port}", "--log-level", "warning", "--no-control-socket",
         "clikopro_identity.entrypoints.web:app"],
        env={"DATABASE_URL": identity_url, "BROKER_URL": BROKER_URL, "BUS_PREFIX": prefix,
             "LOG_LEVEL": "WARNING", "JWKS_URL": jwks.jwks_url, "DATA_DIR": str(s.dir / "identity-data")},
        log="identity.log",
    )  # fmt: skip
    wait_for(
        lambda: _ready(f"http://127.0.0.1:{identity_port}"), timeout=60, what="identity", alive=[identity]
    )
    gateway = s.spawn(
        ["-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "--workers", "1", "--bind",
         f"127.0.0.1:{gateway_port}", "--log-level", "warning", "--no-control-socket",
         "clikopro_gateway.entrypoints.web:app"],
        env={"MISSIONS_URL": f"http://127.0.0.1:{service_port}", "JWKS_URL": jwks.jwks_url,
             "IDENTITY_URL": f"http://127.0.0.1:{identity_port}",
             "BROKER_URL": BROKER_URL, "BUS_PREFIX": prefix, "LOG_LEVEL": "WARNING",
             "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_USER": "", "DATA_DIR": str(s.dir / "gateway-data")},
        log="gateway.log",
    )  # fmt: skip
    wait_for(lambda: _ready(f"http://127.0.0.1:{gateway_port}"), timeout=60, what="gateway", alive=[gateway])
    probe = jwks.headers(uuid.uuid4(), "client")
    listing = f"http://127.0.0.1:{gateway_port}/api/v1/missions"
    wait_for(
        lambda: httpx.get(listing, headers=probe).status_code == 200,
        timeout=30, what="the gateway to accept tokens", alive=[gateway],
    )  # fmt: skip
    tokens = [jwks.token(uuid.uuid4(), "client", expires_in=3600) for _ in range(50)]
    results = {}
    for name, base in (
        ("gateway", f"http://127.0.0.1:{gateway_port}"),
        ("direct", f"http://127.0.0.1:{service_port}"),
    ):
        try:
            asyncio.run(_create_load(base, tokens, 100, opts.concurrency))  # warm-up
            results[name] = asyncio.run(_create_load(base, tokens, opts.create_requests, opts.concurrency))
        except httpx.HTTPError as exc:  # a broken run is reported, not allowed to lose the other figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"  POST /missions via {name}: FAILED ({results[name]['error']})", flush=True)
            continue
        print(f"  POST /missions via {name}: {results[name]['requests_per_s']} req/s", flush=True)
    if s.log_tail("gateway.log").strip():
        results["gateway_log_tail"] = s.log_tail("gateway.log", 10)
    return results


def run_search(s: Scratch, jwks, opts: argparse.Namespace) -> dict[str, Any]:
    from clikopro_chassis import migrations

    url = s.database("missions_search")
    migrations.upgrade("clikopro_missions", url)
    prefix = f"{s.prefix}_search"
    port = free_port()
    start_missions(s, url, port, jwks.jwks_url, prefix, workers=1, log="missions-search.log")
    headers = {"Authorization": f"Bearer {jwks.token(uuid.uuid4(), 'pro', expires_in=3600)}"}
    rng = random.Random(20260310)
    results: dict[str, Any] = {}
    loaded = 0
    for size in opts.sizes:
        seconds = load(url, size - loaded, rng)
        loaded = size
        assert count_published(url) == size
        print(f"  {size:,} published missions loaded in {seconds:.1f}s; searching...", flush=True)
        measured = measure_search(f"http://127.0.0.1:{port}", headers, opts.search_requests, rng)
        results[str(size)] = {"load_s": round(seconds, 1), **measured, "plan": explain(url)}
    return results


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.missions", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[10_000, 100_000])
    parser.add_argument("--search-requests", type=int, default=700)
    parser.add_argument("--create-requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--phases", default="search,create")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / f"{NAME}.json")
    parser.add_argument("--no-docs", dest="docs", action="store_false")
    return parser.parse_args(argv)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    search = results.get("search") or {}
    summary: dict[str, Any] = {}
    if "10000" in search and "100000" in search:
        p95_small = search["10000"]["all_queries"]["p95_ms"]
        p95_large = search["100000"]["all_queries"]["p95_ms"]
        summary |= {
            "search_p95_ms_10k": p95_small,
            "search_p95_ms_100k": p95_large,
            "search_p95_growth": round(p95_large / p95_small, 2),
            "p95_goal_met": p95_large <= GOALS["search_p95_ms_at_100k_max"],
            "growth_goal_met": p95_large / p95_small <= GOALS["search_p95_growth_10k_to_100k_max"],
        }
    for name, figures in (results.get("create") or {}).items():
        if isinstance(figures, dict) and "requests_per_s" in figures:
            summary[f"create_requests_per_s_{name}"] = figures["requests_per_s"]
    return summary


def render(results: dict[str, Any]) -> str:
    lines = []
    search = results.get("search") or {}
    if search:
        rows = []
        for size, figures in search.items():
            rows.append([f"{int(size):,}", "all queries", figures["all_queries"]["count"],
                         figures["all_queries"]["p50_ms"], figures["all_queries"]["p95_ms"],
                         figures["all_queries"]["p99_ms"]])  # fmt: skip
            for kind, d in figures["by_kind"].items():
                rows.append(["", kind, d["count"], d["p50_ms"], d["p95_ms"], d["p99_ms"]])
        lines.append(
            table(["published", "GET /api/v1/missions", "requests", "p50 ms", "p95 ms", "p99 ms"], rows)
        )
        plans = [
            f"{int(k):,}: {v['plan']['node']} on {v['plan']['index']} ({v['plan']['execution_ms']} ms)"
            for k, v in search.items()
        ]
        lines.append("")
        lines.append("- PostgreSQL plan of `trade=plomberie&department=69`, first page: " + "; ".join(plans))
    create = results.get("create")
    if create and "error" in create:
        lines += ["", f"- POST /api/v1/missions: FAILED ({create['error']})"]
    elif create:
        rows = []
        for name, c in create.items():
            if isinstance(c, dict) and "error" in c:
                rows.append([f"POST /api/v1/missions via {name}", "", "", "FAILED", "", "", c["error"][:60]])
                continue
            if not (isinstance(c, dict) and "requests" in c):
                continue
            statuses = ", ".join(f"{k}: {v}" for k, v in c["statuses"].items())
            latency = c["latency"]
            rate = f"{c['requests_per_s']:,}"
            run_name = f"POST /api/v1/missions via {name}"
            rows.append(
                [
                    run_name,
                    c["requests"],
                    c["concurrency"],
                    rate,
                    latency["p50_ms"],
                    latency["p95_ms"],
                    statuses,
                ]
            )
        lines.append("")
        lines.append(table(["run", "requests", "in flight", "req/s", "p50 ms", "p95 ms", "statuses"], rows))
    summary = results.get("summary", {})
    if "search_p95_ms_100k" in summary:
        lines.append("")
        lines.append(
            f"- search p95 <= {GOALS['search_p95_ms_at_100k_max']:.0f} ms at 100k: "
            f"{'met' if summary['p95_goal_met'] else 'NOT met'} ({summary['search_p95_ms_100k']} ms)"
        )
        lines.append(
            f"- p95 growth 10k -> 100k <= {GOALS['search_p95_growth_10k_to_100k_max']}x: "
            f"{'met' if summary['growth_goal_met'] else 'NOT met'} ({summary['search_p95_growth']}x)"
        )
    return "\n".join(lines)


def docs_section(results: dict[str, Any]) -> str:
    machine = results["machine"]
    pg = machine.get("postgresql") or {}
    packages = machine["packages"]
    return f"""## Missions: search latency and mission creation

`python -m bench.run missions`. Everything on this one machine ({machine["cores"]} cores shared by
PostgreSQL, RabbitMQ, the processes below and the load generator itself, and by whatever else runs).

- **search**: a scratch database migrated like production, filled by COPY with N published missions
  (plus N/4 in other statuses) over 20 trades and every department (Corsica and overseas included),
  then ANALYZEd. The missions web process (gunicorn + uvicorn, one worker, as in `make run`)
  answers `GET /api/v1/missions` for a professional, token verified with the JWKS on every request:
  no filter, trade, department, trade + department, postcode, trade + postcode, and next pages by
  keyset cursor, in turn. One client, sequential requests, kept-alive connection; latency measured
  at the client (request sent -> body read), 50 warm-up requests not counted.
- **create**: `POST /api/v1/missions` by 50 clients (their own tokens), {results["parameters"]["concurrency"]}
  requests in flight, through the gateway (one worker) to the missions web process (two workers),
  then straight to the service. Each creation is one transaction: mission row, audit row, outbox
  row (MissionPublished) and NOTIFY.

{render(results)}

- machine: {machine["cores"]} cores ({machine["cpu"]}), Python {machine["python"]},
  PostgreSQL {pg.get("version")}, SQLAlchemy {packages.get("sqlalchemy")},
  psycopg {packages.get("psycopg")}; {machine["date"]}; load average (1, 5, 15 min) at the start:
  {results.get("load_average_at_start")} (other work was running on the machine: expect noise, the
  creation figures above all)

Raw figures: `bench/results/missions.json`.
"""


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print its table, write its results and its docs section; return the results."""
    from clikopro_chassis.testing.tokens import TokenFactory

    opts = parse([] if argv is None else argv)
    phases = [p.strip() for p in opts.phases.split(",") if p.strip()]
    started = time.monotonic()
    results: dict[str, Any] = {"benchmark": NAME}
    with scratch() as s:
        results["machine"] = machine_info()
        # Other work shares these cores: say how busy the machine already was.
        results["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
        jwks = TokenFactory(s.dir / "jwks")
        try:
            if "search" in phases:
                results["search"] = run_search(s, jwks, opts)
            if "create" in phases:
                try:
                    results["create"] = run_create(s, jwks, opts)
                except (TimeoutError, RuntimeError, httpx.HTTPError) as exc:
                    results["create"] = {"error": f"{type(exc).__name__}: {exc}"}
                    print(f"  create: FAILED ({results['create']['error']})", flush=True)
        finally:
            jwks.close()
    results["parameters"] = {k: v for k, v in vars(opts).items() if k not in {"out", "docs"}}
    results["summary"] = summarise(results)
    results["goals"] = GOALS
    results["duration_s"] = round(time.monotonic() - started, 1)
    print(render(results))
    if opts.out:
        print(f"results: {write_results(results, opts.out)}")
    if opts.docs and phases == ["search", "create"]:
        print(f"docs: {update_docs_section(NAME, docs_section(results))}")
    return results


def main(argv: list[str] | None = None) -> int:
    run(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
