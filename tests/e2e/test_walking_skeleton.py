"""The walking skeleton: a request through the gateway crosses the whole stack.

Sign up at the gateway -> identity stores the account and writes
``UserRegistered`` to its outbox -> its relay publishes it -> the missions
worker consumes it into its own projection. Run on the embedded default
(SQLite + kombu filesystem transport, exactly ``make run``) and on
PostgreSQL + RabbitMQ. Every event published on the way is checked against
its contract.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from clikopro_chassis.db import normalise_url
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import parse_event

pytestmark = pytest.mark.e2e


def test_a_sign_up_at_the_gateway_reaches_the_missions_projection(platform) -> None:
    email = f"claire.{uuid.uuid4().hex[:6]}@example.fr"
    response = httpx.post(
        f"{platform.gateway_url}/api/v1/auth/register",
        json={
            "role": "client",
            "email": email,
            "password": "a long enough passphrase",
            "first_name": "Claire",
            "last_name": "Dubois",
            "phone": "+33612345678",
        },
        headers={"X-Request-Id": "skeleton-1"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "skeleton-1"
    user_id = response.json()["id"]

    missions_db = create_engine(normalise_url(platform.service_env("missions")["DATABASE_URL"]))

    def member() -> tuple | None:
        with missions_db.connect() as conn:
            return conn.execute(
                text("SELECT role, display_name FROM members WHERE user_id = :id"),
                {
                    "id": uuid.UUID(user_id)
                    if missions_db.dialect.name == "postgresql"
                    else uuid.UUID(user_id).hex
                },
            ).first()

    row = wait_until(member, timeout=15, message="the missions projection")
    assert tuple(row) == ("client", "Claire D.")
    missions_db.dispose()

    published = wait_until(platform.tapped, timeout=5, message="the tapped events")
    events = [parse_event(message["body"]) for message in published]  # raises if any breaks its contract
    assert [e.type for e in events] == ["UserRegistered"]
    assert events[0].data["user_id"] == user_id
    # The request id of the sign-up travels with the event it caused.
    assert events[0].correlation_id == "skeleton-1"
