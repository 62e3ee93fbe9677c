"""Helpers of the trust-safety tests: a movable clock, people with tokens, the service over HTTP, and
missions' and payments' events fed to the handlers as the worker would."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clikopro_chassis.testing.services import outbox_events
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_contracts import Event, format_time, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import wire, with_data
from clikopro_trust_safety.bootstrap import Services, bootstrap
from clikopro_trust_safety.service_layer.handlers import HANDLERS
from clikopro_trust_safety.settings import TrustSafetySettings

#: A Tuesday in March 2026, 10:00 in Paris (09:00 UTC).
START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime = START) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


def make_services(url: str, tmp_path: Path, issuer: TokenFactory, clock: Clock, **env: str) -> Services:
    settings = TrustSafetySettings.from_env(
        "trust-safety",
        {
            "DATABASE_URL": url,
            "BROKER_URL": "memory://",
            "DATA_DIR": str(tmp_path),
            "JWKS_URL": issuer.jwks_url,
            "INCIDENT_ATTACHMENT_MAX_BYTES": "20000",
            **env,
        },
    )
    services = bootstrap(settings)
    services.now = clock
    return services


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@dataclass
class Person:
    role: str
    headers: dict[str, str]
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def user_id(self) -> str:
        return str(self.id)


@dataclass
class Mission:
    id: str
    client: Person
    pro: Person
    task_ids: list[str]
    amounts: tuple[int, ...]


class Api:
    """The service over real HTTP, and the moves the tests make often."""

    def __init__(self, http: httpx.Client, issuer: TokenFactory, services: Services, clock: Clock) -> None:
        self.http = http
        self.issuer = issuer
        self.services = services
        self.clock = clock

    def person(self, role: str) -> Person:
        user_id = uuid.uuid4()
        token = self.issuer.token(user_id, role, expires_in=3600)
        return Person(role, {"Authorization": f"Bearer {token}"}, user_id)

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

    # -- missions' and payments' facts, as their events bring them

    def feed(self, type_: str, **data: Any) -> Event:
        return feed(self.services, type_, **data)

    def contracted(
        self,
        amounts: tuple[int, ...] = (100_000, 100_000),
        payment_mode: str = "secure",
        secured: bool = True,
    ) -> Mission:
        client, pro = self.client(), self.pro()
        mission_id = str(uuid.uuid4())
        task_ids = [str(uuid.uuid4()) for _ in amounts]
        self.feed(
            "ProposalAccepted",
            mission_id=mission_id,
            proposal_id=str(uuid.uuid4()),
            client_id=client.user_id,
            pro_id=pro.user_id,
            payment_mode=payment_mode,
            amount_cents=sum(amounts),
            tasks=[
                {
                    "task_id": task_id,
                    "title": f"Étape {i + 1}",
                    "amount_cents": amount,
                    "due_date": "2026-04-01",
                    "position": i + 1,
                }
                for i, (task_id, amount) in enumerate(zip(task_ids, amounts, strict=True))
            ],
            accepted_at=format_time(self.clock()),
        )
        if secured and payment_mode == "secure":
            self.feed(
                "PaymentSecured",
                mission_id=mission_id,
                client_id=client.user_id,
                pro_id=pro.user_id,
                amount_cents=sum(amounts),
                secured_at=format_time(self.clock()),
            )
        return Mission(mission_id, client, pro, task_ids, amounts)

    def released(self, mission: Mission, index: int) -> None:
        amount = mission.amounts[index]
        self.feed(
            "FundsReleased",
            mission_id=mission.id,
            task_id=mission.task_ids[index],
            pro_id=mission.pro.user_id,
            amount_cents=amount,
            commission_cents=amount // 10,
            net_cents=amount - amount // 10,
        )

    # -- incidents

    def open_raw(
        self, who: Person, mission: Mission | str, headers: dict[str, str] | None = None, **changes: Any
    ) -> httpx.Response:
        mission_id = mission if isinstance(mission, str) else mission.id
        body = {
            "mission_id": mission_id,
            "category": "poor_quality",
            "description": "Travail mal fait.",
            **changes,
        }
        return self.post(who, "/api/v1/incidents", body, headers=headers or {})

    def open(self, who: Person, mission: Mission, **changes: Any) -> dict[str, Any]:
        response = self.open_raw(who, mission, **changes)
        assert response.status_code == 201, response.text
        return response.json()

    def say(self, who: Person, incident_id: str, body: str = "Voici ma réponse.") -> dict[str, Any]:
        response = self.post(who, f"/api/v1/incidents/{incident_id}/messages", {"body": body})
        assert response.status_code == 201, response.text
        return response.json()

    def resolve_raw(self, who: Person, incident_id: str, **body: Any) -> httpx.Response:
        body.setdefault("reason", "Les photos montrent des finitions non conformes au devis.")
        return self.post(who, f"/api/v1/moderation/incidents/{incident_id}/resolve", body)

    def resolve(self, who: Person, incident_id: str, **body: Any) -> dict[str, Any]:
        response = self.resolve_raw(who, incident_id, **body)
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, type_: str | None = None) -> list[Event]:
        return outbox_events(self.services.database, type_)


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
