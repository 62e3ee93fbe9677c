"""Publishing, browsing and cancelling missions through HTTP (R5), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from missions_helpers import Api, assert_problem, fields_of

from clikopro_contracts.testing import assert_like_example


def test_a_client_publishes_a_mission_and_missionpublished_is_written_with_it(api: Api) -> None:
    client = api.client()
    response = api.post(client, "/api/v1/missions", api.mission_body(postcode="20167"))
    assert response.status_code == 201, response.text
    mission = response.json()
    assert mission["status"] == "published" and mission["client_id"] == client.user_id
    assert mission["department"] == "2A" and mission["currency"] == "EUR"
    assert response.headers["location"] == f"/api/v1/missions/{mission['id']}"

    [event] = api.events()
    assert_like_example(event)
    assert event.type == "MissionPublished" and event.data["mission_id"] == mission["id"]
    assert event.version == 2 and event.data["masked_contacts"] == []  # nothing to mask in this one
    assert event.data["published_at"] == mission["published_at"] == "2026-03-10T09:00:00Z"
    assert event.correlation_id == response.headers["x-request-id"]


def test_only_a_client_publishes(api: Api) -> None:
    for who in (api.pro(), api.moderator()):
        assert_problem(api.post(who, "/api/v1/missions", api.mission_body()), 403, "forbidden")
    assert_problem(api.http.post("/api/v1/missions", json=api.mission_body()), 401, "unauthenticated")
    assert api.events() == []


def test_invalid_missions_are_refused_with_field_errors(api: Api) -> None:
    client = api.client()
    shape = api.post(
        client, "/api/v1/missions", api.mission_body(postcode="Lyon", budget_cents=-1, trade="Plomb!")
    )
    assert_problem(shape, 400, "validation_error")
    assert fields_of(shape) == {"postcode", "budget_cents", "trade"}

    rules = api.post(client, "/api/v1/missions", api.mission_body(postcode="00100", wished_start="2026-03-09",
                                                                  title="   "))  # fmt: skip
    assert_problem(rules, 422, "validation_error")
    assert fields_of(rules) == {"postcode", "wished_start", "title"}
    assert api.events() == []


def test_pros_browse_published_missions_newest_first_with_filters_and_keyset_pages(api: Api) -> None:
    clients = [api.client(), api.client()]
    published = []
    for i, (trade, postcode) in enumerate(
        [("plomberie", "69003"), ("electricite", "69007"), ("plomberie", "75011"), ("plomberie", "69001"),
         ("plomberie", "20200"), ("plomberie", "97400")]
    ):  # fmt: skip
        api.clock.advance(minutes=1)
        published.append(api.publish(clients[i % 2], trade=trade, postcode=postcode))
    pro = api.pro()

    def ids(**params) -> list[str]:
        response = api.get(pro, "/api/v1/missions", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    newest_first = [m["id"] for m in reversed(published)]
    assert ids() == newest_first
    assert ids(trade="plomberie") == [newest_first[i] for i in (0, 1, 2, 3, 5)]
    assert ids(department="69") == [published[3]["id"], published[1]["id"], published[0]["id"]]
    assert ids(trade="plomberie", department="69") == [published[3]["id"], published[0]["id"]]
    assert ids(postcode="75011") == [published[2]["id"]]
    assert ids(department="2B") == [published[4]["id"]]
    assert ids(department="974") == [published[5]["id"]]
    assert ids(status="published", trade="electricite") == [published[1]["id"]]

    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = api.get(pro, "/api/v1/missions", params=params).json()
        seen += [m["id"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first

    assert_problem(api.get(pro, "/api/v1/missions", params={"cursor": "garbage"}), 422, "validation_error")
    assert_problem(api.get(pro, "/api/v1/missions", params={"limit": 101}), 400, "validation_error")
    assert_problem(api.get(pro, "/api/v1/missions", params={"status": "completed"}), 422, "validation_error")


def test_missions_published_at_the_same_instant_are_paged_without_loss(api: Api) -> None:
    client, pro = api.client(), api.pro()
    made = {api.publish(client)["id"] for _ in range(7)}  # the clock does not move: one published_at
    seen, cursor = [], None
    for _ in range(10):
        body = api.get(
            pro, "/api/v1/missions", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [m["id"] for m in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert sorted(seen) == sorted(made) and len(seen) == 7


def test_a_client_sees_and_manages_only_their_own_missions(api: Api) -> None:
    alice, bob = api.client(), api.client()
    mine = api.publish(alice)
    theirs = api.publish(bob)
    listed = api.get(alice, "/api/v1/missions").json()["items"]
    assert [m["id"] for m in listed] == [mine["id"]]
    assert api.get(alice, f"/api/v1/missions/{mine['id']}").status_code == 200
    assert_problem(api.get(alice, f"/api/v1/missions/{theirs['id']}"), 404, "not_found")
    assert_problem(api.post(alice, f"/api/v1/missions/{theirs['id']}/cancel"), 403, "forbidden")
    assert_problem(api.get(alice, f"/api/v1/missions/{uuid.uuid4()}"), 404, "not_found")
    # Staff see everything.
    staff = api.moderator()
    assert {m["id"] for m in api.get(staff, "/api/v1/missions").json()["items"]} == {mine["id"], theirs["id"]}


def test_a_client_cancels_a_published_mission_and_its_proposals_are_rejected(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    proposal = api.propose(pro, mission["id"])
    assert_problem(api.post(pro, f"/api/v1/missions/{mission['id']}/cancel"), 403, "forbidden")

    response = api.post(client, f"/api/v1/missions/{mission['id']}/cancel", {"reason": "Travaux reportés."})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert api.get(pro, f"/api/v1/proposals/{proposal['id']}").json()["status"] == "rejected"
    assert api.get(pro, "/api/v1/missions").json()["items"] == []  # no longer browsable

    events = api.events(mission["id"])
    assert [e.type for e in events] == [
        "MissionPublished",
        "ProposalSubmitted",
        "MissionCancelled",
        "ProposalRejected",
    ]
    cancelled, rejected = events[2], events[3]
    for event in (cancelled, rejected):
        assert_like_example(event)
    assert cancelled.data["previous_status"] == "published" and cancelled.data["cancelled_by"] == "client"
    assert cancelled.data["pro_id"] is None and cancelled.data["reason"] == "Travaux reportés."
    assert rejected.data["reason"] == "mission_cancelled" and rejected.data["pro_id"] == pro.user_id

    assert_problem(api.post(client, f"/api/v1/missions/{mission['id']}/cancel"), 409, "conflict")


def test_after_the_contract_only_staff_cancel_a_mission(api: Api) -> None:
    client, pro, mission = api.contracted("secure")
    refused = assert_problem(api.post(client, f"/api/v1/missions/{mission['id']}/cancel"), 403, "forbidden")
    assert "incident" in refused["detail"]
    assert_problem(api.post(pro, f"/api/v1/missions/{mission['id']}/cancel"), 403, "forbidden")

    staff = api.moderator()
    response = api.post(staff, f"/api/v1/missions/{mission['id']}/cancel", {"reason": "Incident résolu."})
    assert response.status_code == 200, response.text
    cancelled = api.events(mission["id"])[-1]
    assert cancelled.type == "MissionCancelled"
    assert (
        cancelled.data["cancelled_by"] == "moderator"
        and cancelled.data["previous_status"] == "awaiting_payment"
    )
    assert cancelled.data["pro_id"] == pro.user_id and cancelled.data["payment_mode"] == "secure"


def test_every_transition_is_recorded_with_who_when_from_and_to(api: Api) -> None:
    client, pro, mission = api.contracted("direct", amounts=(10_000,))
    [task] = api.tasks(pro, mission["id"])
    api.clock.advance(days=1)
    assert api.task_command(pro, mission["id"], task["id"], "submit").status_code == 200
    assert api.task_command(client, mission["id"], task["id"], "validate").status_code == 200

    trail = api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    assert [(t["entity"], t["command"], t["from"], t["to"], t["actor"]) for t in trail] == [
        ("mission", "publish", None, "published", "client"),
        ("proposal", "submit", None, "submitted", "pro"),
        ("proposal", "accept", "submitted", "accepted", "client"),
        ("mission", "accept", "published", "contracted", "client"),
        ("mission", "start", "contracted", "in_progress", "system"),
        ("task", "submit", "pending", "submitted", "pro"),
        ("task", "validate", "submitted", "validated", "client"),
        ("mission", "complete", "in_progress", "completed", "client"),
    ]
    assert trail[0]["actor_id"] == client.user_id and trail[1]["actor_id"] == pro.user_id
    assert trail[4]["actor_id"] is None
    assert trail[-1]["at"] == "2026-03-11T09:00:00Z"
    assert api.get(pro, f"/api/v1/missions/{mission['id']}/history").status_code == 200
    assert_problem(api.get(api.pro(), f"/api/v1/missions/{mission['id']}/history"), 404, "not_found")
