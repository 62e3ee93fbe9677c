"""Tasks with checkpoints through HTTP (R8): submit, validate, contest, complete, and the delay."""

from __future__ import annotations

import uuid

import pytest
from missions_helpers import Api, assert_problem
from sqlalchemy import select

from clikopro_contracts.testing import assert_like_example
from clikopro_missions.adapters.orm import task_reminders
from clikopro_missions.entrypoints.cli import jobs
from clikopro_missions.service_layer.tasks import run_deadlines


def test_the_whole_happy_path_from_publish_to_missioncompleted(api: Api) -> None:
    client, pro = api.client(), api.pro()
    api.give_plan(pro, "pro")
    mission = api.publish(client)
    rival = api.propose(api.pro(), mission["id"])
    proposal = api.propose(pro, mission["id"], payment_mode="direct", amounts=(100_000, 50_000))
    api.accept(client, proposal["id"])
    first, second = api.tasks(pro, mission["id"])

    api.clock.advance(days=3)
    submitted = api.task_command(pro, mission["id"], first["id"], "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["auto_validate_at"] == "2026-03-27T09:00:00Z"  # 14 days later
    assert api.task_command(client, mission["id"], first["id"], "validate").json()["status"] == "validated"

    api.task_command(pro, mission["id"], second["id"], "submit")
    contested = api.task_command(client, mission["id"], second["id"], "contest", reason="Joints mal faits.")
    assert contested.status_code == 200, contested.text
    assert (
        contested.json()["status"] == "contested"
        and contested.json()["contest_reason"] == "Joints mal faits."
    )
    api.clock.advance(days=1)
    again = api.task_command(pro, mission["id"], second["id"], "submit")
    assert again.json()["status"] == "submitted" and again.json()["submissions"] == 2
    final = api.task_command(client, mission["id"], second["id"], "validate")
    assert final.status_code == 200, final.text
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "completed"

    events = api.events(mission["id"])
    assert [e.type for e in events] == [
        "MissionPublished", "ProposalSubmitted", "ProposalSubmitted", "ProposalAccepted", "ProposalRejected",
        "TaskSubmitted", "TaskValidated", "TaskSubmitted", "TaskContested", "TaskSubmitted", "TaskValidated",
        "MissionCompleted",
    ]  # fmt: skip
    for event in events:
        assert_like_example(event)
    assert events[4].data["proposal_id"] == rival["id"]
    validated = [e.data for e in events if e.type == "TaskValidated"]
    assert [(v["task_id"], v["amount_cents"], v["auto_validated"], v["payment_mode"]) for v in validated] == [
        (first["id"], 100_000, False, "direct"),
        (second["id"], 50_000, False, "direct"),
    ]
    completed = events[-1].data
    assert completed["amount_cents"] == 150_000 and completed["trade"] == "plomberie"
    assert completed["completed_at"] == "2026-03-14T09:00:00Z"


def test_forbidden_task_transitions_and_cross_user_access_are_refused(api: Api) -> None:
    client, pro, mission = api.contracted("direct")
    first, second = api.tasks(pro, mission["id"])
    mid = mission["id"]
    stranger_client, stranger_pro, staff = api.client(), api.pro(), api.moderator()

    # Only the contracted pro submits; only the mission's client validates or contests.
    for who in (client, stranger_pro, stranger_client, staff):
        assert_problem(api.task_command(who, mid, first["id"], "submit"), 403, "forbidden")
    # A pending task cannot be validated or contested.
    assert_problem(api.task_command(client, mid, first["id"], "validate"), 409, "conflict")
    assert_problem(api.task_command(client, mid, first["id"], "contest", reason="x"), 409, "conflict")

    api.task_command(pro, mid, first["id"], "submit")
    assert_problem(api.task_command(pro, mid, first["id"], "submit"), 409, "conflict")
    for who in (pro, stranger_client, stranger_pro, staff):
        assert_problem(api.task_command(who, mid, first["id"], "validate"), 403, "forbidden")
        assert_problem(api.task_command(who, mid, first["id"], "contest", reason="x"), 403, "forbidden")
    assert_problem(
        api.task_command(client, mid, first["id"], "contest"), 400, "validation_error"
    )  # no reason

    api.task_command(client, mid, first["id"], "validate")
    for command, who in (("validate", client), ("contest", client), ("submit", pro)):
        body = {"reason": "x"} if command == "contest" else {}
        assert_problem(api.task_command(who, mid, first["id"], command, **body), 409, "conflict")

    # Tasks and workspace reads: parties and staff only.
    for who in (stranger_client, stranger_pro):
        assert_problem(api.get(who, f"/api/v1/missions/{mid}/tasks"), 404, "not_found")
    assert len(api.tasks(staff, mid)) == 2
    assert_problem(api.task_command(pro, mid, str(uuid.uuid4()), "submit"), 404, "not_found")
    _other_client, other_pro, other = api.contracted("direct")
    [foreign, _] = api.tasks(other_pro, other["id"])
    assert_problem(
        api.task_command(pro, mid, foreign["id"], "submit"), 404, "not_found"
    )  # not this mission's
    assert second["status"] == "pending"


def test_tasks_wait_for_the_payment_of_a_secure_mission(api: Api) -> None:
    _client, pro, mission = api.contracted("secure")
    [first, _] = api.tasks(pro, mission["id"])
    assert_problem(api.task_command(pro, mission["id"], first["id"], "submit"), 409, "conflict")


def test_a_task_left_unanswered_is_reminded_then_validated_by_the_workers_job(api: Api) -> None:
    client, pro, mission = api.contracted("direct", amounts=(100_000, 50_000))
    first, second = api.tasks(pro, mission["id"])
    [job] = jobs(api.services)
    assert job.name == "task-deadlines" and job.interval == 60

    api.task_command(pro, mission["id"], first["id"], "submit")
    api.clock.advance(days=6, hours=23)
    assert job.run() == {"reminded": 0, "auto_validated": 0}
    api.clock.advance(hours=1)  # 7 days: the client is reminded, once
    assert job.run() == {"reminded": 1, "auto_validated": 0}
    assert job.run() == {"reminded": 0, "auto_validated": 0}
    with api.services.database.session() as session:
        [reminder] = session.execute(select(task_reminders)).mappings().all()
    assert str(reminder["task_id"]) == first["id"] and reminder["submission"] == 1
    assert api.tasks(client, mission["id"])[0]["reminded_at"] == "2026-03-17T09:00:00Z"
    # ... and told, by one event written with that row (the second run wrote neither).
    [due] = [e for e in api.events(mission["id"]) if e.type == "TaskValidationReminderDue"]
    assert_like_example(due)
    assert due.data == {
        "mission_id": mission["id"],
        "task_id": first["id"],
        "client_id": str(client.user_id),
        "pro_id": str(pro.user_id),
        "title": first["title"],
        "amount_cents": 100_000,
        "currency": "EUR",
        "submitted_at": "2026-03-10T09:00:00Z",
        "auto_validate_at": "2026-03-24T09:00:00Z",  # submitted_at + TASK_AUTO_VALIDATE_DAYS (14)
    }

    api.clock.advance(days=7)  # 14 days after the submission: validated automatically
    assert job.run() == {"reminded": 0, "auto_validated": 1}
    assert job.run() == {"reminded": 0, "auto_validated": 0}
    task = api.tasks(client, mission["id"])[0]
    assert task["status"] == "validated" and task["auto_validated"] is True
    assert_problem(api.task_command(client, mission["id"], first["id"], "validate"), 409, "conflict")

    api.task_command(pro, mission["id"], second["id"], "submit")
    api.clock.advance(days=14)
    assert job.run() == {"reminded": 0, "auto_validated": 1}  # past the reminder: straight to validation
    events = api.events(mission["id"])
    assert [e.data["task_id"] for e in events if e.type == "TaskValidationReminderDue"] == [first["id"]]
    auto = [e for e in events if e.type == "TaskValidated"]
    assert [e.data["auto_validated"] for e in auto] == [True, True]
    assert events[-1].type == "MissionCompleted"
    history = api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    assert [(h["command"], h["actor"]) for h in history[-2:]] == [
        ("auto_validate", "system"),
        ("complete", "system"),
    ]


def test_a_contested_then_resubmitted_task_gets_a_new_delay_and_reminder(api: Api) -> None:
    client, pro, mission = api.contracted("direct", amounts=(10_000,))
    [task] = api.tasks(pro, mission["id"])
    api.task_command(pro, mission["id"], task["id"], "submit")
    api.clock.advance(days=13)
    api.task_command(client, mission["id"], task["id"], "contest", reason="Pas fini.")
    api.clock.advance(days=2)
    settings = api.services.settings
    assert run_deadlines(api.services.uow, now=api.clock, settings=settings) == {
        "reminded": 0,
        "auto_validated": 0,
    }
    resubmitted = api.task_command(pro, mission["id"], task["id"], "submit").json()
    assert resubmitted["auto_validate_at"] == "2026-04-08T09:00:00Z"
    api.clock.advance(days=13, hours=23)
    assert run_deadlines(api.services.uow, now=api.clock, settings=settings) == {
        "reminded": 1,
        "auto_validated": 0,
    }
    # The contested submission was never reminded; the new one is, with its own dates.
    [due] = [e for e in api.events(mission["id"]) if e.type == "TaskValidationReminderDue"]
    assert due.data["submitted_at"] == "2026-03-25T09:00:00Z"
    assert due.data["auto_validate_at"] == resubmitted["auto_validate_at"] == "2026-04-08T09:00:00Z"
    api.clock.advance(hours=1)
    assert run_deadlines(api.services.uow, now=api.clock, settings=settings) == {
        "reminded": 0,
        "auto_validated": 1,
    }


@pytest.mark.parametrize("days", [3])
def test_the_delays_are_configurable(api: Api, days: int) -> None:
    settings = api.services.settings.replace(task_auto_validate_days=days, task_reminder_days=1)
    api.services.settings = settings
    _client, pro, mission = api.contracted("direct", amounts=(10_000,))
    [task] = api.tasks(pro, mission["id"])
    submitted = api.task_command(pro, mission["id"], task["id"], "submit").json()
    assert submitted["auto_validate_at"] == "2026-03-13T09:00:00Z"
    api.clock.advance(days=days)
    assert run_deadlines(api.services.uow, now=api.clock, settings=settings)["auto_validated"] == 1
