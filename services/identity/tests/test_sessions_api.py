"""Sign-in, refresh, sign-out, throttling, suspensions, keys and /me through identity's HTTP API."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from clikopro_chassis.auth import TOKEN_AUDIENCE, TOKEN_ISSUER
from clikopro_chassis.testing.services import INTERNAL_TEST_HEADERS, outbox_events
from clikopro_contracts import make_event, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import assert_like_example
from clikopro_identity.bootstrap import Services
from clikopro_identity.service_layer.handlers import HANDLERS

PASSWORD = "a long enough passphrase"


def sign_up(client: TestClient, email: str = "lea@example.fr", **changes: Any) -> dict[str, Any]:
    body = {
        "role": "client",
        "email": email,
        "password": PASSWORD,
        "first_name": "Léa",
        "last_name": "Martin",
        "phone": "06 12 34 56 78",
        **changes,
    }
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def log_in(client: TestClient, email: str = "lea@example.fr", password: str = PASSWORD, **kwargs: Any):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password}, **kwargs)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_sign_in_gives_a_short_lived_rs256_token_with_the_role(
    client: TestClient, services: Services
) -> None:
    user = sign_up(client, email="Lea@Example.fr")
    response = log_in(client, email="LEA@example.FR")  # e-mails are case-insensitive
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256"
    jwks = client.get("/.well-known/jwks.json").json()
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert set(key) >= {"kty", "n", "e", "kid", "alg", "use"} and "d" not in key  # public part only
    claims = jwt.decode(
        tokens["access_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=TOKEN_AUDIENCE,
        issuer=TOKEN_ISSUER,
    )
    assert claims["sub"] == user["id"] and claims["role"] == "client"
    assert claims["exp"] - claims["iat"] == 900

    me = client.get("/api/v1/me", headers=bearer(tokens))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"] and me.json()["phone"] == "+33612345678"
    assert "password_hash" not in me.text


def test_a_wrong_password_or_an_unknown_account_get_the_same_answer(client: TestClient) -> None:
    sign_up(client)
    wrong = log_in(client, password="not the passphrase")
    unknown = log_in(client, email="nobody@example.fr")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "unauthenticated"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_repeated_failures_on_one_account_are_throttled_with_retry_after(
    client: TestClient, services: Services
) -> None:
    sign_up(client)
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    services.now = lambda: now
    for _ in range(5):
        assert log_in(client, password="not the passphrase").status_code == 401
    throttled = log_in(client)  # even the right password: the account is throttled
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert throttled.headers["retry-after"] == "900"
    # Another account from another address is not affected.
    sign_up(client, email="marc@example.fr")
    assert (
        log_in(client, email="marc@example.fr", headers={"X-Forwarded-For": "198.51.100.7"}).status_code
        == 200
    )
    # Once the window has passed, the right password works again.
    services.now = lambda: now + dt.timedelta(seconds=901)
    assert log_in(client).status_code == 200


def test_failures_from_one_address_are_throttled_across_accounts(
    client: TestClient, services: Services
) -> None:
    services.settings = services.settings.replace(login_max_failures_per_ip=3)
    sign_up(client)
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for n in range(3):
        assert log_in(client, email=f"guess{n}@example.fr", headers=attacker).status_code == 401
    assert log_in(client, headers=attacker).status_code == 429
    # The gateway appends the address it saw last: a client cannot pick another one.
    spoofed = {"X-Forwarded-For": "10.0.0.1, 203.0.113.9"}
    assert log_in(client, headers=spoofed).status_code == 429
    assert log_in(client, headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    # The gateway says who called in X-Client-Ip.
    for n in range(3):
        log_in(client, email=f"other{n}@example.fr", headers={"X-Client-Ip": "198.51.100.20"})
    assert log_in(client, headers={"X-Client-Ip": "198.51.100.20"}).status_code == 429


def test_refresh_rotates_and_a_replayed_token_revokes_the_whole_family(client: TestClient) -> None:
    sign_up(client)
    first = log_in(client).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    third = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).json()

    # The first token, already spent, is replayed (stolen): the family is revoked...
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["code"] == "unauthenticated"
    assert "already used" in replay.json()["detail"]
    # ... so the legitimate latest token is dead too.
    latest = client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert latest.status_code == 401
    # Another session of the same user is not affected.
    other = log_in(client).json()
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200
    )


def test_an_expired_or_unknown_refresh_token_is_refused(client: TestClient, services: Services) -> None:
    sign_up(client)
    tokens = log_in(client).json()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"}).status_code == 401
    later = services.now() + dt.timedelta(days=31)
    services.now = lambda: later
    expired = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert expired.status_code == 401


def test_logout_revokes_the_session(client: TestClient) -> None:
    sign_up(client)
    tokens = log_in(client).json()
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    )
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    # Logging out twice, or with an unknown token, is not an error and tells nothing.
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    )
    assert client.post("/api/v1/auth/logout", json={"refresh_token": "made-up"}).status_code == 204


def handle(services: Services, event_type: str, data: dict[str, Any]) -> None:
    event = make_event(event_type, data, producer="trust-safety", correlation_id=str(uuid.uuid4()))
    with services.database.session() as session, session.begin(), services.joined_uow(session) as uow:
        HANDLERS[event_type](event, uow)
        uow.commit()


def test_a_suspended_account_can_neither_sign_in_nor_refresh_until_reinstated(
    client: TestClient, services: Services
) -> None:
    user = sign_up(client)
    tokens = log_in(client).json()
    at = services.now()
    handle(
        services,
        "AccountSuspended",
        {"user_id": user["id"], "reason": "fraud", "until": None, "suspended_by": None, "suspended_at": at},
    )
    for response in (
        log_in(client),
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "account_suspended"
    # A wrong password still says only "wrong password": the suspension is not revealed.
    assert log_in(client, password="not the passphrase").status_code == 401
    listed = client.get("/internal/suspensions", headers=INTERNAL_TEST_HEADERS).json()["items"]
    assert [s["user_id"] for s in listed] == [user["id"]]

    # A reinstatement older than the suspension (out of order) changes nothing.
    handle(services, "AccountReinstated", {"user_id": user["id"], "reinstated_by": None,
                                           "reinstated_at": at - dt.timedelta(seconds=5)})  # fmt: skip
    assert log_in(client).status_code == 403

    handle(services, "AccountReinstated", {"user_id": user["id"], "reinstated_by": str(uuid.uuid4()),
                                           "reinstated_at": at + dt.timedelta(seconds=5)})  # fmt: skip
    assert client.get("/internal/suspensions", headers=INTERNAL_TEST_HEADERS).json()["items"] == []
    assert log_in(client).status_code == 200
    # The sessions of before the suspension were revoked: it signs in again.
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )


def test_a_temporary_suspension_ends_at_its_until(client: TestClient, services: Services) -> None:
    user = sign_up(client)
    at = services.now()
    until = at + dt.timedelta(hours=1)
    handle(services, "AccountSuspended", {"user_id": user["id"], "reason": "checks", "suspended_by": None,
                                          "until": until, "suspended_at": at})  # fmt: skip
    assert log_in(client).status_code == 403
    services.now = lambda: at + dt.timedelta(hours=1, seconds=1)
    assert log_in(client).status_code == 200


def test_the_handlers_accept_trust_safetys_example_events(services: Services) -> None:
    for event_type in ("AccountSuspended", "AccountReinstated"):  # the consumer side of the contract
        event = parse_event(json.dumps(example(event_type, 1)))
        with services.database.session() as session, session.begin(), services.joined_uow(session) as uow:
            HANDLERS[event_type](event, uow)
            uow.commit()


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    client: TestClient, services: Services
) -> None:
    # In the past, so that the tokens signed "later" are not in the future for the verifier.
    now = services.now() - dt.timedelta(seconds=300)
    services.now = lambda: now
    sign_up(client)
    old = log_in(client).json()
    old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
    new_kid = services.keys.rotate(now, dt.timedelta(seconds=60))
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    assert set(kids) == {old_kid, new_kid}  # published at once...
    assert (
        jwt.get_unverified_header(log_in(client).json()["access_token"])["kid"] == old_kid
    )  # ...signs later
    services.now = lambda: now + dt.timedelta(seconds=61)
    new = log_in(client).json()
    assert jwt.get_unverified_header(new["access_token"])["kid"] == new_kid
    for tokens in (old, new):
        assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    # The old key leaves the JWKS once every token it signed has expired.
    services.now = lambda: now + dt.timedelta(seconds=61 + 900 + 61)
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]] == [new_kid]


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_tokens_are_refused_at_me(client: TestClient, services: Services) -> None:
    user = sign_up(client)
    tokens = log_in(client).json()
    head, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    as_admin = f"{head}.{b64({**claims, 'role': 'admin'})}.{signature}"
    unsigned = f"{b64({'alg': 'none', 'kid': kid})}.{b64(claims)}."
    now = int(services.now().timestamp())
    expired = services.keys.sign({**claims, "iat": now - 2000, "exp": now - 1000}, services.now())
    other_audience = services.keys.sign({**claims, "aud": "another-api"}, services.now())
    for token in (as_admin, unsigned, expired, other_audience, "not-a-jwt"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["code"] == "unauthenticated"
    assert client.get("/api/v1/me").status_code == 401
    assert user["id"]


def test_contact_details_change_and_are_published(client: TestClient, services: Services) -> None:
    user = sign_up(client)
    sign_up(client, email="taken@example.fr")
    headers = bearer(log_in(client).json())
    changed = client.patch(
        "/api/v1/me", json={"phone": "06 98 76 54 32", "first_name": "Léonie"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "+33698765432" and changed.json()["first_name"] == "Léonie"
    [event] = outbox_events(services.database, "ContactDetailsChanged")
    assert_like_example(event)
    expected = {"user_id": user["id"], "phone": "+33698765432", "first_name": "Léonie", "last_name": "Martin",
                "email": "lea@example.fr"}  # fmt: skip
    assert event.data == {**event.data, **expected}

    # The e-mail is the login: changing it needs the current password.
    no_password = client.patch("/api/v1/me", json={"email": "lea.m@example.fr"}, headers=headers)
    assert no_password.status_code == 422 and no_password.json()["errors"][0]["field"] == "current_password"
    wrong = client.patch(
        "/api/v1/me", json={"email": "lea.m@example.fr", "current_password": "nope"}, headers=headers
    )
    assert wrong.status_code == 422
    taken = client.patch(
        "/api/v1/me", json={"email": "TAKEN@example.fr", "current_password": PASSWORD}, headers=headers
    )
    assert taken.status_code == 409
    moved = client.patch(
        "/api/v1/me", json={"email": "Lea.M@example.fr", "current_password": PASSWORD}, headers=headers
    )
    assert moved.status_code == 200 and moved.json()["email"] == "lea.m@example.fr"
    assert log_in(client, email="lea.m@example.fr").status_code == 200
    assert len(outbox_events(services.database, "ContactDetailsChanged")) == 2
    # Nothing changed: nothing published.
    client.patch("/api/v1/me", json={"first_name": "Léonie"}, headers=headers)
    assert len(outbox_events(services.database, "ContactDetailsChanged")) == 2
    bad = client.patch("/api/v1/me", json={"phone": "123"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone"


def test_only_the_cli_makes_staff(
    services: Services, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import io

    from clikopro_identity.entrypoints import cli

    monkeypatch.setattr(cli, "bootstrap", lambda: services)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["create-staff", "--role", "moderator", "--email", "Mod@CliKoPro.fr", "--first-name", "Sam",
                  "--last-name", "Moreau", "--password-stdin"])  # fmt: skip
    assert exit_.value.code == 0
    assert "moderator mod@clikopro.fr created" in capsys.readouterr().out
    [event] = outbox_events(services.database, "UserRegistered")
    assert event.data["role"] == "moderator" and event.data["phone"] is None

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["create-staff", "--role", "admin", "--email", "a@clikopro.fr", "--first-name", "A",
                  "--last-name", "B", "--password-stdin"])  # fmt: skip
    assert exit_.value.code == 1
    assert "password" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exit_:
        cli.main(["rotate-keys", "--activate-in", "0"])
    assert exit_.value.code == 0
    assert "new signing key" in capsys.readouterr().out


@pytest.mark.parametrize("headers", [{}, {"X-Internal-Token": "guess"}, {"Authorization": "Bearer x"}])
def test_the_suspension_list_is_for_the_gateway_only(client: TestClient, headers: dict) -> None:
    response = client.get("/internal/suspensions", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
