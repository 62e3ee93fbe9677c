"""Sign-up through identity's HTTP API (the skeleton's part of R1)."""

from __future__ import annotations

from typing import Any

import pytest
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
    response = client.post("/api/v1/auth/register", json=pro_body(siret="732 829 320 00074"))
    assert response.status_code == 201, response.text
    registered, verified = outbox_events(services.database)
    assert registered.type == "UserRegistered"
    assert registered.data["pro_profile"] == {
        "company_name": "Plomberie Durand",
        "trades": ["plomberie"],
        "postcode": "69003",
    }
    # The SIRET and the insurance passed: the professional is verified at once.
    assert_like_example(verified)
    assert verified.type == "ProfessionalVerified"
    assert verified.data["user_id"] == response.json()["id"]
    assert verified.data["siret"] == "73282932000074"  # stored compact
    assert verified.data["insurance_valid_until"] == "2027-06-30"
    profile = response.json()["pro_profile"]
    assert profile["insurance_valid_until"] == "2027-06-30" and profile["verified_at"]


def test_a_la_poste_siret_passes_on_its_own_rule(client: TestClient) -> None:
    # 356 000 000 is La Poste: its establishments fail Luhn; their digits add up to a multiple of 5.
    response = client.post("/api/v1/auth/register", json=pro_body(siret="35600000049837"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"siret": "73282932000075"}, "siret", "wrong check digit"),
        ({"siret": "7328293200007"}, "siret", "14 digits"),
        ({"siret": "7328293200007A"}, "siret", "digits only"),
        ({"siret": "35600000049838"}, "siret", "wrong check digit"),  # La Poste, wrong sum
        (
            {"insurance": {"insurer": "MAAF Pro", "policy_number": "RC-1", "valid_until": "2020-01-31"}},
            "insurance.valid_until",
            "expired on 2020-01-31",
        ),
        ({"phone": "12345"}, "phone", "not a valid phone number"),
        ({"phone": "call me"}, "phone", "not a phone number"),
        ({"password": "azertyuiop2024"}, "password", "too common"),
        ({"password": "aaaaaaaaaaaa"}, "password", "different characters"),
        ({"password": "durand-plombier-1"}, "password", "e-mail address or name"),
    ],
)
def test_each_invalid_field_is_named(
    client: TestClient, services: Services, changes: dict, field: str, message: str
) -> None:
    response = client.post("/api/v1/auth/register", json=pro_body(last_name="Durand", **changes))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert error["field"] == field and message in error["message"]
    assert outbox_events(services.database) == []


def test_every_error_is_listed_at_once(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json=pro_body(siret="12345678901234", phone="0", password="short"),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"siret", "phone", "password"}


@pytest.mark.parametrize(
    "written", ["06 12 34 56 78", "06.12.34.56.78", "0033 6 12 34 56 78", "+33612345678"]
)
def test_french_numbers_are_stored_in_e164(client: TestClient, written: str) -> None:
    response = client.post("/api/v1/auth/register", json=client_body(phone=written))
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+33612345678"


def test_staff_roles_cannot_sign_up(client: TestClient) -> None:
    for role in ("moderator", "admin"):
        response = client.post("/api/v1/auth/register", json=client_body(role=role))
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "role"


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
