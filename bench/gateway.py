"""The gateway's cost: an authenticated GET through the gateway against the same call made
directly to the service, in one run, and the gateway's own requests/s per core.

``python -m bench.gateway [--help]`` (or ``python -m bench.run gateway``).

Processes (each a real server on 127.0.0.1, one worker, as deployed):

identity   ``clikopro_identity`` on gunicorn + uvicorn worker, PostgreSQL database of its own;
           the call is ``GET /api/v1/me`` with a bearer token (the service verifies the token,
           reads the account, answers ~220 bytes of JSON).
gateway    ``clikopro_gateway`` on gunicorn + uvicorn worker (uvloop, httptools), in front of
           identity: route, per-IP and per-user rate limits (in memory, limits high enough not
           to refuse), token check, suspension check, forward.
stub       a trivial ASGI app on uvicorn (no work), and a second gateway in front of it: the
           gateway is then the whole cost, so its CPU seconds per request give its requests/s
           per core. The same with uvicorn on the pure-Python stack (asyncio loop, h11 parser)
           shows what the server model is worth.

Phases:

latency    one connection, closed loop, for ``--seconds`` per target, alternating direct and
           gateway ``--rounds`` times; p50/p99 of each target are the medians over the rounds;
           "added" is gateway minus direct.
throughput ``--connections`` connections, same call, direct then through the gateway: req/s
           and their ratio; CPU seconds of each process from /proc.
capacity   the gateways in front of the stub, ``--connections`` connections: req/s and the
           gateway's requests per CPU-second (= requests/s it would serve per core).
client     the hop to the service alone, in this process: CPU time per request of httpx's
           AsyncClient and of the gateway's own client (``clikopro_gateway.upstream``), both on
           uvloop, sequential keep-alive GETs to the stub. Why the gateway has its own client.

The load generator is ``wrk`` when installed (``apt-get install wrk``), else an asyncio client
in this process (then said in the results): it shares the machine with what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import (
    BROKER_URL,
    RESULTS_DIR,
    CpuSampler,
    Scratch,
    machine_info,
    scratch,
    table,
    update_docs_section,
    wait_for,
    wait_quiet,
    write_results,
)

NAME = "gateway"
GOALS = {"added_p50_ms_max": 2.0, "added_p99_ms_max": 5.0, "per_core_rps_min": 1000.0}
PASSWORD = "une phrase de passe assez longue"

STUB_BODY = json.dumps(
    {
        "id": "00000000-0000-4000-8000-000000000000",
        "role": "client",
        "email": "bench@example.fr",
        "first_name": "Bench",
        "last_name": "Mark",
        "phone": "+33612345678",
        "status": "active",
    }
).encode()


async def stub_app(scope: dict, receive: Any, send: Any) -> None:
    """The do-nothing service behind the capacity gateways (and its empty suspension list)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b'{"items": []}' if scope["path"] == "/internal/suspensions" else STUB_BODY
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- processes ---------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(app: str, port: int) -> list[str]:
    return [
        "-m",
        "gunicorn",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
        app,
    ]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def get_json(url: str, *, data: dict | None = None, headers: dict | None = None) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(data).encode() if data is not None else None,
        headers={"content-type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# -- load ----------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def load_wrk(url: str, token: str, connections: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": round(_wrk_ms(latency["50"]), 3),
        "p99_ms": round(_wrk_ms(latency["99"]), 3),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def load_python(url: str, token: str, connections: int, seconds: float) -> dict[str, Any]:
    """A closed-loop keep-alive client on asyncio + httptools (when wrk is not installed)."""
    import httptools

    from bench.common import percentile

    host_port = url.split("/")[2]
    host, port = host_port.split(":")
    path = "/" + url.split("/", 3)[3]
    request = (f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    latencies: list[float] = []
    statuses: list[int] = []

    class Parser:
        def __init__(self) -> None:
            self.done = False
            self.parser = httptools.HttpResponseParser(self)

        def on_message_complete(self) -> None:
            self.done = True

    async def client(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(request)
            parser = Parser()
            while not parser.done:
                parser.parser.feed_data(await reader.read(65536))
            latencies.append(time.perf_counter() - started)
            statuses.append(parser.parser.get_status_code())
        writer.close()

    async def main() -> float:
        started = time.monotonic()
        await asyncio.gather(*(client(started + seconds) for _ in range(connections)))
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    ordered = sorted(v * 1000 for v in latencies)
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(ordered, 50), 3),
        "p99_ms": round(percentile(ordered, 99), 3),
        "non_2xx": sum(1 for s in statuses if not 200 <= s < 400),
    }


LOAD = load_wrk if shutil.which("wrk") else load_python


#: A run during which other processes used more than this share of the machine is done again
#: (up to ``--attempts`` times; the least disturbed is kept): other engineers' work shares it.
INTERFERENCE_RETRY_PCT = 10.0


def measure(url: str, token: str, connections: int, seconds: float, labels: dict[int, str]) -> dict[str, Any]:
    with CpuSampler(labels) as cpu:
        result = LOAD(url, token, connections, seconds)
    report = cpu.report()
    result["cpu_s"] = report["cpu_s"]
    result["machine_busy_pct"] = report["machine_busy_pct"]
    cores = os.cpu_count() or 1
    result["interference_pct"] = round(
        100 * report["cpu_s"].get("other", 0.0) / (report["elapsed_s"] * cores), 1
    )
    if result["non_2xx"]:
        raise RuntimeError(f"{url}: {result['non_2xx']} answers were not 2xx")
    return result


def quietly(runs: Any, attempts: int) -> dict[str, dict[str, Any]]:
    """``runs()`` -> {name: result}; done again while other processes disturbed it."""
    best: dict[str, dict[str, Any]] | None = None
    for attempt in range(1, attempts + 1):
        wait_quiet()
        results = runs()
        share = max(r["interference_pct"] for r in results.values())
        for result in results.values():
            result["attempt"] = attempt
        if best is None or share < max(r["interference_pct"] for r in best.values()):
            best = results
        if share <= INTERFERENCE_RETRY_PCT:
            break
        print(f"    other processes used {share:.0f} % of the machine meanwhile: again", flush=True)
    assert best is not None
    return best


def per_core(result: dict[str, Any], label: str) -> float | None:
    cpu = result["cpu_s"].get(label)
    return round(result["requests"] / cpu) if cpu else None


# -- the run -------------------------------------------------------------------------------------------


def start_platform(s: Scratch, labels: dict[int, str]) -> dict[str, str]:
    from clikopro_chassis import migrations

    database = s.database("identity")
    migrations.upgrade("clikopro_identity", database)
    ports = {name: free_port() for name in ("identity", "stub", "gateway", "gateway_stub", "gateway_h11")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    quiet = {"LOG_LEVEL": "WARNING", "BROKER_URL": BROKER_URL, "BUS_PREFIX": s.prefix}
    limits = {"RATE_LIMIT_PER_IP": "100000000/minute", "RATE_LIMIT_PER_USER": "100000000/minute"}
    unused = {
        f"{n.upper()}_URL": f"http://127.0.0.1:{free_port()}"
        for n in ("missions", "payments", "subscriptions", "appointments", "reputation", "trust_safety")
    }
    processes = {
        "identity": s.spawn(
            gunicorn("clikopro_identity.entrypoints.web:app", ports["identity"]),
            env={**quiet, "DATABASE_URL": database},
            log="identity.log",
        ),
        "stub": s.spawn(
            [
                "-m",
                "uvicorn",
                "bench.gateway:stub_app",
                "--port",
                str(ports["stub"]),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            log="stub.log",
        ),
        "gateway": s.spawn(
            gunicorn("clikopro_gateway.entrypoints.web:app", ports["gateway"]),
            env={**quiet, **limits, **unused, "IDENTITY_URL": urls["identity"]},
            log="gateway.log",
        ),
    }
    # The capacity gateways: every service is the stub; the keys still come from identity.
    to_stub = {
        f"{n.upper()}_URL": urls["stub"]
        for n in (
            "identity",
            "missions",
            "payments",
            "subscriptions",
            "appointments",
            "reputation",
            "trust_safety",
        )
    }
    stub_env = {**quiet, **limits, **to_stub, "JWKS_URL": f"{urls['identity']}/.well-known/jwks.json"}
    processes["gateway_stub"] = s.spawn(
        gunicorn("clikopro_gateway.entrypoints.web:app", ports["gateway_stub"]),
        env=stub_env,
        log="gw-stub.log",
    )
    processes["gateway_h11"] = s.spawn(
        [
            "-m",
            "uvicorn",
            "clikopro_gateway.entrypoints.web:app",
            "--port",
            str(ports["gateway_h11"]),
            "--loop",
            "asyncio",
            "--http",
            "h11",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=stub_env,
        log="gw-h11.log",
    )
    for name, url in urls.items():
        probe = _stub_up if name == "stub" else up
        wait_for(
            lambda probe=probe, url=url: probe(url),
            timeout=60,
            what=f"{name} up",
            alive=list(processes.values()),
        )
    for name, process in processes.items():
        label = "gateway" if name.startswith("gateway") else name
        label = {"gateway_stub": "gateway (stub)", "gateway_h11": "gateway (h11)"}.get(name, label)
        labels[process.pid] = f"{label} master" if name not in {"stub", "gateway_h11"} else label
        for child in children(process.pid):
            labels[child] = label
    return urls


def _stub_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/internal/suspensions", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def sign_in(identity: str) -> str:
    email = f"bench.{os.getpid()}.{int(time.time())}@example.fr"
    account = {
        "role": "client",
        "email": email,
        "password": PASSWORD,
        "first_name": "Bench",
        "last_name": "Mark",
        "phone": "06 12 34 56 78",
    }
    get_json(f"{identity}/api/v1/auth/register", data=account)
    return get_json(f"{identity}/api/v1/auth/token", data={"email": email, "password": PASSWORD})[
        "access_token"
    ]


def client_cost(url: str, requests: int = 3000) -> dict[str, float]:
    """CPU microseconds per proxied-style GET: httpx.AsyncClient vs the gateway's UpstreamPool."""
    import httpx
    import uvloop

    from clikopro_gateway.upstream import UpstreamPool

    async def with_httpx() -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(requests):
                response = await client.send(client.build_request("GET", url + "/api/v1/me"), stream=True)
                async for _chunk in response.aiter_raw():
                    pass
                await response.aclose()

    async def with_pool() -> None:
        pool = UpstreamPool(url, connect_timeout=2, idle_expiry=30)
        for _ in range(requests):
            response = await pool.request("GET", b"/api/v1/me", [], b"", timeout=5)
            await response.read()
            response.close()
        pool.close()

    costs = {}
    for name, scenario in (("httpx.AsyncClient", with_httpx), ("clikopro_gateway.upstream", with_pool)):
        uvloop.run(scenario())  # warm-up
        started = time.process_time()
        uvloop.run(scenario())
        costs[name] = round((time.process_time() - started) / requests * 1e6, 1)
    return costs


def run(opts: argparse.Namespace | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table, write bench/results/gateway.json and the docs section."""
    opts = opts or parse([])
    labels: dict[int, str] = {}
    with scratch() as s:
        machine = machine_info()
        urls = start_platform(s, labels)
        token = sign_in(urls["identity"])  # valid 15 minutes: longer than the run
        direct, through = f"{urls['identity']}/api/v1/me", f"{urls['gateway']}/api/v1/me"
        for url in (direct, through, f"{urls['gateway_stub']}/api/v1/me", f"{urls['gateway_h11']}/api/v1/me"):
            LOAD(url, token, 4, 1.0)  # warm-up: connections, JWKS, caches

        busy_before = wait_quiet()
        print(f"  latency at low load (machine {busy_before:.0f} % busy before)...", flush=True)
        rounds: dict[str, list[dict[str, Any]]] = {"direct": [], "gateway": []}
        for _ in range(opts.rounds):
            pair = quietly(
                lambda: {
                    "direct": measure(direct, token, 1, opts.seconds, labels),
                    "gateway": measure(through, token, 1, opts.seconds, labels),
                },
                opts.attempts,
            )
            rounds["direct"].append(pair["direct"])
            rounds["gateway"].append(pair["gateway"])
        latency = {
            target: {
                "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 3),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 3),
                "rps": round(statistics.median(r["rps"] for r in results), 1),
                "rounds": results,
            }
            for target, results in rounds.items()
        }
        added_p50 = round(latency["gateway"]["p50_ms"] - latency["direct"]["p50_ms"], 3)
        added_p99 = round(latency["gateway"]["p99_ms"] - latency["direct"]["p99_ms"], 3)

        print(f"  throughput with {opts.connections} connections...", flush=True)
        throughput = quietly(
            lambda: {
                "direct": measure(direct, token, opts.connections, opts.seconds, labels),
                "gateway": measure(through, token, opts.connections, opts.seconds, labels),
            },
            opts.attempts,
        )
        ratio = round(throughput["gateway"]["rps"] / throughput["direct"]["rps"], 3)

        print("  gateway capacity in front of a do-nothing service...", flush=True)
        capacity = quietly(
            lambda: {
                "uvicorn worker (uvloop, httptools)": measure(
                    f"{urls['gateway_stub']}/api/v1/me", token, opts.connections, opts.seconds, labels
                ),
                "uvicorn (asyncio, h11)": measure(
                    f"{urls['gateway_h11']}/api/v1/me", token, opts.connections, opts.seconds, labels
                ),
            },
            opts.attempts,
        )
        capacity["uvicorn worker (uvloop, httptools)"]["per_core_rps"] = per_core(
            capacity["uvicorn worker (uvloop, httptools)"], "gateway (stub)"
        )
        capacity["uvicorn (asyncio, h11)"]["per_core_rps"] = per_core(
            capacity["uvicorn (asyncio, h11)"], "gateway (h11)"
        )
        throughput["gateway"]["per_core_rps"] = per_core(throughput["gateway"], "gateway")
        print("  the hop to the service: httpx vs the gateway's client...", flush=True)
        client = client_cost(urls["stub"])
    per_core_rps = capacity["uvicorn worker (uvloop, httptools)"]["per_core_rps"] or 0
    verdicts = {
        "added_p50": added_p50 <= GOALS["added_p50_ms_max"],
        "added_p99": added_p99 <= GOALS["added_p99_ms_max"],
        "per_core": per_core_rps >= GOALS["per_core_rps_min"],
    }
    data = {
        "name": NAME,
        "goals": GOALS,
        "verdicts": verdicts,
        "load_generator": "wrk" if LOAD is load_wrk else "asyncio client in the benchmark process",
        "parameters": {
            "seconds": opts.seconds,
            "rounds": opts.rounds,
            "connections": opts.connections,
            "attempts": opts.attempts,
        },
        "latency": latency,
        "added": {"p50_ms": added_p50, "p99_ms": added_p99},
        "throughput": throughput,
        "throughput_ratio": ratio,
        "capacity": capacity,
        "client_cpu_us_per_request": client,
        "machine": machine,
    }
    markdown = render(data)
    print(markdown)
    if opts.out:
        write_results(data, Path(opts.out))
    else:
        write_results(data, RESULTS_DIR / f"{NAME}.json")
        update_docs_section(NAME, markdown)
    return data


def _ms(value: float) -> str:
    return f"{value:.2f}"


def render(data: dict[str, Any]) -> str:
    latency, throughput, capacity = data["latency"], data["throughput"], data["capacity"]
    machine = data["machine"]
    goals, verdicts = data["goals"], data["verdicts"]
    cpu_gw = throughput["gateway"]["cpu_s"]
    rows = [
        [
            "GET /api/v1/me direct to identity, 1 connection",
            f"{latency['direct']['rps']:,.0f}",
            _ms(latency["direct"]["p50_ms"]),
            _ms(latency["direct"]["p99_ms"]),
            "",
        ],
        [
            "GET /api/v1/me through the gateway, 1 connection",
            f"{latency['gateway']['rps']:,.0f}",
            _ms(latency["gateway"]["p50_ms"]),
            _ms(latency["gateway"]["p99_ms"]),
            "",
        ],
        ["added by the gateway", "", _ms(data["added"]["p50_ms"]), _ms(data["added"]["p99_ms"]), ""],
        [
            f"direct, {data['parameters']['connections']} connections",
            f"{throughput['direct']['rps']:,.0f}",
            _ms(throughput["direct"]["p50_ms"]),
            _ms(throughput["direct"]["p99_ms"]),
            "1.00",
        ],
        [
            f"through the gateway, {data['parameters']['connections']} connections",
            f"{throughput['gateway']['rps']:,.0f}",
            _ms(throughput["gateway"]["p50_ms"]),
            _ms(throughput["gateway"]["p99_ms"]),
            f"{data['throughput_ratio']:.2f}",
        ],
    ]
    capacity_rows = [
        [
            model,
            f"{r['rps']:,.0f}",
            _ms(r["p50_ms"]),
            _ms(r["p99_ms"]),
            f"{r['per_core_rps']:,}" if r["per_core_rps"] else "?",
        ]
        for model, r in capacity.items()
    ]
    pg = machine.get("postgresql") or {}
    return "\n".join(
        [
            "## Gateway (authenticated GET through the gateway vs direct)",
            "",
            "`python -m bench.run gateway`. Identity and the gateway each on gunicorn with one uvicorn "
            "worker, "
            "on this one machine with PostgreSQL, RabbitMQ and the load generator "
            f"({data['load_generator']}); {data['parameters']['seconds']:g} s per run, latency rows are "
            f"medians of {data['parameters']['rounds']} alternating rounds.",
            "",
            table(["run", "req/s", "p50 ms", "p99 ms", "vs direct"], rows),
            "",
            "Capacity: the gateway in front of a do-nothing service (its own work only); "
            "req/s per core = requests / gateway CPU-seconds (from /proc).",
            "",
            table(["gateway server model", "req/s", "p50 ms", "p99 ms", "req/s per core"], capacity_rows),
            "",
            "The hop to the service alone (sequential keep-alive GETs to the do-nothing service, uvloop): "
            + ", ".join(f"{k} {v:g} us CPU per request" for k, v in data["client_cpu_us_per_request"].items())
            + ".",
            "",
            f"- added at p50 <= {goals['added_p50_ms_max']:g} ms: "
            f"{'met' if verdicts['added_p50'] else 'NOT met'} "
            f"({data['added']['p50_ms']:.2f} ms); added at p99 <= {goals['added_p99_ms_max']:g} ms: "
            f"{'met' if verdicts['added_p99'] else 'NOT met'} ({data['added']['p99_ms']:.2f} ms)",
            f"- >= {goals['per_core_rps_min']:,.0f} authenticated req/s per core: "
            f"{'met' if verdicts['per_core'] else 'NOT met'} "
            f"({capacity['uvicorn worker (uvloop, httptools)']['per_core_rps'] or 0:,} req/s per core)",
            f"- CPU seconds during the {data['parameters']['connections']}-connection run through the "
            "gateway: " + ", ".join(f"{k} {v}" for k, v in list(cpu_gw.items())[:6]),
            "- other processes' share of the machine during the kept runs (a run above "
            f"{INTERFERENCE_RETRY_PCT:g} % is done again, up to {data['parameters']['attempts']} times): "
            + ", ".join(
                f"{name} {result['interference_pct']:g} %"
                for name, result in [
                    ("latency", max(latency["gateway"]["rounds"], key=lambda r: r["interference_pct"])),
                    ("throughput", throughput["gateway"]),
                    ("capacity", capacity["uvicorn worker (uvloop, httptools)"]),
                ]
            ),
            f"- machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
            f"PostgreSQL {pg.get('version', '?')}; {machine['date']}; other processes "
            f'("other" above) share the cores',
            "",
            f"Raw figures: `bench/results/{NAME}.json`.",
        ]
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating latency rounds (default 3)")
    parser.add_argument(
        "--connections", type=int, default=16, help="connections of the loaded runs (default 16)"
    )
    parser.add_argument("--attempts", type=int, default=3, help="tries of a disturbed run (default 3)")
    parser.add_argument("--out", help="write the JSON there instead of bench/results (docs untouched)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse(sys.argv[1:] if argv is None else argv)
    run(opts)  # the goals' verdicts are in the table and the JSON; a goal missed is not a failed run
    return 0


if __name__ == "__main__":
    sys.exit(main())
