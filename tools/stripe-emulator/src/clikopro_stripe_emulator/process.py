"""Running the emulator in its own process, and talking to it (standard library only).

with start_emulator() as process:
    emulator = process.emulator          # url, secret_key, publishable_key
    client = emulator.client()           # a stripe.StripeClient aimed at it, no retries
    emulator.add_webhook("hook", "http://127.0.0.1:8103/...", "whsec_...", connect=None)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Keys the emulator accepts by default (any ``sk_...``/``pk_...`` unless it was started with others).
SECRET_KEY = "sk_test_clikopro_emulator"
PUBLISHABLE_KEY = "pk_test_clikopro_emulator"


def sign_webhook(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class EmulatorError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class StripeEmulator:
    """A running emulator: its address and keys, and its control endpoints."""

    url: str
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        json_body: Any = None,
        timeout: float = 10,
    ) -> Any:
        """Call the emulator; ``params`` are form-encoded (Stripe's flat ``a[b]`` form) on POST."""
        url = self.url + path
        data = None
        headers = {"Authorization": f"Bearer {key or self.secret_key}"}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif params is not None and method in ("POST", "DELETE"):
            data = urllib.parse.urlencode(_flatten(params)).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif params:
            url += "?" + urllib.parse.urlencode(_flatten(params))
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise EmulatorError(exc.code, parsed) from None
        return json.loads(body) if body else None

    # -- control -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, stored idempotent answer and webhook endpoint; the clock returns to now."""
        self.request("DELETE", "/_config/data")
        self.request("DELETE", "/_config/webhooks")

    def add_webhook(
        self,
        endpoint_id: str,
        url: str,
        secret: str,
        *,
        events: Sequence[str] | None = None,
        connect: bool | None = False,
    ) -> None:
        """Register an endpoint: ``connect=False`` platform events, ``True`` Connect events, ``None`` both."""
        body: dict[str, Any] = {
            "url": url,
            "secret": secret,
            "connect": "both" if connect is None else connect,
        }
        if events is not None:
            body["events"] = list(events)
        self.request("POST", f"/_config/webhooks/{endpoint_id}", json_body=body)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.request("GET", "/_config/deliveries")["data"]

    def onboard(self, account_id: str) -> dict[str, Any]:
        """Complete a connected account's onboarding (as the pro would on the AccountLink's page)."""
        return self.request("POST", f"/_config/accounts/{account_id}/onboard")

    def restrict(self, account_id: str) -> dict[str, Any]:
        """Disable a connected account's transfers (Stripe asking for more information)."""
        return self.request("POST", f"/_config/accounts/{account_id}/restrict")

    def advance_clock(self, seconds: float) -> int:
        return self.request("POST", "/_config/clock", json_body={"advance_seconds": seconds})["now"]

    # -- as a client would ---------------------------------------------------------------------

    def confirm_payment(
        self, payment_intent_id: str, client_secret: str, payment_method: str = "pm_card_visa"
    ) -> dict[str, Any]:
        """Confirm a PaymentIntent with a test card from the client side (publishable key and
        ``client_secret``), exactly as the mobile app does with Stripe's SDK. A declined card
        raises :class:`EmulatorError` (402), as Stripe answers."""
        return self.request(
            "POST",
            f"/v1/payment_intents/{payment_intent_id}/confirm",
            {"client_secret": client_secret, "payment_method": payment_method},
            key=self.publishable_key,
        )

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        params = {"limit": 100, **({"type": type} if type else {})}
        return self.request("GET", "/v1/events", params)["data"]

    def client(self, **options: Any) -> Any:
        """A ``stripe.StripeClient`` on this emulator, with no network retries (tests must see failures)."""
        import stripe

        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": self.url, "connect": self.url, "files": self.url},
            **options,
        )


def _flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            items += _flatten(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    items += _flatten(item, f"{name}[{i}]")
                else:
                    items.append((f"{name}[{i}]", _scalar(item)))
        elif value is not None:
            items.append((name, _scalar(value)))
    return items


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class EmulatorProcess:
    """The emulator as a child process on 127.0.0.1 (a free port unless given)."""

    def __init__(
        self,
        *,
        port: int = 0,
        webhook_delay: float = 0.05,
        secret_key: str = SECRET_KEY,
        publishable_key: str = PUBLISHABLE_KEY,
        extra_args: Sequence[str] = (),
        output: Callable[[str], None] | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "clikopro_stripe_emulator.server",
            "--port",
            str(port),
            "--webhook-delay",
            str(webhook_delay),
            "--secret-key",
            secret_key,
            "--publishable-key",
            publishable_key,
            *extra_args,
        ]
        self.keys = (secret_key, publishable_key)
        self.output = output
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.emulator: StripeEmulator | None = None

    def start(self) -> StripeEmulator:
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                lines.put(line)
                if self.output:
                    self.output(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True, name="stripe-emulator-output").start()
        deadline = time.monotonic() + self.startup_timeout
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError("the Stripe emulator did not start in time: " + "".join(seen)) from None
            if line is None:
                self.stop()
                raise RuntimeError("the Stripe emulator exited at start-up: " + "".join(seen))
            seen.append(line)
            if "listening on " in line:
                url = line.strip().rsplit("listening on ", 1)[1]
                self.emulator = StripeEmulator(url, *self.keys)
                return self.emulator

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(**kwargs: Any) -> EmulatorProcess:
    """An :class:`EmulatorProcess`, to use as a context manager."""
    return EmulatorProcess(**kwargs)
