"""Runs the whole platform on one machine: what ``make run`` does.

Gateway + the seven services (web and worker each) as child processes. With
no configuration it needs no external server: SQLite per service and kombu's
filesystem transport under ``DATA_DIR`` (default ``var/local``). Set
``BROKER_URL`` and ``<SERVICE>_DATABASE_URL`` (``TRUST_SAFETY_DATABASE_URL``...)
to run the same code on RabbitMQ and PostgreSQL.

Stripe: unless ``STRIPE_API_KEY`` is set (then ``STRIPE_API_BASE``,
``STRIPE_PUBLISHABLE_KEY`` and ``STRIPE_WEBHOOK_SECRETS`` are passed on as
they are), the local Stripe emulator (tools/stripe-emulator, a test tool) is
started on 127.0.0.1:8420 and payments and subscriptions are pointed at it;
its signed webhooks go to the gateway. A tester confirms a payment against it
with the printed publishable key and a test card, as the mobile app would.

Ctrl-C (or SIGTERM) stops every process cleanly: workers finish the message
in hand, web servers their requests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: (service, package, port of its web process)
SERVICES = [
    ("identity", "clikopro_identity", 8101),
    ("missions", "clikopro_missions", 8102),
    ("payments", "clikopro_payments", 8103),
    ("subscriptions", "clikopro_subscriptions", 8104),
    ("appointments", "clikopro_appointments", 8105),
    ("reputation", "clikopro_reputation", 8106),
    ("trust-safety", "clikopro_trust_safety", 8107),
]
COLOURS = ["36", "32", "33", "35", "34", "31", "96", "92"]
#: The local Stripe emulator (when no real Stripe is configured) and the services that talk to Stripe.
STRIPE_EMULATOR_PORT = 8420
STRIPE_SECRET_KEY = "sk_test_clikopro_local"
STRIPE_PUBLISHABLE_KEY = "pk_test_clikopro_local"
STRIPE_SERVICES = ("payments", "subscriptions")
#: Where the emulator sends its webhooks (through the gateway, as Stripe would). Subscriptions
#: (Billing events) adds its own endpoint: another ``--webhook URL=SECRET`` in ``plan()``.
STRIPE_WEBHOOK_PATH = "/api/v1/payments/webhooks/stripe"
#: Subscriptions' endpoint (Billing events), also through the gateway (a public route there).
SUBSCRIPTIONS_WEBHOOK_PATH = "/api/v1/subscriptions/webhooks/stripe"


def env_key(service: str) -> str:
    return service.upper().replace("-", "_")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    colour: str
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Platform:
    data_dir: Path
    gateway_port: int = 8080
    port_offset: int = 0
    base_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    echo: bool = True
    children: list[Child] = field(default_factory=list)
    _stopping: bool = False
    #: Signs the emulator's webhooks; new at each start (the emulator is told it on its command line).
    stripe_webhook_secret: str = field(default_factory=lambda: "whsec_local_" + secrets.token_hex(16))

    def __post_init__(self) -> None:
        # The gateway presents it to identity's and subscriptions' internal routes; every process
        # inherits base_env. New at each start unless given.
        if not self.base_env.get("INTERNAL_API_TOKEN"):
            self.base_env["INTERNAL_API_TOKEN"] = secrets.token_urlsafe(32)

    @property
    def stripe_emulated(self) -> bool:
        return not self.base_env.get("STRIPE_API_KEY")

    _stripe_port: int | None = None

    @property
    def stripe_port(self) -> int:
        """8420 for ``make run``; a free port for a test platform (whose ports are moved by an offset
        chosen so that only the services' and the gateway's ports are known to be free)."""
        if self._stripe_port is None:
            if self.port_offset == 0:
                self._stripe_port = STRIPE_EMULATOR_PORT
            else:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", 0))
                    self._stripe_port = sock.getsockname()[1]
        return self._stripe_port

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    def stripe_env(self) -> dict[str, str]:
        if not self.stripe_emulated:
            return {}
        return {
            "STRIPE_API_KEY": STRIPE_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": STRIPE_PUBLISHABLE_KEY,
            "STRIPE_API_BASE": self.stripe_url,
            "STRIPE_WEBHOOK_SECRETS": self.stripe_webhook_secret,
            "ONBOARDING_RETURN_URL": f"{self.gateway_url}/docs",
            "ONBOARDING_REFRESH_URL": f"{self.gateway_url}/docs",
        }

    def service_port(self, port: int) -> int:
        return port + self.port_offset

    def service_env(self, service: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.setdefault("LOG_FORMAT", "text")
        env["DATA_DIR"] = str(self.data_dir)
        env["DATABASE_URL"] = self.base_env.get(
            f"{env_key(service)}_DATABASE_URL", f"sqlite:///{self.data_dir / (service + '.sqlite3')}"
        )
        env["BROKER_URL"] = self.base_env.get("BROKER_URL", f"filesystem://{self.data_dir / 'broker'}")
        identity_port = self.service_port(dict((s, p) for s, _, p in SERVICES)["identity"])
        env.setdefault("JWKS_URL", f"http://127.0.0.1:{identity_port}/.well-known/jwks.json")
        if service in STRIPE_SERVICES:
            env.update(self.stripe_env())
        return env

    def migrate(self) -> None:
        from clikopro_chassis import migrations

        self.data_dir.mkdir(parents=True, exist_ok=True)
        for service, package, _ in SERVICES:
            migrations.upgrade(package, self.service_env(service)["DATABASE_URL"])

    def _gunicorn(self, module: str, port: int) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "-k",
            "uvicorn_worker.UvicornWorker",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            # Longer than the gateway's pool keeps an idle connection, so that a pooled connection is
            # never closed under a request (gunicorn's default, 2 s, made the gateway answer 502 now and
            # then: "the service closed the connection before answering"). As in the Dockerfiles.
            "--keep-alive",
            "75",
            "--log-level",
            "warning",
            # Several masters on one machine would race for the default control socket path.
            "--no-control-socket",
            module,
        ]

    def plan(self) -> None:
        colours = iter(COLOURS * 3)
        if self.stripe_emulated:
            self.children.append(
                Child(
                    "stripe-emulator",
                    [
                        str(BIN / "clikopro-stripe-emulator"),
                        "--port",
                        str(self.stripe_port),
                        "--secret-key",
                        STRIPE_SECRET_KEY,
                        "--publishable-key",
                        STRIPE_PUBLISHABLE_KEY,
                        "--webhook",
                        f"{self.gateway_url}{STRIPE_WEBHOOK_PATH}={self.stripe_webhook_secret}",
                        "--webhook",
                        f"{self.gateway_url}{SUBSCRIPTIONS_WEBHOOK_PATH}={self.stripe_webhook_secret}",
                        "--state-file",
                        str(self.data_dir / "stripe-emulator.pickle"),
                    ],
                    dict(self.base_env),
                    "37",
                )
            )
        for service, package, port in SERVICES:
            env = self.service_env(service)
            colour = next(colours)
            port = self.service_port(port)
            self.children.append(
                Child(f"{service}", self._gunicorn(f"{package}.entrypoints.web:app", port), env, colour)
            )
            self.children.append(
                Child(f"{service}-worker", [str(BIN / f"clikopro-{service}"), "worker"], env, colour)
            )
        gateway_env = dict(self.base_env)
        gateway_env.setdefault("LOG_FORMAT", "text")
        # The gateway listens to the bus too (suspensions, plan changes): the services' broker.
        gateway_env["BROKER_URL"] = self.service_env("identity")["BROKER_URL"]
        gateway_env["DATA_DIR"] = str(self.data_dir)
        for service, _, port in SERVICES:
            gateway_env[f"{env_key(service)}_URL"] = f"http://127.0.0.1:{self.service_port(port)}"
        self.children.append(
            Child(
                "gateway",
                self._gunicorn("clikopro_gateway.entrypoints.web:app", self.gateway_port),
                gateway_env,
                next(colours),
            )
        )

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        prefix = (
            f"\033[{child.colour}m{child.name:>22} |\033[0m "
            if sys.stdout.isatty()
            else f"{child.name:>22} | "
        )
        for line in iter(child.process.stdout.readline, b""):
            if self.echo:
                sys.stdout.write(prefix + line.decode(errors="replace"))
                sys.stdout.flush()

    def start(self) -> None:
        if not self.children:
            self.plan()
        for child in self.children:
            child.process = subprocess.Popen(
                child.argv,
                env=child.env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
            )
            threading.Thread(target=self._pump, args=(child,), daemon=True).start()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def ready(self) -> bool:
        urls = [f"{self.gateway_url}/ready"]
        if self.stripe_emulated:
            urls.append(f"{self.stripe_url}/_config/health")
        try:
            for url in urls:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status != 200:
                        return False
            return True
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            dead = self.dead()
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited during start-up")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(f"the platform was not ready after {timeout}s")

    def dead(self) -> list[str]:
        return [c.name for c in self.children if c.process is not None and c.process.poll() is not None]

    def stop(self, timeout: float = 15.0) -> None:
        if self._stopping:
            return
        self._stopping = True
        for child in self.children:
            if child.process and child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()


def stripe_banner(platform: Platform) -> str:
    if not platform.stripe_emulated:
        return f"\n  Stripe      {platform.base_env.get('STRIPE_API_BASE', 'https://api.stripe.com')}"
    return (
        f"\n  Stripe      {platform.stripe_url}  (local emulator, test mode)"
        f"\n              publishable key {STRIPE_PUBLISHABLE_KEY}; pay as the app does:"
        f"\n              POST {platform.stripe_url}/v1/payment_intents/<id>/confirm with the"
        "\n              client_secret of GET /api/v1/missions/<id>/payment and payment_method=pm_card_visa"
        "\n              (pm_card_visa_chargeDeclined: declined). `make demo` plays a whole mission."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", str(ROOT / "var" / "local")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)

    platform = Platform(data_dir=Path(args.data_dir).resolve(), gateway_port=args.port)
    started = time.monotonic()
    print(f"Migrating the seven databases in {platform.data_dir} ...", flush=True)
    platform.migrate()
    platform.start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        platform.wait_ready(timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        print(f"\nstart-up failed: {exc}", file=sys.stderr)
        platform.stop()
        return 1
    broker = platform.service_env("identity")["BROKER_URL"]
    print(
        f"\nCLIKOPRO is up in {time.monotonic() - started:.1f}s"
        f"\n  Gateway     {platform.gateway_url}"
        f"\n  Swagger UI  {platform.gateway_url}/docs"
        f"\n  OpenAPI     {platform.gateway_url}/api/v1/openapi.json"
        f"\n  Services    "
        + ", ".join(f"{s} :{platform.service_port(p)}" for s, _, p in SERVICES)
        + f"\n  Broker      {broker.split('@')[-1]}"
        + stripe_banner(platform)
        + "\nPress Ctrl-C to stop.\n",
        flush=True,
    )
    while not stop.wait(0.5):
        dead = platform.dead()
        if dead:
            print(f"\n{', '.join(dead)} stopped unexpectedly; stopping the platform", file=sys.stderr)
            platform.stop()
            return 1
    print("\nStopping ...", flush=True)
    platform.stop()
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
