"""What trust-safety does with other services' events (consumer contract tests fed with the examples):
the mission projection, order-proof, and the incident a card dispute opens."""

from __future__ import annotations

from trust_safety_helpers import Api, assert_problem

from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example
from clikopro_trust_safety.service_layer.handlers import HANDLERS


def test_every_handled_event_is_a_known_contract_with_an_example() -> None:
    for type_ in HANDLERS:
        assert example(type_)["type"] == type_


def test_a_card_dispute_opens_a_system_incident_once(api: Api) -> None:
    mission = api.contracted()
    dispute = {
        "mission_id": mission.id, "client_id": mission.client.user_id, "pro_id": mission.pro.user_id,
        "dispute_id": "dp_1Abc", "disputed_at": "2026-03-10T09:00:00Z",
    }  # fmt: skip
    api.feed("PaymentDisputed", **dispute)
    api.feed("PaymentDisputed", **dispute)  # Stripe's or the bus's second copy
    (event,) = api.events("IncidentOpened")
    assert_like_example(event)
    assert event.data["opened_by"] is None and event.data["opened_by_role"] == "system"
    assert event.data["category"] == "payment" and event.data["dispute_id"] == "dp_1Abc"
    assert event.data["task_ids"] == []
    (incident,) = api.get(mission.client, "/api/v1/incidents", params={"mission_id": mission.id}).json()[
        "items"
    ]
    assert incident["opened_by"] is None and incident["dispute_id"] == "dp_1Abc"
    # Either party answers the platform's incident.
    api.say(mission.pro, incident["id"], "Le chantier a bien été fait, voici les photos.")
    assert api.get(mission.client, f"/api/v1/incidents/{incident['id']}").json()["answered_at"] is not None
    queue = api.get(api.moderator(), "/api/v1/moderation/incidents").json()["items"]
    assert [i["id"] for i in queue] == [incident["id"]]


def test_the_projection_does_not_depend_on_the_order_of_events(api: Api) -> None:
    """A release and the payment arriving before the contract still count once it arrives."""
    mission_id, client, pro = "4a8c2e6f-1b3d-4f5a-9c7e-2d4f6a8b0c1e", api.client(), api.pro()
    task_a, task_b = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    api.feed("FundsReleased", mission_id=mission_id, task_id=task_a, pro_id=pro.user_id)
    api.feed("PaymentSecured", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id)
    api.feed("TaskValidated", mission_id=mission_id, task_id=task_a, validated_at="2026-03-09T10:00:00Z")
    assert_problem(
        api.post(
            client, "/api/v1/incidents", {"mission_id": mission_id, "category": "late", "description": "x"}
        ),
        404,
        "not_found",
    )
    api.feed(
        "ProposalAccepted", mission_id=mission_id, client_id=client.user_id, pro_id=pro.user_id,
        payment_mode="secure", amount_cents=30_000,
        tasks=[
            {"task_id": task_a, "title": "A", "amount_cents": 10_000, "due_date": "2026-04-01",
             "position": 1},
            {"task_id": task_b, "title": "B", "amount_cents": 20_000, "due_date": "2026-04-02",
             "position": 2},
        ],
    )  # fmt: skip
    # An older event does not move a task back.
    api.feed("TaskSubmitted", mission_id=mission_id, task_id=task_a, submitted_at="2026-03-08T10:00:00Z")
    response = api.post(
        client,
        "/api/v1/incidents",
        {"mission_id": mission_id, "category": "late", "description": "En retard."},
    )
    assert response.status_code == 201, response.text
    too_much = api.resolve_raw(
        api.moderator(), response.json()["id"], outcome="partial_refund", amount_cents=20_001
    )
    assert too_much.json()["held_cents"] == 20_000  # only B is held: A was released


def test_a_completed_mission_still_takes_incidents_a_cancelled_one_does_not(api: Api) -> None:
    done = api.contracted()
    api.feed("MissionCompleted", mission_id=done.id, client_id=done.client.user_id, pro_id=done.pro.user_id)
    assert api.open(done.client, done)["status"] == "open"
    # A late copy of the contract does not reopen a finished mission.
    cancelled = api.contracted()
    api.feed(
        "MissionCancelled", mission_id=cancelled.id, client_id=cancelled.client.user_id,
        pro_id=cancelled.pro.user_id, payment_mode="secure",
    )  # fmt: skip
    assert_problem(api.open_raw(cancelled.client, cancelled), 409, "conflict")
