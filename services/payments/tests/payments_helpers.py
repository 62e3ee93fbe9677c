"""Helpers of the payments tests: events as the other services send them, the app's HTTP API,
the client's card confirmation at the (emulated) Stripe, and what ended up where."""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from clikopro_chassis import inbox
from clikopro_chassis.testing.services import outbox_events
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import Event, make_event, parse_event
from clikopro_contracts.testing import wire
from clikopro_payments.bootstrap import Services
from clikopro_payments.service_layer import money, views
from clikopro_payments.service_layer.handlers import HANDLERS
from clikopro_payments.settings import PaymentsSettings
from clikopro_stripe_emulator import StripeEmulator

WEBHOOK_SECRET = "whsec_test_payments"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def event(type_: str, data: dict[str, Any], producer: str) -> Event:
    """An event as its producer publishes it, as the consumer receives it (parsed from the wire)."""
    return parse_event(wire(make_event(type_, data, producer=producer, correlation_id=str(uuid.uuid4()))))


@dataclass
class Mission:
    mission_id: uuid.UUID
    client_id: uuid.UUID
    pro_id: uuid.UUID
    amounts: list[int]
    mode: str = "secure"
    task_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return sum(self.amounts)


@dataclass
class Platform:
    svc: Services
    stripe: StripeEmulator
    tokens: TokenFactory
    base_url: str

    # -- events from the other services ------------------------------------------------------------

    def handle(self, received: Event) -> bool:
        """Run the handler as the consumer does: inbox claim and handler in one transaction."""
        session = self.svc.database.session()
        try:
            if not inbox.claim(session, "payments", received):
                session.commit()
                return False
            with self.svc.joined_uow(session) as uow:
                HANDLERS[received.type](received, uow)
                uow.commit()
            session.commit()
            return True
        finally:
            session.close()

    def new_mission(
        self,
        amounts: Sequence[int] = (45_000, 120_000, 85_000),
        *,
        mode: str = "secure",
        client_id: uuid.UUID | None = None,
        pro_id: uuid.UUID | None = None,
    ) -> Mission:
        mission = Mission(
            uuid.uuid4(), client_id or uuid.uuid4(), pro_id or uuid.uuid4(), list(amounts), mode
        )
        mission.task_ids = [uuid.uuid4() for _ in amounts]
        return mission

    def accepted(self, mission: Mission) -> Event:
        """The ProposalAccepted missions publishes for this mission."""
        return event(
            "ProposalAccepted",
            {
                "mission_id": mission.mission_id,
                "proposal_id": uuid.uuid4(),
                "client_id": mission.client_id,
                "pro_id": mission.pro_id,
                "payment_mode": mission.mode,
                "amount_cents": mission.amount,
                "currency": "EUR",
                "tasks": [
                    {
                        "task_id": task_id,
                        "title": f"Tâche {n}",
                        "amount_cents": amount,
                        "due_date": dt.date(2026, 4, n),
                        "position": n,
                    }
                    for n, (task_id, amount) in enumerate(
                        zip(mission.task_ids, mission.amounts, strict=True), 1
                    )
                ],
                "accepted_at": NOW,
            },
            "missions",
        )

    def accept(self, amounts: Sequence[int] = (45_000, 120_000, 85_000), **kwargs: Any) -> Mission:
        mission = self.new_mission(amounts, **kwargs)
        self.handle(self.accepted(mission))
        return mission

    def task_validated(self, mission: Mission, n: int) -> Event:
        return event(
            "TaskValidated",
            {
                "mission_id": mission.mission_id,
                "task_id": mission.task_ids[n],
                "pro_id": mission.pro_id,
                "client_id": mission.client_id,
                "amount_cents": mission.amounts[n],
                "currency": "EUR",
                "payment_mode": mission.mode,
                "auto_validated": False,
                "validated_at": NOW,
            },
            "missions",
        )

    def validate(self, mission: Mission, *tasks: int) -> None:
        for n in tasks:
            self.handle(self.task_validated(mission, n))

    def incident_opened(self, mission: Mission, incident_id: uuid.UUID) -> Event:
        return event(
            "IncidentOpened",
            {
                "incident_id": incident_id,
                "mission_id": mission.mission_id,
                "client_id": mission.client_id,
                "pro_id": mission.pro_id,
                "opened_by": mission.client_id,
                "opened_by_role": "client",
                "category": "not_delivered",
                "task_ids": [],
                "answer_due_at": NOW + dt.timedelta(days=7),
                "opened_at": NOW,
            },
            "trust-safety",
        )

    def incident_resolved(
        self, mission: Mission, incident_id: uuid.UUID, outcome: str, refund_cents: int | None = None
    ) -> Event:
        return event(
            "IncidentResolved",
            {
                "incident_id": incident_id,
                "mission_id": mission.mission_id,
                "client_id": mission.client_id,
                "pro_id": mission.pro_id,
                "outcome": outcome,
                "task_ids": [],
                "refund_amount_cents": refund_cents,
                "reason": "Décision de la modération.",
                "currency": "EUR",
                "moderator_id": uuid.uuid4(),
                "resolved_at": NOW + dt.timedelta(days=1),
            },
            "trust-safety",
        )

    # -- the HTTP API ------------------------------------------------------------------------------

    def get(self, path: str, user_id: uuid.UUID | None = None, role: str = "client") -> httpx.Response:
        headers = self.tokens.headers(user_id, role) if user_id else {}
        return httpx.get(self.base_url + path, headers=headers, timeout=15)

    def post(self, path: str, user_id: uuid.UUID, role: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(
            self.base_url + path, headers=self.tokens.headers(user_id, role), timeout=15, **kwargs
        )

    def payment(
        self, mission: Mission, user_id: uuid.UUID | None = None, role: str = "client"
    ) -> dict[str, Any]:
        response = self.get(
            f"/api/v1/missions/{mission.mission_id}/payment", user_id or mission.client_id, role
        )
        assert response.status_code == 200, response.text
        return response.json()

    # -- as the client's app and the pro would -----------------------------------------------------

    def pay(self, mission: Mission, card: str = "pm_card_visa", *, wait_for: str | None = "secured") -> dict:
        """The client asks for the payment, confirms the card at Stripe with the client secret and
        the publishable key (as the mobile app does), and the webhook tells us."""
        view = self.payment(mission)
        assert view["client_secret"] and view["stripe_publishable_key"] == self.stripe.publishable_key
        try:
            self.stripe.confirm_payment(view["payment_intent_id"], view["client_secret"], card)
        except Exception as exc:  # noqa: BLE001 - a declined card answers 402, as on Stripe
            assert getattr(exc, "status", None) == 402, exc
        if wait_for:
            wait_until(
                lambda: self.payment(mission)["status"] == wait_for, timeout=10, message=f"payment {wait_for}"
            )
        return self.payment(mission)

    def onboard(self, pro_id: uuid.UUID) -> str:
        """The pro starts onboarding in the app and completes it on Stripe's page; the webhook tells us."""
        response = self.post("/api/v1/payments/onboarding", pro_id, "pro")
        assert response.status_code == 200, response.text
        link = response.json()
        with urllib.request.urlopen(link["url"] + "&complete=1", timeout=10) as page:
            assert page.status == 200
        wait_until(
            lambda: self.account_row(pro_id)["transfers_enabled"], timeout=10, message="account enabled"
        )
        return link["account_id"]

    def account_row(self, pro_id: uuid.UUID) -> Any:
        with self.svc.uow() as uow:
            return uow.accounts.get(pro_id)

    def reminder_row(self, pro_id: uuid.UUID) -> Any:
        with self.svc.uow() as uow:
            return uow.onboarding_reminders.get(pro_id)

    def run_money(self) -> None:
        money.run_money_jobs(self.svc)

    # -- what happened ------------------------------------------------------------------------------

    def events(self, type_: str | None = None) -> list[Event]:
        return outbox_events(self.svc.database, type_)

    def transfers(self, mission: Mission) -> list[Any]:
        return self.svc.stripe.list_transfers(transfer_group=str(mission.mission_id))

    def totals(self, mission: Mission) -> dict[str, int]:
        with self.svc.uow() as uow:
            balances, captured, refunded = views.balances(uow, mission.mission_id)
        return {**balances, "captured": captured, "refunded": refunded}

    def releases(self, mission: Mission) -> dict[uuid.UUID, Any]:
        with self.svc.uow() as uow:
            return {r["task_id"]: r for r in uow.releases.of_mission(mission.mission_id)}

    def wait(self, probe, message: str = "", timeout: float = 10):
        return wait_until(probe, timeout=timeout, message=message)


def settle(seconds: float = 0.3) -> None:
    """Let the emulator send whatever webhooks it would (it sends them after a short delay)."""
    time.sleep(seconds)


def payments_settings(
    database_url: str, emulator: StripeEmulator, jwks_url: str, **env: str
) -> PaymentsSettings:
    return PaymentsSettings.from_env(
        "payments",
        {
            "DATABASE_URL": database_url,
            "BROKER_URL": "memory://",
            "JWKS_URL": jwks_url,
            "STRIPE_API_KEY": emulator.secret_key,
            "STRIPE_PUBLISHABLE_KEY": emulator.publishable_key,
            "STRIPE_API_BASE": emulator.url,
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_TIMEOUT_SECONDS": "5",
            # The tests' figures are worked out at 5 % (the service's default is the free plan's rate).
            "DEFAULT_COMMISSION_BPS": "500",
            **env,
        },
    )
