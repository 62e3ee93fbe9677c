"""Anti-circumvention through the gateway, on PostgreSQL and RabbitMQ (issue 12, parts 1 and 2).

A client and a pro sign up at identity (whose UserRegistered gives missions their contact details); the
pro's proposal message spells a phone number and an e-mail address out in words: the client reads it
masked, with no digit run and no address left, and ProposalSubmitted says what was masked without
carrying it. Before the payment is secured nobody sees the other's contact details; once it is, each
party sees the other's and the intervention address — a third user still sees nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import pytest

from clikopro_chassis.testing.queues import publish_raw
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, with_data

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secure_story import Story

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MESSAGE = "Appelez-moi au zéro six douze 34 56 78 ou paul arobase gmail point com"


@pytest.mark.parametrize("platform", ["rabbitmq-postgres"], indirect=True)
def test_a_disguised_phone_and_email_reach_the_client_masked_and_contact_opens_with_the_payment(
    platform,
) -> None:
    story = Story(platform.gateway_url, platform.stripe_url, say=lambda _line: None, timeout=30)
    client_id, client = story.sign_up("client", "Claire", "Durand")
    pro_id, pro = story.sign_up("pro", "Paul", "Martin")
    _, stranger = story.sign_up("client", "Hugo", "Bernard")

    mission = story.call(
        "POST", "/api/v1/missions", client, expect=201,
        json={"title": "Douche à l'italienne", "description": "Écrivez-moi sur claire.d@gmail.com",
              "trade": "plomberie", "postcode": "75011", "budget_cents": 250_000,
              "address": {"street": "12 rue des Lilas", "city": "Paris", "details": "3e étage"}},
    )  # fmt: skip
    mission_id = mission["id"]
    assert mission["description"] == "Écrivez-moi sur •••"

    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    proposal = story.call(
        "POST", f"/api/v1/missions/{mission_id}/proposals", pro, expect=201,
        json={"amount_cents": 150_000, "message": MESSAGE, "payment_mode": "secure",
              "tasks": [{"title": "Tout le chantier", "amount_cents": 150_000, "due_date": due}]},
    )  # fmt: skip
    [shown] = story.call("GET", f"/api/v1/missions/{mission_id}/proposals", client)["items"]
    assert shown["message"] == "Appelez-moi au ••• ou •••"
    assert not re.search(r"\d", shown["message"])
    assert not any(s in shown["message"] for s in ("@", "arobase", "gmail", "zéro", "douze"))

    def missions_events() -> list:
        events = [parse_event(m["body"]) for m in platform.tapped()]
        return [e for e in events if e.producer == "missions" and e.data.get("mission_id") == mission_id]

    seen: list = []

    def submitted():
        seen.extend(missions_events())
        return [e for e in seen if e.type == "ProposalSubmitted"]

    [event] = wait_until(submitted, timeout=20, message="ProposalSubmitted on the bus")
    assert_like_example(event)
    assert (event.version, event.data["masked_contacts"]) == (2, ["phone", "email"])
    [published] = [e for e in seen if e.type == "MissionPublished"]
    assert published.data["masked_contacts"] == ["email"]
    assert "gmail" not in json.dumps([e.data for e in seen])

    def view(token: str) -> dict:
        return story.call("GET", f"/api/v1/missions/{mission_id}", token)

    accepted = story.call("POST", f"/api/v1/proposals/{proposal['id']}/accept", client)
    assert accepted["status"] == "awaiting_payment"
    for token in (client, pro):
        assert "counterpart_contact" not in view(token) and "intervention_address" not in view(token)

    # payments publishes this once Stripe confirms the card; here the test does, on the platform's bus.
    env = platform.service_env("missions")
    publish_raw(
        env["BROKER_URL"], env["BUS_PREFIX"],
        with_data(example("PaymentSecured"), mission_id=mission_id, client_id=client_id, pro_id=pro_id,
                  amount_cents=150_000, commission_cents=7_500),
    )  # fmt: skip
    wait_until(lambda: view(client)["status"] == "in_progress", timeout=20, message="PaymentSecured handled")

    seen_by_client, seen_by_pro = view(client), view(pro)
    assert seen_by_client["counterpart_contact"]["user_id"] == pro_id
    assert (
        seen_by_client["counterpart_contact"]["first_name"],
        seen_by_client["counterpart_contact"]["last_name"],
    ) == ("Paul", "Martin")
    assert seen_by_client["counterpart_contact"]["email"].startswith("paul.")
    assert seen_by_client["counterpart_contact"]["phone"] == "+33612345678"
    assert seen_by_pro["counterpart_contact"]["user_id"] == client_id
    assert seen_by_pro["counterpart_contact"]["email"].startswith("claire.")
    assert seen_by_pro["intervention_address"] == {
        "street": "12 rue des Lilas",
        "postcode": "75011",
        "city": "Paris",
        "details": "3e étage",
    }
    story.call("GET", f"/api/v1/missions/{mission_id}", stranger, expect=404)
