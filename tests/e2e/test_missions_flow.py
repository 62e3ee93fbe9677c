"""A mission's whole life through the gateway, on the platform ``make run`` starts.

A client publishes, two pros propose, the client accepts one (the other is rejected), the payment
is confirmed by a ``PaymentSecured`` put on the bus as payments would, the pro attaches an invoice
and submits the tasks, the client validates them: ``MissionCompleted``. Every event the missions
service published is checked against its contract, in order. Access tokens are minted by a test
issuer whose JWKS every process is pointed at (the tests do not depend on identity's login).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest

from clikopro_chassis.testing.queues import publish_raw
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, with_data

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def issuer(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TokenFactory]:
    """Requested before ``platform``: its processes inherit JWKS_URL."""
    factory = TokenFactory(tmp_path_factory.mktemp("e2e-jwks"))
    monkeypatch.setenv("JWKS_URL", factory.jwks_url)
    yield factory
    factory.close()


def test_a_mission_from_publication_to_completion_through_the_gateway(issuer: TokenFactory, platform) -> None:
    gateway = httpx.Client(base_url=platform.gateway_url, timeout=15)
    client_id, pro_id, rival_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def auth(user_id: uuid.UUID, role: str) -> dict[str, str]:
        return issuer.headers(user_id, role)

    client, pro, rival = auth(client_id, "client"), auth(pro_id, "pro"), auth(rival_id, "pro")
    today = dt.date.today()
    published = gateway.post(
        "/api/v1/missions",
        headers={**client, "X-Request-Id": "e2e-mission-1"},
        json={"title": "Peinture du salon", "description": "35 m², deux couches.", "trade": "peinture",
              "postcode": "13001", "budget_cents": 150_000},
    )  # fmt: skip
    assert published.status_code == 201, published.text
    mission_id = published.json()["id"]
    browsed = gateway.get("/api/v1/missions", params={"trade": "peinture", "department": "13"}, headers=pro)
    assert [m["id"] for m in browsed.json()["items"]] == [mission_id]

    def proposal(amounts: list[int]) -> dict:
        due = str(today + dt.timedelta(days=7))
        return {
            "amount_cents": sum(amounts),
            "message": "Disponible la semaine prochaine.",
            "payment_mode": "secure",
            "tasks": [
                {"title": f"Couche {i + 1}", "amount_cents": a, "due_date": due}
                for i, a in enumerate(amounts)
            ],
        }

    ours = gateway.post(
        f"/api/v1/missions/{mission_id}/proposals", headers=pro, json=proposal([90_000, 40_000])
    )
    assert ours.status_code == 201, ours.text
    theirs = gateway.post(f"/api/v1/missions/{mission_id}/proposals", headers=rival, json=proposal([140_000]))
    assert theirs.status_code == 201, theirs.text
    accepted = gateway.post(f"/api/v1/proposals/{ours.json()['id']}/accept", headers=client)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "awaiting_payment"

    # payments would publish this once Stripe confirms; here the test does, on the platform's bus.
    broker_url = platform.service_env("missions")["BROKER_URL"]
    prefix = platform.service_env("missions")["BUS_PREFIX"]
    message = with_data(
        example("PaymentSecured"), mission_id=mission_id, client_id=str(client_id), pro_id=str(pro_id),
        amount_cents=130_000, commission_cents=6_500,
    )  # fmt: skip
    publish_raw(broker_url, prefix, message)

    def status() -> str:
        return gateway.get(f"/api/v1/missions/{mission_id}", headers=client).json()["status"]

    wait_until(lambda: status() == "in_progress", timeout=20, message="PaymentSecured handled")

    invoice = gateway.post(
        f"/api/v1/missions/{mission_id}/invoices",
        headers=pro,
        files={"file": ("f.pdf", PDF, "application/pdf")},
    )
    assert invoice.status_code == 201, invoice.text
    assert gateway.get(invoice.json()["download_path"], headers=client).content == PDF

    tasks = gateway.get(f"/api/v1/missions/{mission_id}/tasks", headers=pro).json()["items"]
    for task in tasks:
        path = f"/api/v1/missions/{mission_id}/tasks/{task['id']}"
        assert gateway.post(f"{path}/submit", headers=pro).status_code == 200
        refused = gateway.post(f"{path}/validate", headers=pro)
        assert refused.status_code == 403, refused.text  # the pro cannot
        assert gateway.post(f"{path}/validate", headers=client).status_code == 200
    assert status() == "completed"

    seen: list = []

    def completed() -> list | None:
        from clikopro_contracts import parse_event

        seen.extend(parse_event(m["body"]) for m in platform.tapped())
        ours = [e for e in seen if e.producer == "missions" and e.data.get("mission_id") == mission_id]
        return ours if any(e.type == "MissionCompleted" for e in ours) else None

    events = wait_until(completed, timeout=20, message="the missions events on the bus")
    expected = [
        "MissionPublished", "ProposalSubmitted", "ProposalSubmitted", "ProposalAccepted", "ProposalRejected",
        "TaskSubmitted", "TaskValidated", "TaskSubmitted", "TaskValidated", "MissionCompleted",
    ]  # fmt: skip
    if broker_url.startswith("amqp"):
        assert [e.type for e in events] == expected  # the outbox relays in commit order
    else:
        # kombu's filesystem transport orders messages by millisecond, then at random.
        assert sorted(e.type for e in events) == sorted(expected)
    for event in events:
        assert_like_example(event)
    [published_event] = [e for e in events if e.type == "MissionPublished"]
    assert published_event.correlation_id == "e2e-mission-1"
    [rejected] = [e for e in events if e.type == "ProposalRejected"]
    assert rejected.data["pro_id"] == str(rival_id)
    gateway.close()
