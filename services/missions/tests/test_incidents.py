"""Incidents as missions shows and applies them (trust & safety decides): open incidents on the mission
and its tasks, a contested task escalated, the delay paused under an incident, and the resolution's
effects — `dismiss` reopens a contested task, `refund` cancels unpaid tasks and, with the last, the
mission."""

from __future__ import annotations

import datetime as dt
import uuid

from missions_helpers import Api, assert_problem, feed

from clikopro_contracts import format_time, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example, wire, with_data
from clikopro_missions.service_layer import tasks as task_cases
from clikopro_missions.service_layer.handlers import HANDLERS


def feed_v2(api: Api, type_: str, **data) -> None:
    """Trust & safety's v2 incident events (the examples' second version) through our handler."""
    message = with_data(example(type_, 2), **data)
    message["id"] = str(uuid.uuid4())
    event = parse_event(wire(message))
    with api.services.database.session() as session:
        with api.services.joined_uow(session) as uow:
            HANDLERS[event.type](event, uow)
        session.commit()


def secure_in_progress(api: Api, amounts=(100_000, 50_000)):
    client, pro, mission = api.contracted("secure", amounts=amounts)
    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    return client, pro, mission, api.tasks(client, mission["id"])


def opened(api: Api, mission, client, pro, task_ids=(), **data) -> str:
    incident_id = str(uuid.uuid4())
    feed_v2(
        api, "IncidentOpened", incident_id=incident_id, mission_id=mission["id"],
        client_id=client.user_id, pro_id=pro.user_id, opened_by=client.user_id, opened_by_role="client",
        task_ids=list(task_ids), opened_at=format_time(api.clock()), **data,
    )  # fmt: skip
    return incident_id


def resolved(api: Api, incident_id: str, mission, client, pro, outcome: str, task_ids=(), amount=None) -> str:
    moderator = str(uuid.uuid4())
    feed_v2(
        api, "IncidentResolved", incident_id=incident_id, mission_id=mission["id"],
        client_id=client.user_id, pro_id=pro.user_id, outcome=outcome, task_ids=list(task_ids),
        refund_amount_cents=amount, moderator_id=moderator, resolved_at=format_time(api.clock()),
        reason="Décision du modérateur.",
    )  # fmt: skip
    return moderator


def test_the_mission_and_its_tasks_show_the_open_incidents(api: Api) -> None:
    client, pro, mission, (first, second) = secure_in_progress(api)
    whole = opened(api, mission, client, pro)
    on_second = opened(api, mission, client, pro, task_ids=[second["id"]])
    seen = api.get(client, f"/api/v1/missions/{mission['id']}").json()
    assert set(seen["open_incident_ids"]) == {whole, on_second}
    assert (
        api.get(pro, f"/api/v1/missions/{mission['id']}").json()["open_incident_ids"]
        == seen["open_incident_ids"]
    )
    by_task = {t["id"]: set(t["incident_ids"]) for t in api.tasks(client, mission["id"])}
    assert by_task == {first["id"]: {whole}, second["id"]: {whole, on_second}}
    resolved(api, whole, mission, client, pro, "release")
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["open_incident_ids"] == [on_second]
    # A pro who is not the mission's does not see it at all.
    assert_problem(api.get(api.pro(), f"/api/v1/missions/{mission['id']}"), 404, "not_found")


def test_a_resolution_seen_before_its_opening_leaves_the_incident_resolved(api: Api) -> None:
    client, pro, mission, _ = secure_in_progress(api)
    incident_id = str(uuid.uuid4())
    resolved(api, incident_id, mission, client, pro, "dismiss")
    feed_v2(
        api, "IncidentOpened", incident_id=incident_id, mission_id=mission["id"],
        client_id=client.user_id, pro_id=pro.user_id, opened_by=client.user_id, task_ids=[],
    )  # fmt: skip
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["open_incident_ids"] == []


def test_a_contested_task_escalated_then_dismissed_goes_back_to_submitted_with_a_new_delay(api: Api) -> None:
    client, pro, mission, (task, _) = secure_in_progress(api)
    path = mission["id"], task["id"]
    assert api.task_command(pro, *path, "submit").status_code == 200
    assert api.task_command(client, *path, "contest", reason="Joints mal faits.").status_code == 200
    incident = opened(api, mission, client, pro, task_ids=[task["id"]])  # the escalation
    listed = {t["id"]: t for t in api.tasks(client, mission["id"])}[task["id"]]
    assert listed["status"] == "contested" and listed["incident_ids"] == [incident]
    api.clock.advance(days=3)
    resolved(api, incident, mission, client, pro, "dismiss", task_ids=[task["id"]])
    after = {t["id"]: t for t in api.tasks(client, mission["id"])}[task["id"]]
    assert after["status"] == "submitted" and after["incident_ids"] == []
    restarted = dt.datetime.fromisoformat(after["auto_validate_at"].replace("Z", "+00:00"))
    assert restarted == api.clock() + dt.timedelta(days=api.services.settings.task_auto_validate_days)
    announced = [e for e in api.events(mission["id"]) if e.type == "TaskSubmitted"][-1]
    assert_like_example(announced)
    assert announced.data["auto_validate_at"] == format_time(restarted)
    history = api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    reopen = [h for h in history if h["command"] == "reopen"]
    assert (
        len(reopen) == 1
        and reopen[0]["actor"] == "staff"
        and "Décision du modérateur." in reopen[0]["reason"]
    )
    # A second copy of the resolution changes nothing.
    resolved(api, incident, mission, client, pro, "dismiss", task_ids=[task["id"]])
    assert [
        h["command"] for h in api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    ].count("reopen") == 1


