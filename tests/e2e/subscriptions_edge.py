"""The platform as the apps see it, for the subscriptions end-to-end tests: the gateway, and Stripe's
SDK on the device (the local emulator the launcher starts)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_stripe_emulator import StripeEmulator

from .conftest import launcher


class Edge:
    """The platform as the apps see it: the gateway, and Stripe's SDK on the device (the emulator)."""

    def __init__(self, platform: Any, issuer: TokenFactory) -> None:
        self.http = httpx.Client(base_url=platform.gateway_url, timeout=15)
        self.issuer = issuer
        self.stripe = StripeEmulator(
            platform.stripe_url, launcher.STRIPE_SECRET_KEY, launcher.STRIPE_PUBLISHABLE_KEY
        )

    def person(self, role: str) -> tuple[str, dict[str, str]]:
        user_id = str(uuid.uuid4())
        return user_id, self.issuer.headers(user_id, role, expires_in=3600)

    def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(headers or {})
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        for _ in range(3):  # a 502/503 from the gateway is retried with the same Idempotency-Key
            response = self.http.request(method, path, headers=headers, **kw)
            if response.status_code not in (502, 503):
                return response
        return response

    def mission(self, client: dict[str, str]) -> str:
        response = self.call("POST", "/api/v1/missions", client, json={
            "title": "Remplacement d'un chauffe-eau", "description": "Ballon de 200 L, accès facile.",
            "trade": "plomberie", "postcode": "69003", "budget_cents": 90_000,
        })  # fmt: skip
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def propose(self, pro: dict[str, str], mission_id: str, mode: str) -> httpx.Response:
        due = str(dt.date.today() + dt.timedelta(days=10))
        return self.call("POST", f"/api/v1/missions/{mission_id}/proposals", pro, json={
            "amount_cents": 80_000, "message": "Disponible jeudi.", "payment_mode": mode,
            "tasks": [{"title": "Pose", "amount_cents": 80_000, "due_date": due}],
        })  # fmt: skip

    def availability(self, pro: dict[str, str]) -> httpx.Response:
        return self.call("PUT", "/api/v1/appointments/availability", pro, json={"slots": []})

    def subscribe(self, pro: dict[str, str], card: str) -> dict[str, Any]:
        response = self.call(
            "POST", "/api/v1/subscriptions", pro, json={"plan": "pro", "payment_method": card}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def stripe_subscription_of(self, pro_id: str) -> str:
        listing = self.stripe.request("GET", "/v1/subscriptions", {"status": "all", "limit": 100})["data"]
        [found] = [s["id"] for s in listing if s["metadata"].get("pro_id") == pro_id]
        return found


def plan_required(response: httpx.Response) -> bool:
    return response.status_code == 403 and response.json().get("code") == "plan_required"


def ours(tapped: Any, pro_id: str) -> list:
    return [e for e in tapped() if e.producer == "subscriptions" and e.data.get("pro_id") == pro_id]
