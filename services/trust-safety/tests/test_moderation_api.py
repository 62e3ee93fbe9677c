"""Moderation of incidents: the queue, the decisions and their limits, the notice both parties read,
the audit log, and the refusal of clients and professionals on every moderation route."""

from __future__ import annotations

import uuid

import pytest
from trust_safety_helpers import Api, assert_problem, fields_of

from clikopro_contracts.testing import assert_like_example

MODERATION_ROUTES = [
    ("GET", "/api/v1/moderation/incidents"),
    ("GET", "/api/v1/moderation/incidents?status=resolved"),
    ("POST", "/api/v1/moderation/incidents/{id}/resolve"),
    ("GET", "/api/v1/moderation/incidents/{id}/audit"),
]


@pytest.mark.parametrize(("method", "path"), MODERATION_ROUTES)
@pytest.mark.parametrize("role", ["client", "pro"])
def test_clients_and_pros_get_403_on_every_moderation_route(
    api: Api, method: str, path: str, role: str
) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    # Even the incident's own parties, who may read it, may not moderate it.
    who = {"client": mission.client, "pro": mission.pro}[role]
    url = path.format(id=incident["id"])
    body = {"outcome": "refund", "reason": "Je décide moi-même."}
    response = api.get(who, url) if method == "GET" else api.post(who, url, body)
    assert_problem(response, 403, "forbidden")
    assert api.get(mission.client, f"/api/v1/incidents/{incident['id']}").json()["status"] == "open"
    assert api.events("IncidentResolved") == []