def test_the_delay_does_not_validate_a_task_under_an_open_incident(api: Api) -> None:
    client, pro, mission, (first, second) = secure_in_progress(api)
    for task in (first, second):
        assert api.task_command(pro, mission["id"], task["id"], "submit").status_code == 200
    incident = opened(api, mission, client, pro, task_ids=[second["id"]])
    api.clock.advance(days=15)
    settings = api.services.settings
    done = task_cases.run_deadlines(api.services.uow, now=api.clock, settings=settings)
    assert done["auto_validated"] == 1
    statuses = {t["id"]: t["status"] for t in api.tasks(client, mission["id"])}
    assert statuses == {first["id"]: "validated", second["id"]: "submitted"}
    resolved(api, incident, mission, client, pro, "release")
    task_cases.run_deadlines(api.services.uow, now=api.clock, settings=settings)
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "completed"


def test_a_refund_cancels_the_unpaid_tasks_and_the_mission_with_the_last(api: Api) -> None:
    client, pro, mission, (first, second) = secure_in_progress(api)
    incident = opened(api, mission, client, pro, task_ids=[second["id"]])
    resolved(api, incident, mission, client, pro, "refund", task_ids=[second["id"]])
    statuses = {t["id"]: t["status"] for t in api.tasks(client, mission["id"])}
    assert statuses == {first["id"]: "pending", second["id"]: "cancelled"}
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "in_progress"
    # The cancelled task is no longer a checkpoint of the job.
    assert_problem(api.task_command(pro, mission["id"], second["id"], "submit"), 409, "conflict")
    whole = opened(api, mission, client, pro)
    resolved(api, whole, mission, client, pro, "refund")
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "cancelled"
    cancelled = [e for e in api.events(mission["id"]) if e.type == "MissionCancelled"]
    assert len(cancelled) == 1
    assert_like_example(cancelled[0])
    assert (
        cancelled[0].data["cancelled_by"] == "moderator"
        and cancelled[0].data["previous_status"] == "in_progress"
    )
    assert whole in cancelled[0].data["reason"]


def test_a_refund_leaves_paid_tasks_alone_and_completes_the_mission_if_the_rest_was_validated(
    api: Api,
) -> None:
    client, pro, mission, (first, second) = secure_in_progress(api)
    path = mission["id"], first["id"]
    assert api.task_command(pro, *path, "submit").status_code == 200
    assert api.task_command(client, *path, "validate").status_code == 200
    feed(
        api.services, "FundsReleased", mission_id=mission["id"], task_id=first["id"], pro_id=pro.user_id,
        amount_cents=100_000, commission_cents=8_000, net_cents=92_000,
    )  # fmt: skip
    incident = opened(api, mission, client, pro)  # every task not yet paid: the second
    assert {t["id"]: t["incident_ids"] for t in api.tasks(client, mission["id"])} == {
        first["id"]: [], second["id"]: [incident],
    }  # fmt: skip
    resolved(api, incident, mission, client, pro, "refund")
    tasks = {t["id"]: t for t in api.tasks(client, mission["id"])}
    assert tasks[first["id"]]["status"] == "validated" and tasks[first["id"]]["released_at"]
    assert tasks[second["id"]]["status"] == "cancelled"
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "completed"
    assert [e.type for e in api.events(mission["id"])].count("MissionCompleted") == 1


def test_staff_cancel_a_contracted_mission_only_with_a_reason(api: Api) -> None:
    client, pro, mission, _ = secure_in_progress(api)
    staff = api.moderator()
    assert_problem(api.post(staff, f"/api/v1/missions/{mission['id']}/cancel"), 422, "validation_error")
    assert_problem(
        api.post(client, f"/api/v1/missions/{mission['id']}/cancel", {"reason": "Non."}), 403, "forbidden"
    )
    assert_problem(
        api.post(pro, f"/api/v1/missions/{mission['id']}/cancel", {"reason": "Non."}), 403, "forbidden"
    )
    response = api.post(staff, f"/api/v1/missions/{mission['id']}/cancel", {"reason": "Fraude avérée."})
    assert response.status_code == 200, response.text
    trail = api.get(staff, f"/api/v1/missions/{mission['id']}/history").json()["items"][-1]
    assert trail["command"] == "cancel" and trail["actor_id"] == staff.user_id
    assert trail["actor_role"] == "moderator" and trail["reason"] == "Fraude avérée." and trail["at"]


def test_v1_incident_events_cover_the_whole_mission(api: Api) -> None:
    client, pro, mission, _ = secure_in_progress(api)
    incident_id = str(uuid.uuid4())
    ids = {"incident_id": incident_id, "mission_id": mission["id"], "client_id": client.user_id}
    feed(api.services, "IncidentOpened", **ids, pro_id=pro.user_id)
    assert {tuple(t["incident_ids"]) for t in api.tasks(client, mission["id"])} == {(incident_id,)}
    feed(
        api.services,
        "IncidentResolved",
        **ids,
        pro_id=pro.user_id,
        outcome="refund",
        refund_amount_cents=None,
    )
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "cancelled"
