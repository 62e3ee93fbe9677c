"""Helpers of the missions tests: a movable clock, people with tokens, the service over HTTP."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clikopro_chassis.testing.services import outbox_events
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_contracts import Event, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import wire, with_data
from clikopro_missions.bootstrap import Services, bootstrap
from clikopro_missions.service_layer.handlers import HANDLERS
from clikopro_missions.settings import MissionsSettings

#: A Tuesday in March 2026, 10:00 in Paris (09:00 UTC).
START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


class Clock:
    """The service's clock in tests: set or moved, never waited for."""

    def __init__(self, at: dt.datetime = START) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at

    def today(self, plus_days: int = 0) -> str:
        return (self.at + dt.timedelta(days=plus_days)).date().isoformat()


def make_services(url: str, tmp_path: Path, issuer: TokenFactory, clock: Clock, **env: str) -> Services:
    settings = MissionsSettings.from_env(
        "missions",
        {
            "DATABASE_URL": url,
            "BROKER_URL": "memory://",
            "DATA_DIR": str(tmp_path),
            "JWKS_URL": issuer.jwks_url,
            **env,
        },
    )
    services = bootstrap(settings)
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
    """The service over real HTTP, and the moves the tests make often."""

    def __init__(self, http: httpx.Client, issuer: TokenFactory, services: Services, clock: Clock) -> None:
        self.http = http
        self.issuer = issuer
        self.services = services
        self.clock = clock

    def person(self, role: str) -> Person:
        user_id = uuid.uuid4()
        return Person(
            role, {"Authorization": f"Bearer {self.issuer.token(user_id, role, expires_in=3600)}"}, user_id
        )

    def client(self) -> Person:
        return self.person("client")

    def pro(self) -> Person:
        return self.person("pro")

    def moderator(self) -> Person:
        return self.person("moderator")

    def get(self, who: Person, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=who.headers, **kwargs)

    def post(self, who: Person, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers={**who.headers, **kwargs.pop("headers", {})}, json=json, **kwargs)

    # -- the usual moves

    def mission_body(self, **changes: Any) -> dict[str, Any]:
        body = {
            "title": "Rénovation de la salle de bain",
            "description": "Remplacer la baignoire par une douche à l'italienne.",
            "trade": "plomberie",
            "postcode": "69003",
            "budget_cents": 300_000,
            "wished_start": self.clock.today(30),
        }
        return {**body, **changes}

    def publish(self, client: Person, **changes: Any) -> dict[str, Any]:
        response = self.post(client, "/api/v1/missions", self.mission_body(**changes))
        assert response.status_code == 201, response.text
        return response.json()

    def proposal_body(
        self, amounts: tuple[int, ...] = (45_000, 120_000, 85_000), **changes: Any
    ) -> dict[str, Any]:
        body = {
            "amount_cents": sum(amounts),
            "message": "Je peux commencer dans deux semaines.",
            "payment_mode": "secure",
            "tasks": [
                {
                    "title": f"Étape {i + 1}",
                    "amount_cents": amount,
                    "due_date": self.clock.today(14 * (i + 1)),
                }
                for i, amount in enumerate(amounts)
            ],
        }
        return {**body, **changes}

    def propose_raw(self, pro: Person, mission_id: str, **changes: Any) -> httpx.Response:
        return self.post(pro, f"/api/v1/missions/{mission_id}/proposals", self.proposal_body(**changes))

    def propose(self, pro: Person, mission_id: str, **changes: Any) -> dict[str, Any]:
        response = self.propose_raw(pro, mission_id, **changes)
        assert response.status_code == 201, response.text
        return response.json()

    def accept(self, client: Person, proposal_id: str) -> dict[str, Any]:
        response = self.post(client, f"/api/v1/proposals/{proposal_id}/accept")
        assert response.status_code == 200, response.text
        return response.json()

    def contracted(self, payment_mode: str = "direct", amounts: tuple[int, ...] = (100_000, 50_000)):
        """A client, a pro and a mission contracted between them (in progress for direct)."""
        client, pro = self.client(), self.pro()
        if payment_mode == "direct":
            self.give_plan(pro, "pro")
        mission = self.publish(client)
        proposal = self.propose(pro, mission["id"], payment_mode=payment_mode, amounts=amounts)
        contracted = self.accept(client, proposal["id"])
        return client, pro, contracted

    def tasks(self, who: Person, mission_id: str) -> list[dict[str, Any]]:
        response = self.get(who, f"/api/v1/missions/{mission_id}/tasks")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def task_command(self, who: Person, mission_id: str, task_id: str, command: str, **body: Any):
        return self.post(who, f"/api/v1/missions/{mission_id}/tasks/{task_id}/{command}", body or None)

    def give_plan(self, pro: Person, plan: str) -> None:
        """Play subscriptions' event through the handler, as the worker would."""
        paid = plan != "free"
        message = with_data(
            example("SubscriptionActivated"),
            pro_id=pro.user_id,
            plan=plan,
            features=["direct_payment", "appointments", "unlimited_proposals"] if paid else [],
            proposals_per_month=None if paid else 5,
            period_end="2027-03-01T00:00:00Z" if paid else None,
            period_start="2026-03-01T00:00:00Z",
            effective_at=self.clock().isoformat().replace("+00:00", "Z"),
        )
        message["id"] = str(uuid.uuid4())
        event = parse_event(wire(message))
        with self.services.database.session() as session:
            with self.services.joined_uow(session) as uow:
                HANDLERS[event.type](event, uow)
            session.commit()

    def events(self, mission_id: str | None = None) -> list[Event]:
        found = outbox_events(self.services.database)
        if mission_id is None:
            return found
        return [e for e in found if e.data.get("mission_id") == mission_id]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert response.headers["content-type"].startswith("application/problem+json")
    return body


def fields_of(response: httpx.Response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def feed(services: Services, type_: str, **data: Any) -> Event:
    """Hand another service's event (its contract example, with ``data`` changes) to our handler, in a
    batch transaction like the worker's: the consumer side of the contract test."""
    message = with_data(example(type_), **data)
    message["id"] = str(uuid.uuid4())
    event = parse_event(wire(message))
    with services.database.session() as session:
        with services.joined_uow(session) as uow:
            HANDLERS[event.type](event, uow)
        session.commit()
    return event