def test_the_queue_lists_open_incidents_oldest_first_with_the_overdue_flag(api: Api) -> None:
    moderator = api.moderator()
    mission = api.contracted()
    first = api.open(mission.client, mission)
    api.clock.advance(days=2)
    second = api.open(mission.pro, mission)
    api.clock.advance(days=1)
    third = api.open(mission.client, mission)
    api.say(mission.client, second["id"], "Je conteste.")  # the client answers the pro's incident
    api.resolve(moderator, third["id"], outcome="dismiss")
    queue = api.get(moderator, "/api/v1/moderation/incidents", params={"status": "open"}).json()["items"]
    assert [(i["id"], i["answer_overdue"]) for i in queue] == [(first["id"], False), (second["id"], False)]
    api.clock.advance(days=4, seconds=1)  # the first one is 7 days old and still unanswered
    queue = api.get(moderator, "/api/v1/moderation/incidents").json()["items"]
    assert [(i["id"], i["answer_overdue"]) for i in queue] == [(first["id"], True), (second["id"], False)]
    # The flag is a flag: nothing was decided by itself.
    assert api.get(mission.client, f"/api/v1/incidents/{first['id']}").json()["status"] == "open"
    resolved = api.get(api.person("admin"), "/api/v1/moderation/incidents?status=resolved").json()["items"]
    assert [i["id"] for i in resolved] == [third["id"]]
    page = api.get(moderator, "/api/v1/moderation/incidents", params={"limit": 1}).json()
    assert [i["id"] for i in page["items"]] == [first["id"]]
    rest = api.get(
        moderator, "/api/v1/moderation/incidents", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert [i["id"] for i in rest.json()["items"]] == [second["id"]]


def test_a_partial_refund_of_30_percent_of_the_second_task_both_parties_read_it(api: Api) -> None:
    mission = api.contracted(amounts=(100_000, 80_000))
    api.released(mission, 0)
    incident = api.open(mission.client, mission, task_ids=[mission.task_ids[1]])
    api.say(mission.pro, incident["id"], "Les finitions seront reprises.")
    moderator = api.moderator()
    resolved = api.resolve(
        moderator, incident["id"], outcome="partial_refund", amount_cents=24_000,
        reason="Finitions incomplètes : 30 % de l'étape 2 remboursés.",
    )  # fmt: skip
    assert resolved["status"] == "resolved" and resolved["outcome"] == "partial_refund"
    assert resolved["amount_cents"] == 24_000
    for party in (mission.client, mission.pro):
        seen = api.get(party, f"/api/v1/incidents/{incident['id']}").json()
        resolution = seen["resolution"]
        assert resolution["reason"] == "Finitions incomplètes : 30 % de l'étape 2 remboursés."
        assert resolution["task_ids"] == [mission.task_ids[1]]
        assert "L612-1" in resolution["notice"] and "240,00 €" in resolution["notice"]
        assert api.services.settings.consumer_mediator_name in resolution["notice"]
        assert api.services.settings.consumer_mediator_url in resolution["notice"]
        assert "tribunal" in resolution["notice"]
        assert resolution["mediator"]["url"] == api.services.settings.consumer_mediator_url
    (event,) = api.events("IncidentResolved")
    assert event.version == 2
    assert_like_example(event)
    assert event.data["task_ids"] == [mission.task_ids[1]]
    assert event.data["refund_amount_cents"] == 24_000 and event.data["moderator_id"] == moderator.user_id
    audit = api.get(moderator, f"/api/v1/moderation/incidents/{incident['id']}/audit").json()["items"]
    assert [a["action"] for a in audit] == ["incident.open", "incident.message", "incident.resolve"]
    decision = audit[-1]
    assert decision["actor_id"] == moderator.user_id and decision["actor_role"] == "moderator"
    assert decision["reason"].startswith("Finitions incomplètes")
    assert decision["details"]["outcome"] == "partial_refund" and decision["details"]["held_cents"] == 80_000
    assert decision["at"]


def test_a_partial_refund_is_more_than_zero_and_at_most_what_is_held_for_the_scope(api: Api) -> None:
    mission = api.contracted(amounts=(100_000, 80_000))
    api.released(mission, 0)
    moderator = api.moderator()
    incident = api.open(mission.client, mission)  # no tasks named: every task not yet released
    response = api.resolve_raw(moderator, incident["id"], outcome="partial_refund", amount_cents=80_001)
    assert_problem(response, 422, "validation_error")
    assert response.json()["held_cents"] == 80_000
    assert_problem(
        api.resolve_raw(moderator, incident["id"], outcome="partial_refund"), 422, "validation_error"
    )
    assert_problem(
        api.resolve_raw(moderator, incident["id"], outcome="partial_refund", amount_cents=0),
        400,
        "validation_error",
    )
    response = api.resolve_raw(moderator, incident["id"], outcome="release", amount_cents=5)
    assert_problem(response, 422, "validation_error")
    assert fields_of(response) == {"amount_cents"}
    response = api.resolve_raw(moderator, incident["id"], outcome="refund", reason="   ")
    assert_problem(response, 422, "validation_error")
    response = api.resolve_raw(moderator, incident["id"], outcome="refund", task_ids=[str(uuid.uuid4())])
    assert_problem(response, 422, "validation_error")
    assert_problem(api.resolve_raw(moderator, incident["id"], outcome="whatever"), 400, "validation_error")
    assert_problem(api.resolve_raw(moderator, str(uuid.uuid4()), outcome="dismiss"), 404, "not_found")
    # The released task holds nothing: naming it leaves nothing to refund.
    response = api.resolve_raw(
        moderator, incident["id"], outcome="partial_refund", amount_cents=1, task_ids=[mission.task_ids[0]]
    )
    assert_problem(response, 422, "validation_error")
    assert api.events("IncidentResolved") == []
    api.resolve(moderator, incident["id"], outcome="partial_refund", amount_cents=80_000)
    assert_problem(api.resolve_raw(moderator, incident["id"], outcome="dismiss"), 409, "conflict")


def test_nothing_is_held_on_paiement_direct_or_before_the_payment(api: Api) -> None:
    moderator = api.moderator()
    for mission in (api.contracted(payment_mode="direct"), api.contracted(secured=False)):
        incident = api.open(mission.client, mission)
        response = api.resolve_raw(moderator, incident["id"], outcome="partial_refund", amount_cents=100)
        assert_problem(response, 422, "validation_error")
        assert response.json()["held_cents"] == 0
        api.resolve(moderator, incident["id"], outcome="dismiss")


def test_successive_and_overlapping_incidents_are_measured_against_what_is_left(api: Api) -> None:
    """Tasks 100 + 100, A released; a first incident refunds 30 from B; a second one can refund at most
    the 70 left of B; a refund of B then leaves nothing for a third."""
    mission = api.contracted(amounts=(10_000, 10_000))
    api.released(mission, 0)
    moderator = api.moderator()
    first = api.open(mission.client, mission, task_ids=[mission.task_ids[1]])
    second = api.open(mission.pro, mission)  # overlapping: open at the same time
    api.resolve(moderator, first["id"], outcome="partial_refund", amount_cents=3_000)
    too_much = api.resolve_raw(moderator, second["id"], outcome="partial_refund", amount_cents=7_001)
    assert too_much.json()["held_cents"] == 7_000
    api.resolve(moderator, second["id"], outcome="refund")
    third = api.open(mission.client, mission, task_ids=[mission.task_ids[1]])
    assert (
        api.resolve_raw(moderator, third["id"], outcome="partial_refund", amount_cents=1).json()["held_cents"]
        == 0
    )
    events = api.events("IncidentResolved")
    assert [(e.data["outcome"], e.data["task_ids"]) for e in events] == [
        ("partial_refund", [mission.task_ids[1]]),
        ("refund", []),
    ]


def test_a_partial_refund_is_taken_from_the_last_task_first(api: Api) -> None:
    mission = api.contracted(amounts=(5_000, 5_000, 5_000))
    moderator = api.moderator()
    incident = api.open(mission.client, mission)
    api.resolve(
        moderator, incident["id"], outcome="partial_refund", amount_cents=7_000
    )  # 5 000 from C, 2 000 from B
    only_a = api.open(mission.client, mission, task_ids=[mission.task_ids[0]])
    assert (
        api.resolve_raw(moderator, only_a["id"], outcome="partial_refund", amount_cents=5_001).json()[
            "held_cents"
        ]
        == 5_000
    )
    only_b = api.open(mission.client, mission, task_ids=[mission.task_ids[1]])
    assert (
        api.resolve_raw(moderator, only_b["id"], outcome="partial_refund", amount_cents=9_999).json()[
            "held_cents"
        ]
        == 3_000
    )
