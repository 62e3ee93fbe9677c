"""Helpers of the subscriptions tests: one clock for the service and the Stripe emulator, people with
tokens, the service over real HTTP with Stripe's webhooks pointed at it."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clikopro_chassis.testing.services import INTERNAL_TEST_HEADERS, INTERNAL_TEST_TOKEN, outbox_events
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import Event
from clikopro_stripe_emulator import StripeEmulator
from clikopro_stripe_emulator.billing_control import (
    CARD_CHARGE_FAILS,
    CARD_VISA,
    create_card,
    renew_now,
    run_renewals,
)
from clikopro_subscriptions.bootstrap import Services, bootstrap
from clikopro_subscriptions.service_layer import jobs
from clikopro_subscriptions.settings import SubscriptionsSettings

WEBHOOK_SECRET = "whsec_subscriptions_tests"
WEBHOOK_PATH = "/api/v1/subscriptions/webhooks/stripe"
#: Stripe's test card whose attachment is declined.
CARD_DECLINED = "4000000000000002"

__all__ = ["CARD_CHARGE_FAILS", "CARD_DECLINED", "CARD_VISA"]


class Clock:
    """The service's clock, moved together with the emulator's: a year passes for both in an instant."""

    def __init__(self, emulator: StripeEmulator | None = None) -> None:
        self.emulator = emulator
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **delta: float) -> dt.datetime:
        step = dt.timedelta(**delta)
        self.offset += step
        if self.emulator is not None:
            self.emulator.advance_clock(step.total_seconds())
        return self()

    def until(self, moment: dt.datetime, *, plus: dt.timedelta = dt.timedelta()) -> dt.datetime:
        """Move to ``moment`` (+ ``plus``)."""
        target = moment + plus
        return self.advance(seconds=max(0.0, (target - self()).total_seconds()))


def make_settings(
    url: str, emulator: StripeEmulator, jwks_url: str, tmp_path: Path, **env: str
) -> SubscriptionsSettings:
    return SubscriptionsSettings.from_env(
        "subscriptions",
        {
            "DATABASE_URL": url,
            "BROKER_URL": "memory://",
            "DATA_DIR": str(tmp_path),
            "JWKS_URL": jwks_url,
            "STRIPE_API_KEY": emulator.secret_key,
            "STRIPE_API_BASE": emulator.url,
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_TIMEOUT_SECONDS": "10",
            "INTERNAL_API_TOKEN": INTERNAL_TEST_TOKEN,
            **env,
        },
    )


def make_services(
    url: str, emulator: StripeEmulator, issuer: TokenFactory, clock: Clock, tmp_path: Path, **env: str
) -> Services:
    services = bootstrap(make_settings(url, emulator, issuer.jwks_url, tmp_path, **env))
    services.now = clock
    return services


@dataclass
class Person:
    role: str
    headers: dict[str, str]
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def user_id(self) -> str:
        return str(self.id)


class Api:
    """The service over real HTTP, Stripe (the emulator) and the moves the tests make often."""

    def __init__(
        self,
        http: httpx.Client,
        issuer: TokenFactory,
        services: Services,
        clock: Clock,
        emulator: StripeEmulator,
        webhook_url: str,
    ) -> None:
        self.http = http
        self.issuer = issuer
        self.services = services
        self.clock = clock
        self.emulator = emulator
        self.webhook_url = webhook_url
        self.stripe = emulator.client()

    def person(self, role: str) -> Person:
        user_id = uuid.uuid4()
        token = self.issuer.token(user_id, role, expires_in=3600)
        return Person(role, {"Authorization": f"Bearer {token}"}, user_id)

    def pro(self) -> Person:
        return self.person("pro")

    def get(self, who: Person | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=who.headers if who else {}, **kwargs)

    def internal(self, path: str) -> httpx.Response:
        """An internal route, called as the gateway does (with the internal secret)."""
        return self.http.get(path, headers=INTERNAL_TEST_HEADERS)

    def post(self, who: Person | None, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**(who.headers if who else {}), **kwargs.pop("headers", {})}
        return self.http.post(path, headers=headers, json=json, **kwargs)

    # -- the usual moves

    def card(self, number: str = CARD_VISA) -> str:
        """A card payment method created by the app with the publishable key."""
        return create_card(self.emulator, number)

    def subscribe_raw(
        self, pro: Person, plan: str = "pro", card: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.post(
            pro, "/api/v1/subscriptions", {"plan": plan, "payment_method": card or self.card()}, **kwargs
        )

    def subscribe(self, pro: Person, plan: str = "pro", card: str | None = None) -> dict[str, Any]:
        response = self.subscribe_raw(pro, plan, card)
        assert response.status_code == 201, response.text
        return response.json()

    def mine(self, pro: Person) -> dict[str, Any]:
        response = self.get(pro, "/api/v1/subscriptions/me")
        assert response.status_code == 200, response.text
        return response.json()

    def entitlements(self, pro: Person) -> dict[str, Any]:
        response = self.get(pro, "/api/v1/entitlements/me")
        assert response.status_code == 200, response.text
        return response.json()

    def command(self, pro: Person, name: str, **kwargs: Any) -> httpx.Response:
        return self.post(pro, f"/api/v1/subscriptions/me/{name}", **kwargs)

    def history(self, pro: Person) -> list[dict[str, Any]]:
        response = self.get(pro, "/api/v1/subscriptions/me/history")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def stripe_subscription(self, pro: Person) -> dict[str, Any]:
        """The pro's subscription as Stripe has it (found by our metadata)."""
        found = [
            s.to_dict()
            for s in self.stripe.v1.subscriptions.list({"status": "all", "limit": 100}).data
            if s["metadata"].to_dict().get("pro_id") == pro.user_id
        ]
        assert len(found) == 1, found
        return found[0]

    def stripe_events(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Every event Stripe emitted, in the order it emitted them (the emulator lists oldest first)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100, **({"type": type_} if type_ else {})}
        while True:
            page = self.emulator.request("GET", "/v1/events", params)
            found += page["data"]
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]

    def renew_now(self, pro: Person) -> str:
        """The pro's period ends now at Stripe: renewal charged (or, renewal off, the end)."""
        return renew_now(self.emulator, self.stripe_subscription(pro)["id"])["outcome"]

    def pass_time(self, *, until: dt.datetime | None = None, **delta: float) -> dt.datetime:
        """Time passes for the service and Stripe (to ``until``, or by ``delta``): what Stripe renews or
        ends meanwhile is done, and its webhooks handled."""
        now = self.clock.until(until, plus=dt.timedelta(**delta)) if until else self.clock.advance(**delta)
        run_renewals(self.emulator)
        self.settle()
        return now

    def run_jobs(self) -> dict[str, int]:
        return jobs.run(self.services)

    def events(self, type_: str | None = None, pro: Person | None = None) -> list[Event]:
        found = outbox_events(self.services.database, type_)
        return [e for e in found if pro is None or e.data.get("pro_id") == pro.user_id]

    def settle(self, timeout: float = 15) -> None:
        """Wait until every event Stripe has emitted so far was delivered to us and answered 2xx."""

        def delivered() -> bool:
            emitted = {e["id"] for e in self.stripe_events()}
            done = {
                d["event_id"]
                for d in self.emulator.deliveries()
                if d["url"] == self.webhook_url and d.get("status") and 200 <= d["status"] < 300
            }
            return emitted <= done

        time.sleep(0.05)
        wait_until(delivered, timeout=timeout, interval=0.05, message="Stripe's webhooks to be handled")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body
