"""Incidents as the parties live them, over real HTTP: declare, read, write in the thread with
attachments, and every way a stranger could try to read what is not theirs."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from trust_safety_helpers import JPEG, PDF, Api, assert_problem, fields_of, png

from clikopro_contracts.testing import assert_like_example


def test_the_client_declares_an_incident_on_a_task_and_payments_is_told(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(
        mission.client, mission, category="not_delivered", description="  Rien n'a été posé.  ",
        task_ids=[mission.task_ids[1], mission.task_ids[1]],
    )  # fmt: skip
    assert incident["status"] == "open" and incident["mission_id"] == mission.id
    assert incident["task_ids"] == [mission.task_ids[1]]
    assert incident["opened_by"] == mission.client.user_id and incident["opened_by_role"] == "client"
    assert incident["description"] == "Rien n'a été posé."
    due = dt.datetime.fromisoformat(incident["answer_due_at"].replace("Z", "+00:00"))
    assert due == api.clock() + dt.timedelta(days=7)
    assert incident["answer_overdue"] is False and incident["resolution"] is None
    (event,) = api.events("IncidentOpened")
    assert event.version == 2
    assert_like_example(event)
    assert event.data["incident_id"] == incident["id"]
    assert event.data["task_ids"] == [mission.task_ids[1]]
    assert event.data["opened_by_role"] == "client" and event.data["dispute_id"] is None
    assert api.get(mission.client, f"/api/v1/incidents/{incident['id']}").json() == incident


def test_the_pro_declares_one_too_and_several_may_be_open_at_once(api: Api) -> None:
    mission = api.contracted()
    first = api.open(mission.client, mission)
    api.clock.advance(minutes=1)
    second = api.open(mission.pro, mission, category="behaviour", task_ids=[mission.task_ids[0]])
    api.clock.advance(minutes=1)
    third = api.open(mission.client, mission, task_ids=[mission.task_ids[0]])
    assert second["opened_by_role"] == "pro"
    listed = api.get(mission.pro, "/api/v1/incidents", params={"mission_id": mission.id}).json()["items"]
    assert [i["id"] for i in listed] == [first["id"], second["id"], third["id"]]
    mine = api.get(mission.client, "/api/v1/incidents").json()["items"]
    assert {i["id"] for i in mine} == {first["id"], second["id"], third["id"]}


def test_who_may_not_declare_an_incident(api: Api) -> None:
    mission = api.contracted()
    assert_problem(api.open_raw(api.moderator(), mission), 403, "forbidden")
    assert_problem(api.open_raw(api.person("admin"), mission), 403, "forbidden")
    # A party of another mission learns nothing about this one.
    other = api.contracted()
    assert_problem(api.open_raw(other.client, mission), 404, "not_found")
    assert_problem(api.open_raw(other.pro, mission), 404, "not_found")
    assert_problem(api.open_raw(mission.client, str(uuid.uuid4())), 404, "not_found")


def test_what_cannot_be_declared(api: Api) -> None:
    mission = api.contracted()
    other = api.contracted()
    response = api.open_raw(mission.client, mission, task_ids=[other.task_ids[0]])
    assert_problem(response, 422, "validation_error")
    assert fields_of(response) == {"task_ids[0]"}
    assert_problem(api.open_raw(mission.client, mission, category="weather"), 400, "validation_error")
    assert_problem(api.open_raw(mission.client, mission, description="   "), 422, "validation_error")
    api.feed(
        "MissionCancelled", mission_id=mission.id, client_id=mission.client.user_id,
        pro_id=mission.pro.user_id, payment_mode="secure",
    )  # fmt: skip
    assert_problem(api.open_raw(mission.client, mission), 409, "conflict")


def test_a_mission_only_published_is_unknown_here(api: Api) -> None:
    client = api.client()
    assert_problem(api.open_raw(client, str(uuid.uuid4())), 404, "not_found")


def test_strangers_cannot_read_an_incident_its_thread_or_its_attachments(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    message = api.post(
        mission.pro,
        f"/api/v1/incidents/{incident['id']}/messages",
        data={"body": "Photos jointes."},
        files=[("attachments[]", ("photo.png", png(), "image/png"))],
    ).json()
    attachment_path = message["attachments"][0]["download_path"]
    other = api.contracted()
    for stranger in (other.client, other.pro, api.client(), api.pro()):
        assert_problem(api.get(stranger, f"/api/v1/incidents/{incident['id']}"), 404, "not_found")
        assert_problem(api.get(stranger, f"/api/v1/incidents/{incident['id']}/messages"), 404, "not_found")
        assert_problem(api.get(stranger, attachment_path), 404, "not_found")
        assert_problem(
            api.get(stranger, "/api/v1/incidents", params={"mission_id": mission.id}), 404, "not_found"
        )
        response = api.post(stranger, f"/api/v1/incidents/{incident['id']}/messages", {"body": "Coucou"})
        assert_problem(response, 404, "not_found")
        assert incident["id"] not in {i["id"] for i in api.get(stranger, "/api/v1/incidents").json()["items"]}
    # An attachment is read through its own incident only.
    second = api.open(other.client, other)
    wrong = attachment_path.replace(incident["id"], second["id"])
    assert_problem(api.get(other.client, wrong), 404, "not_found")
    for reader in (mission.client, mission.pro, api.moderator()):
        assert api.get(reader, attachment_path).content == png()


def test_the_thread_with_attachments_recognised_by_their_content(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    path = f"/api/v1/incidents/{incident['id']}/messages"
    response = api.post(
        mission.pro,
        path,
        data={"body": "Le devis signé et deux photos."},
        files=[
            ("attachments[]", ("devis.pdf", PDF, "application/pdf")),
            # Declared as something else: what counts is the content.
            ("attachments[]", ("photo", JPEG, "application/octet-stream")),
            ("attachments[]", ("capture.png", png(2, 2), "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["author_role"] == "pro" and message["body"] == "Le devis signé et deux photos."
    assert [a["content_type"] for a in message["attachments"]] == [
        "application/pdf",
        "image/jpeg",
        "image/png",
    ]
    for attachment, data in zip(message["attachments"], (PDF, JPEG, png(2, 2)), strict=True):
        download = api.get(mission.client, attachment["download_path"])
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-type"] == attachment["content_type"]
        assert download.headers["x-content-type-options"] == "nosniff"
        assert attachment["size_bytes"] == len(data)
    api.clock.advance(minutes=5)
    api.say(mission.client, incident["id"], "Merci, je regarde.")
    thread = api.get(mission.client, path).json()["items"]
    assert [(m["author_role"], len(m["attachments"])) for m in thread] == [("pro", 3), ("client", 0)]
    page = api.get(mission.client, path, params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get(mission.client, path, params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["author_role"] == "client"


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("fake.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("fake.pdf", b"%PDF-1.4 but truncated, no end of file marker", "application/pdf"),
        ("program.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf"),
        ("empty.png", b"", "image/png"),
    ],
)
def test_an_attachment_that_is_not_a_pdf_jpeg_or_png_is_refused(api: Api, name, data, declared) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    response = api.post(
        mission.client,
        f"/api/v1/incidents/{incident['id']}/messages",
        data={"body": "Voir la pièce jointe."},
        files=[("attachments[]", (name, data, declared))],
    )
    assert_problem(response, 422, "validation_error")
    assert fields_of(response) == {"attachments[0]"}
    assert api.get(mission.client, f"/api/v1/incidents/{incident['id']}/messages").json()["items"] == []


def test_attachments_are_size_capped(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    big = PDF[:-7] + b" " * 20_001 + b"%%EOF\n"
    response = api.post(
        mission.client,
        f"/api/v1/incidents/{incident['id']}/messages",
        data={"body": "Trop lourd."},
        files=[("attachments[]", ("gros.pdf", big, "application/pdf"))],
    )
    assert_problem(response, 422, "validation_error")
    assert "20000" in response.json()["errors"][0]["message"]
    six = [("attachments[]", (f"p{i}.png", png(), "image/png")) for i in range(6)]
    response = api.post(
        mission.client, f"/api/v1/incidents/{incident['id']}/messages", data={"body": "Six."}, files=six
    )
    assert_problem(response, 422, "validation_error")


def test_the_first_answer_of_the_other_party_is_told(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    api.say(mission.client, incident["id"], "Précision : la douche fuit.")
    api.clock.advance(minutes=1)
    api.say(api.moderator(), incident["id"], "Pouvez-vous joindre des photos ?")
    assert api.get(mission.client, f"/api/v1/incidents/{incident['id']}").json()["answered_at"] is None
    api.clock.advance(hours=3)
    api.say(mission.pro, incident["id"])
    api.clock.advance(minutes=1)
    api.say(mission.pro, incident["id"], "Et encore ceci.")
    events = api.events("IncidentMessagePosted")
    assert [(e.data["author_role"], e.data["answer"]) for e in events] == [
        ("client", False), ("staff", False), ("pro", True), ("pro", False),
    ]  # fmt: skip
    for event in events:
        assert_like_example(event)
    read = api.get(mission.client, f"/api/v1/incidents/{incident['id']}").json()
    assert read["answered_at"] is not None and read["answer_overdue"] is False


def test_the_thread_of_a_resolved_incident_is_closed(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    api.resolve(api.moderator(), incident["id"], outcome="dismiss")
    response = api.post(mission.pro, f"/api/v1/incidents/{incident['id']}/messages", {"body": "Trop tard ?"})
    assert_problem(response, 409, "conflict")


def test_a_message_needs_a_body(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    path = f"/api/v1/incidents/{incident['id']}/messages"
    assert_problem(api.post(mission.pro, path, {"body": "  "}), 422, "validation_error")
    assert_problem(api.post(mission.pro, path, {}), 400, "validation_error")
    response = api.post(mission.pro, path, files=[("attachments[]", ("p.png", png(), "image/png"))])
    assert response.status_code in (400, 422) and response.json()["code"] == "validation_error"


def test_the_same_idempotency_key_declares_one_incident(api: Api) -> None:
    mission = api.contracted()
    headers = {"Idempotency-Key": "incident-1"}
    first = api.open_raw(mission.client, mission, headers=headers)
    again = api.open_raw(mission.client, mission, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(api.events("IncidentOpened")) == 1


def test_staff_reading_an_attachment_is_on_the_record(api: Api) -> None:
    mission = api.contracted()
    incident = api.open(mission.client, mission)
    message = api.post(
        mission.client,
        f"/api/v1/incidents/{incident['id']}/messages",
        data={"body": "La facture."},
        files=[("attachments[]", ("facture.pdf", PDF, "application/pdf"))],
    ).json()
    moderator = api.moderator()
    assert api.get(moderator, message["attachments"][0]["download_path"]).content == PDF
    audit = api.get(moderator, f"/api/v1/moderation/incidents/{incident['id']}/audit").json()["items"]
    read = audit[-1]
    assert read["action"] == "incident.attachment_read" and read["actor_id"] == moderator.user_id
    assert read["details"]["attachment_id"] == message["attachments"][0]["id"]
