"""An incident end to end through the gateway, on RabbitMQ and PostgreSQL, as the apps and a moderator
would play it: a Secure mission of two tasks paid at the Stripe emulator, the first released; the second
submitted and contested, then escalated by the client into an incident on that task; the professional
answers in the thread with a photo; a moderator (made with identity's CLI) resolves with a partial
refund of 30 % of the task and a reason both parties read, with the consumer mediator's notice.

Clients and professionals get 403 on the moderation routes; a party of another mission cannot read the
incident, its thread or its attachment.
"""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest

from clikopro_contracts import parse_event
from clikopro_contracts.testing import assert_like_example

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secure_story import PASSWORD, Story

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TASKS = [("Dépose et préparation", 60_000), ("Pose de la douche à l'italienne", 40_000)]


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def create_moderator(platform, story: Story) -> str:
    """``clikopro-identity create-staff``, as operations run it, on the platform's identity database."""
    email = f"moderation.{uuid.uuid4().hex[:8]}@clikopro.fr"
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "clikopro-identity"), "create-staff", "--role", "moderator",
         "--email", email, "--first-name", "Claire", "--last-name", "Martin", "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, env=platform.service_env("identity"),
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    tokens = story.call("POST", "/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    return tokens["access_token"]


def secure_mission(story: Story) -> dict:
    """Sign-ups, payout onboarding, a Secure mission of two tasks accepted and paid by card."""
    client_id, client = story.sign_up("client", "Marie", "Curie")
    pro_id, pro = story.sign_up("pro", "Paul", "Durand")
    link = story.call("POST", "/api/v1/payments/onboarding", pro)
    with urllib.request.urlopen(
        link["url"] + ("&" if "?" in link["url"] else "?") + "complete=1", timeout=10
    ):
        pass
    story.eventually(
        "the payout account",
        lambda: story.call("GET", "/api/v1/payments/account", pro)["status"] == "enabled",
    )
    mission = story.call(
        "POST", "/api/v1/missions", client, expect=201,
        json={"title": "Douche à l'italienne", "description": "Salle de bains de 5 m².", "trade": "plomberie",
              "postcode": "69003", "budget_cents": 100_000},
    )  # fmt: skip
    mission_id = mission["id"]
    start = dt.date.today() + dt.timedelta(days=7)
    proposal = story.eventually(
        "the proposal",
        lambda: story.call(
            "POST", f"/api/v1/missions/{mission_id}/proposals", pro, expect=201,
            json={"amount_cents": sum(a for _, a in TASKS), "message": "Garantie décennale.",
                  "payment_mode": "secure",
                  "tasks": [{"title": t, "amount_cents": a,
                             "due_date": (start + dt.timedelta(weeks=n)).isoformat()}
                            for n, (t, a) in enumerate(TASKS)]},
        ),
    )  # fmt: skip
    story.call("POST", f"/api/v1/proposals/{proposal['id']}/accept", client, expect=(200, 201))
    payment = story.eventually(
        "the payment to be ready",
        lambda: (
            (p := story.call("GET", f"/api/v1/missions/{mission_id}/payment", client, expect=(200, 404)))
            and p.get("client_secret")
            and p
        ),
    )
    story.confirm_card(
        payment["payment_intent_id"],
        payment["client_secret"],
        payment["stripe_publishable_key"],
        "pm_card_visa",
    )
    story.eventually(
        "the mission in progress",
        lambda: story.call("GET", f"/api/v1/missions/{mission_id}", client)["status"] == "in_progress",
    )
    tasks = story.call("GET", f"/api/v1/missions/{mission_id}/tasks", client)["items"]
    return {"id": mission_id, "client": client, "pro": pro, "client_id": client_id, "pro_id": pro_id,
            "tasks": sorted(tasks, key=lambda t: t["position"])}  # fmt: skip


def release_of(story: Story, mission: dict, task_id: str) -> dict | None:
    payment = story.call("GET", f"/api/v1/missions/{mission['id']}/payment", mission["pro"])
    return next((t["release"] for t in payment["tasks"] if t["task_id"] == task_id), None)


@pytest.mark.parametrize(
    "platform", [pytest.param("rabbitmq-postgres", marks=pytest.mark.integration)], indirect=True
)
def test_an_incident_on_the_second_task_resolved_by_a_partial_refund(platform) -> None:
    story = Story(platform.gateway_url, platform.stripe_url, say=lambda _line: None, timeout=40)
    mission = secure_mission(story)
    mission_id, client, pro = mission["id"], mission["client"], mission["pro"]
    first, second = mission["tasks"]
    tasks_path = f"/api/v1/missions/{mission_id}/tasks"

    # The first task is done and paid.
    story.call("POST", f"{tasks_path}/{first['id']}/submit", pro)
    story.call("POST", f"{tasks_path}/{first['id']}/validate", client)
    story.eventually(
        "the first release",
        lambda: (r := release_of(story, mission, first["id"])) and r["status"] == "released",
    )

    # The second is submitted, contested, then escalated into an incident by the client.
    story.call("POST", f"{tasks_path}/{second['id']}/submit", pro)
    story.call("POST", f"{tasks_path}/{second['id']}/contest", client, json={"reason": "Le receveur fuit."})
    incident = story.call(
        "POST", "/api/v1/incidents", client, expect=201,
        json={"mission_id": mission_id, "category": "poor_quality", "task_ids": [second["id"]],
              "description": "Le receveur de douche fuit depuis la pose ; l'artisan ne répond plus."},
    )  # fmt: skip
    incident_id = incident["id"]
    assert incident["status"] == "open" and incident["task_ids"] == [second["id"]]
    assert incident["opened_by"] == mission["client_id"] and incident["answer_due_at"]
    story.eventually(
        "missions to show the open incident on the mission and the contested task",
        lambda: (
            story.call("GET", f"/api/v1/missions/{mission_id}", pro)["open_incident_ids"] == [incident_id]
            and {t["id"]: t for t in story.call("GET", tasks_path, client)["items"]}[second["id"]][
                "incident_ids"
            ]
            == [incident_id]
        ),
    )

    # The pro answers in the thread, with a photo.
    response = story.http.post(
        f"{story.gateway}/api/v1/incidents/{incident_id}/messages",
        headers={"Authorization": f"Bearer {pro}"},
        data={"body": "Le joint a été refait hier, voici la photo."},
        files=[("attachments[]", ("joint.png", png(), "image/png"))],
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["author_role"] == "pro" and answer["attachments"][0]["content_type"] == "image/png"
    attachment = answer["attachments"][0]["download_path"]
    thread = story.call("GET", f"/api/v1/incidents/{incident_id}/messages", client)["items"]
    assert [m["body"] for m in thread] == ["Le joint a été refait hier, voici la photo."]
    got = story.http.get(story.gateway + attachment, headers={"Authorization": f"Bearer {client}"})
    assert got.status_code == 200 and got.content == png()
    assert story.call("GET", f"/api/v1/incidents/{incident_id}", client)["answered_at"]

    # A party of another mission reads nothing of it.
    _, stranger = story.sign_up("client", "Irène", "Joliot")
    story.call("GET", f"/api/v1/incidents/{incident_id}", stranger, expect=404)
    story.call("GET", f"/api/v1/incidents/{incident_id}/messages", stranger, expect=404)
    story.call("GET", attachment, stranger, expect=404)

    # Clients and professionals are refused on every moderation route.
    resolve_path = f"/api/v1/moderation/incidents/{incident_id}/resolve"
    for token in (client, pro):
        assert (
            story.call("GET", "/api/v1/moderation/incidents?status=open", token, expect=403)["code"]
            == "forbidden"
        )
        story.call("POST", resolve_path, token, expect=403, json={"outcome": "refund", "reason": "Moi."})
        story.call("GET", f"/api/v1/moderation/incidents/{incident_id}/audit", token, expect=403)

    # The moderator reads the queue and the thread, and decides.
    moderator = create_moderator(platform, story)
    queue = story.call("GET", "/api/v1/moderation/incidents?status=open", moderator)["items"]
    assert [(i["id"], i["answer_overdue"]) for i in queue] == [(incident_id, False)]
    assert len(story.call("GET", f"/api/v1/incidents/{incident_id}/messages", moderator)["items"]) == 1
    thirty_percent = second["amount_cents"] * 30 // 100
    reason = "Fuite constatée sur photo, reprise partielle : 30 % de l'étape remboursés."
    decided = story.call(
        "POST", resolve_path, moderator,
        json={"outcome": "partial_refund", "amount_cents": thirty_percent, "reason": reason},
    )  # fmt: skip
    assert decided["status"] == "resolved" and decided["amount_cents"] == thirty_percent == 12_000
    for token in (client, pro):
        seen = story.call("GET", f"/api/v1/incidents/{incident_id}", token)
        assert seen["resolution"]["reason"] == reason and seen["resolution"]["task_ids"] == [second["id"]]
        assert "L612-1" in seen["resolution"]["notice"] and "tribunal" in seen["resolution"]["notice"]
        assert seen["resolution"]["mediator"]["name"] in seen["resolution"]["notice"]
    audit = story.call("GET", f"/api/v1/moderation/incidents/{incident_id}/audit", moderator)["items"]
    assert [a["action"] for a in audit] == ["incident.open", "incident.message", "incident.resolve"]
    assert audit[-1]["actor_role"] == "moderator" and audit[-1]["reason"] == reason
    story.call("POST", resolve_path, moderator, expect=409, json={"outcome": "dismiss", "reason": "Encore."})

    # Missions: no open incident any more; the contested task stays contested (the pro redoes it).
    story.eventually(
        "missions to see the resolution",
        lambda: story.call("GET", f"/api/v1/missions/{mission_id}", client)["open_incident_ids"] == [],
    )
    assert {t["id"]: t for t in story.call("GET", tasks_path, client)["items"]}[second["id"]][
        "status"
    ] == "contested"

    # Payments: 30 % of the task back to the client.
    payment = story.eventually(
        "the partial refund",
        lambda: (
            (p := story.call("GET", f"/api/v1/missions/{mission_id}/payment", client))["refunded_cents"]
            == thirty_percent
            and p
        ),
    )
    assert payment["captured_cents"] == sum(a for _, a in TASKS)

    # The pro redoes the task, the client validates it: the rest of it is paid, and the money adds up.
    story.call("POST", f"{tasks_path}/{second['id']}/submit", pro)
    story.call("POST", f"{tasks_path}/{second['id']}/validate", client)
    story.eventually(
        "the mission to be completed",
        lambda: story.call("GET", f"/api/v1/missions/{mission_id}", client)["status"] == "completed",
    )
    final = story.eventually(
        "the last release",
        lambda: (
            (p := story.call("GET", f"/api/v1/missions/{mission_id}/payment", client))["held_cents"] == 0
            and all(t["release"] and t["release"]["status"] in ("released", "refunded") for t in p["tasks"])
            and p
        ),
    )
    assert final["refunded_cents"] == thirty_percent
    assert final["released_cents"] + final["refunded_cents"] + final["commission_taken_cents"] == sum(
        a for _, a in TASKS
    )

    events = [parse_event(m["body"]) for m in platform.tapped()]
    ours = [e for e in events if e.data.get("incident_id") == incident_id]
    assert [e.type for e in ours if e.type.startswith("Incident")] == [
        "IncidentOpened", "IncidentMessagePosted", "IncidentResolved",
    ]  # fmt: skip
    for event in ours:
        assert_like_example(event)
