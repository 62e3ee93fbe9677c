"""A CLIKOPRO Secure mission end to end through the gateway, on the processes of ``make run``
(the embedded default, and PostgreSQL + RabbitMQ): publish -> propose (Secure) -> accept -> pay
with a test card at the Stripe emulator -> validate every task -> completed, with the money
released task by task and ``FundsReleased`` for each task.

Skipped, with the reason, while identity's sign-in or missions' routes answer 404 (issues 3
and 4 bring them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import parse_event
from clikopro_contracts.testing import assert_like_example

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secure_story import TASKS, RoutesMissing, Story

pytestmark = pytest.mark.e2e


def test_a_secure_mission_from_publication_to_the_last_release(platform) -> None:
    story = Story(platform.gateway_url, platform.stripe_url, say=lambda _line: None, timeout=40)
    try:
        final = story.play()
    except RoutesMissing as exc:
        pytest.skip(f"needs identity's sign-in and missions' routes (issues 3 and 4): {exc}")

    total = sum(amount for _, amount in TASKS)
    assert final["captured_cents"] == total and final["held_cents"] == 0
    assert final["released_cents"] + final["commission_cents"] == total
    assert final["commission_cents"] == total * final["commission_rate_bps"] // 10_000
    assert [t["release"]["status"] for t in final["tasks"]] == ["released"] * len(TASKS)

    mission_id = story.facts["mission_id"]
    events: list = []

    def released_for_every_task() -> list:
        # The ledger says released once the transfer is recorded; FundsReleased leaves through the
        # outbox relay just after, so the tap may still be waiting for the last one.
        events.extend(parse_event(m["body"]) for m in platform.tapped())  # raises on a broken contract
        found = [e for e in events if e.type == "FundsReleased" and e.data["mission_id"] == mission_id]
        return found if len(found) >= len(TASKS) else []

    released = wait_until(released_for_every_task, timeout=15, interval=0.2, message="FundsReleased per task")
    assert sorted(e.data["amount_cents"] for e in released) == sorted(amount for _, amount in TASKS)
    assert sum(e.data["net_cents"] for e in released) == final["released_cents"]
    for event in released:
        assert_like_example(event)
    kinds = {e.type for e in events if e.data.get("mission_id") == mission_id}
    assert {
        "ProposalAccepted",
        "PaymentSecured",
        "TaskValidated",
        "FundsReleased",
        "MissionCompleted",
    } <= kinds
