"""One CLIKOPRO Secure mission played through the gateway, as the apps would play it.

Sign-up and sign-in of a client and a professional, the pro's payout onboarding (Stripe
Connect), a published mission, a Secure proposal of three tasks, its acceptance, the client's
card payment confirmed at Stripe with the client secret (the platform never sees the card),
each task submitted and validated, and the money released task by task.

Used by the end-to-end test (tests/e2e/test_secure_mission.py) and by ``make demo``
(tests/e2e/demo.py). Standard library and httpx only, written against API.md.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "a long demo passphrase"
#: A SIRET with a valid Luhn key (INSEE's own).
SIRET = "13002526500013"
TASKS = [
    ("Dépose de l'ancienne baignoire et du carrelage", 45_000),
    ("Pose du receveur de douche et de la robinetterie", 120_000),
    ("Faïence murale, joints et finitions", 85_000),
]


#: Routes whose 404 means the service behind them is not built yet (identity login, missions).
UNBUILT_IF_404 = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/missions")}


class StoryError(AssertionError):
    pass


class RoutesMissing(StoryError):
    """The gateway answered 404 for a route API.md promises: that service is not built yet."""


def euros(cents: int) -> str:
    return f"{cents / 100:,.2f} €".replace(",", " ").replace(".", ",")


@dataclass
class Story:
    gateway: str
    stripe_url: str
    say: Callable[[str], None] = print
    timeout: float = 30.0
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15))
    facts: dict[str, Any] = field(default_factory=dict)
    last_answer: str = ""

    # -- plumbing ---------------------------------------------------------------------------------

    def call(
        self, method: str, path: str, token: str | None = None, expect: int | tuple[int, ...] = 200, **kw: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        for _attempt in range(3):  # a 502/503 from the gateway is retried (same Idempotency-Key)
            response = self.http.request(method, self.gateway + path, headers=headers, **kw)
            if response.status_code not in (502, 503):
                break
            time.sleep(0.3)
        self.last_answer = f"{method} {path} -> {response.status_code} {response.text[:300]}"
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code == 404 and 404 not in expected and (method, path) in UNBUILT_IF_404:
            raise RoutesMissing(f"{method} {path} answered 404: {response.text[:200]}")
        if response.status_code not in expected:
            raise StoryError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def eventually(self, what: str, probe: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = probe()
            except (StoryError, KeyError, TypeError) as exc:
                last = f"{exc!r} after {self.last_answer}"
            else:
                if last:
                    return last
            time.sleep(0.25)
        raise StoryError(f"timed out waiting for {what}: last={last!r}")

    # -- the story ----------------------------------------------------------------------------------

    def sign_up(self, role: str, first_name: str, last_name: str) -> tuple[str, str]:
        email = f"{first_name.lower()}.{uuid.uuid4().hex[:8]}@example.fr"
        body: dict[str, Any] = {
            "role": role,
            "email": email,
            "password": PASSWORD,
            "first_name": first_name,
            "last_name": last_name,
            "phone": "+33612345678",
        }
        if role == "pro":
            body |= {
                "company_name": f"{last_name} Rénovation",
                "siret": SIRET,
                "insurance": {
                    "insurer": "MAAF Pro",
                    "policy_number": "RC-2026-0042",
                    "valid_until": (dt.date.today() + dt.timedelta(days=365)).isoformat(),
                },
                "trades": ["plomberie"],
                "postcode": "75011",
            }
        user = self.call("POST", "/api/v1/auth/register", json=body, expect=201)
        tokens = self.call("POST", "/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        return user["id"], tokens["access_token"]

    def confirm_card(
        self, intent_id: str, client_secret: str, publishable_key: str, card: str
    ) -> dict[str, Any]:
        """What the mobile app's Stripe SDK does: confirm with the publishable key and the client secret."""
        data = urllib.parse.urlencode({"client_secret": client_secret, "payment_method": card}).encode()
        request = urllib.request.Request(
            f"{self.stripe_url}/v1/payment_intents/{intent_id}/confirm",
            data=data,
            headers={"Authorization": f"Bearer {publishable_key}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def play(self, card: str = "pm_card_visa") -> dict[str, Any]:
        say = self.say
        say("1. Marie signs up as a client, Paul as a professional (plumber, SIRET checked)")
        client_id, client = self.sign_up("client", "Marie", "Curie")
        pro_id, pro = self.sign_up("pro", "Paul", "Durand")
        self.facts |= {"client_id": client_id, "pro_id": pro_id}

        say("2. Paul sets up his payouts (Stripe Connect Express onboarding)")
        link = self.call("POST", "/api/v1/payments/onboarding", pro)
        with urllib.request.urlopen(
            link["url"] + ("&" if "?" in link["url"] else "?") + "complete=1", timeout=10
        ):
            pass
        self.eventually(
            "the payout account to be enabled",
            lambda: self.call("GET", "/api/v1/payments/account", pro)["status"] == "enabled",
        )
        say(f"   account {link['account_id']} can receive transfers")

        say("3. Marie publishes her mission")
        mission = self.call(
            "POST",
            "/api/v1/missions",
            client,
            json={
                "title": "Remplacer la baignoire par une douche",
                "description": "Salle de bains de 6 m², 3e étage avec ascenseur.",
                "trade": "plomberie",
                "postcode": "75011",
                "budget_cents": 260_000,
            },
            expect=201,
        )
        mission_id = mission["id"]
        self.facts["mission_id"] = mission_id
        say(f"   mission {mission_id}: {mission['status']}")

        total = sum(amount for _, amount in TASKS)
        say(f"4. Paul proposes {euros(total)} with CLIKOPRO Secure, in {len(TASKS)} tasks")
        start = dt.date.today() + dt.timedelta(days=7)
        proposal = self.eventually(
            "the proposal to be accepted by missions (Paul's account known there)",
            lambda: self.call(
                "POST",
                f"/api/v1/missions/{mission_id}/proposals",
                pro,
                json={
                    "amount_cents": total,
                    "message": "Chantier propre, garantie décennale.",
                    "payment_mode": "secure",
                    "tasks": [
                        {
                            "title": title,
                            "amount_cents": amount,
                            "due_date": (start + dt.timedelta(weeks=n)).isoformat(),
                        }
                        for n, (title, amount) in enumerate(TASKS)
                    ],
                },
                expect=201,
            ),
        )

        say("5. Marie accepts: the contract is concluded")
        self.call("POST", f"/api/v1/proposals/{proposal['id']}/accept", client, expect=(200, 201))

        say("6. Marie pays by card in the app (confirmed at Stripe; the platform never sees the card)")
        payment = self.eventually(
            "the payment to be ready",
            lambda: (
                (p := self.call("GET", f"/api/v1/missions/{mission_id}/payment", client, expect=(200, 404)))
                and p.get("client_secret")
                and p
            ),
        )
        confirmed = self.confirm_card(
            payment["payment_intent_id"], payment["client_secret"], payment["stripe_publishable_key"], card
        )
        say(f"   PaymentIntent {confirmed['id']}: {confirmed['status']}")
        self.eventually(
            "the payment to be secured",
            lambda: self.call("GET", f"/api/v1/missions/{mission_id}/payment", client)["status"] == "secured",
        )
        self.eventually(
            "the mission to be in progress",
            lambda: self.call("GET", f"/api/v1/missions/{mission_id}", client)["status"] == "in_progress",
        )
        say(f"   {euros(payment['amount_cents'])} held by the platform; the mission is in progress")

        say("7. Paul submits each task, Marie validates it, the money is released task by task")
        tasks = self.call("GET", f"/api/v1/missions/{mission_id}/tasks", client)
        tasks = tasks["items"] if isinstance(tasks, dict) else tasks
        for task in sorted(tasks, key=lambda t: t.get("position", 0)):
            self.call(
                "POST", f"/api/v1/missions/{mission_id}/tasks/{task['id']}/submit", pro, expect=(200, 201)
            )
            self.call(
                "POST",
                f"/api/v1/missions/{mission_id}/tasks/{task['id']}/validate",
                client,
                expect=(200, 201),
            )
            released = self.eventually(
                f"the release of task {task['id']}",
                lambda t=task: next(
                    (
                        x["release"]
                        for x in self.call("GET", f"/api/v1/missions/{mission_id}/payment", pro)["tasks"]
                        if x["task_id"] == t["id"] and x["release"] and x["release"]["status"] == "released"
                    ),
                    None,
                ),
            )
            say(
                f"   {task.get('title', task['id'])}: {euros(released['amount_cents'])} -> Paul receives "
                f"{euros(released['net_cents'])} (commission {euros(released['commission_cents'])}), "
                f"transfer {released['transfer_id']}"
            )

        self.eventually(
            "the mission to be completed",
            lambda: self.call("GET", f"/api/v1/missions/{mission_id}", client)["status"] == "completed",
        )
        final = self.eventually(
            "the payment to be completed",
            lambda: (
                (p := self.call("GET", f"/api/v1/missions/{mission_id}/payment", client))["status"]
                == "completed"
                and p
            ),
        )
        say("8. Mission completed. The money:")
        say(f"   paid by Marie        {euros(final['captured_cents']):>14}")
        say(f"   released to Paul     {euros(final['released_cents']):>14}")
        rate = final["commission_rate_bps"] / 100
        say(f"   CLIKOPRO commission  {euros(final['commission_cents']):>14}  ({rate:g} %)")
        say(f"   refunded             {euros(final['refunded_cents']):>14}")
        say(f"   still held           {euros(final['held_cents']):>14}")
        self.facts["payment"] = final
        return final
