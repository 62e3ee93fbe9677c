"""Sign-up through identity's HTTP API (the skeleton's part of R1)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from clikopro_chassis.testing.services import outbox_events
from clikopro_contracts.testing import assert_like_example
from clikopro_identity.bootstrap import Services


def client_body(**changes: Any) -> dict[str, Any]:
    body = {
        "role": "client",
        "email": "Lea.Martin@Example.fr",
        "password": "a long enough passphrase",
        "first_name": "Léa",
        "last_name": "Martin",
        "phone": "+33612345678",
    }
    return {**body, **changes}


def pro_body(**changes: Any) -> dict[str, Any]:
    pro = {
        "role": "pro",
        "email": "contact@plomberie-durand.fr",
        "company_name": "Plomberie Durand",
        "siret": "73282932000074",
        "insurance": {"insurer": "MAAF Pro", "policy_number": "RC-2026-118", "valid_until": "2027-06-30"},
        "trades": ["plomberie"],
        "postcode": "69003",
    }
    return client_body(**{**pro, **changes})


def test_a_client_signs_up_and_userregistered_is_written_with_the_account(
    client: TestClient, services: Services
) -> None:
    response = client.post("/api/v1/auth/register", json=client_body())
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == "lea.martin@example.fr"  # stored normalised
    assert user["role"] == "client" and user["status"] == "active"
    assert "password" not in response.text and "password_hash" not in response.text

    [event] = outbox_events(services.database)
    assert_like_example(event)  # the producer side of the contract test
    assert event.type == "UserRegistered" and event.producer == "identity"
    assert event.data["user_id"] == user["id"]
    assert event.data["pro_profile"] is None
    assert event.correlation_id == response.headers["x-request-id"]


def test_a_professional_signs_up_with_the_public_profile_in_the_event(
    client: TestClient, services: Services
) -> None:
    response = client.post("/api/v1/auth/register", json=pro_body())
    assert response.status_code == 201, response.text
    [event] = outbox_events(services.database)
    assert event.data["pro_profile"] == {
        "company_name": "Plomberie Durand",
        "trades": ["plomberie"],
        "postcode": "69003",
    }


def test_an_email_is_taken_whatever_its_case(client: TestClient, services: Services) -> None:
    assert client.post("/api/v1/auth/register", json=client_body()).status_code == 201
    again = client.post("/api/v1/auth/register", json=client_body(email="LEA.MARTIN@example.FR"))
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert again.json()["errors"] == [{"field": "email", "message": "already used"}]
    assert len(outbox_events(services.database)) == 1  # nothing emitted for the refused sign-up


def test_field_errors_are_listed(client: TestClient, services: Services) -> None:
    short = client.post("/api/v1/auth/register", json=client_body(password="short"))
    assert short.status_code == 422
    assert short.json()["code"] == "validation_error"
    assert {e["field"] for e in short.json()["errors"]} == {"password"}

    incomplete_pro = client.post("/api/v1/auth/register", json=client_body(role="pro"))
    assert incomplete_pro.status_code == 422
    assert {e["field"] for e in incomplete_pro.json()["errors"]} == {
        "company_name", "siret", "insurance", "trades", "postcode"
    }  # fmt: skip

    shape = client.post("/api/v1/auth/register", json=pro_body(postcode="Lyon", role="admin"))
    assert shape.status_code == 400
    assert {e["field"] for e in shape.json()["errors"]} == {"postcode", "role"}
    assert outbox_events(services.database) == []
