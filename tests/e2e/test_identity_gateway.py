"""Accounts, tokens, suspensions and plan entitlements through the gateway (issue 3: R1-R3, R21).

Real HTTP at the gateway of the ``make run`` processes, on PostgreSQL and RabbitMQ. Trust &
safety's and subscriptions' events are put on the exchange as those services would publish them
(they are later issues). One platform serves the whole module; the test that stops a service
runs last.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, text

from clikopro_chassis.bus.connection import broker_connection
from clikopro_chassis.bus.publisher import ConfirmingPublisher, OutgoingMessage
from clikopro_chassis.db import normalise_url
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until
from clikopro_contracts import make_event

from .conftest import launcher

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

#: Verifiers refetch the JWKS for an unknown key id at most once a second here (30 s by default),
#: and a rotated key signs 2 s after it is published: the rotation test need not wait long.
PLATFORM_ENV = {"JWKS_REFRESH_COOLDOWN_SECONDS": "1", "KEY_ACTIVATION_DELAY_SECONDS": "2"}
PASSWORD = "une phrase de passe assez longue"


@pytest.fixture(scope="module")
def edge(servers_platform) -> Any:
    platform = servers_platform
    # Identity's worker declares its queue when it starts: wait for it, so that no suspension
    # published by a test is dropped as unroutable.
    queue = f"{platform.bus.prefix}.identity"

    def identity_queue_declared() -> bool:
        with broker_connection(platform.service_env("identity")["BROKER_URL"]) as conn:
            try:
                conn.channel().queue_declare(queue=queue, passive=True)
                return True
            except Exception:  # noqa: BLE001
                return False

    wait_until(identity_queue_declared, timeout=30, message="identity's queue")
    return platform


def gateway(edge: Any) -> httpx.Client:
    return httpx.Client(base_url=edge.gateway_url, timeout=15)


def publish(edge: Any, event_type: str, data: dict[str, Any], producer: str) -> None:
    """Put an event on the exchange as ``producer`` would (persistent, confirmed)."""
    event = make_event(event_type, data, producer=producer, correlation_id=str(uuid.uuid4()))
    publisher = ConfirmingPublisher(broker_connection(edge.service_env("identity")["BROKER_URL"]))
    try:
        publisher.publish(
            [
                OutgoingMessage(
                    body=json.dumps(event.to_dict()),
                    routing_key=event.routing_key,
                    exchange=f"{edge.bus.prefix}.events",
                    message_id=event.id,
                    type=event.type,
                )
            ]
        )
    finally:
        publisher.close()


def client_body(**changes: Any) -> dict[str, Any]:
    return {
        "role": "client",
        "email": f"lea.{uuid.uuid4().hex[:8]}@example.fr",
        "password": PASSWORD,
        "first_name": "Léa",
        "last_name": "Martin",
        "phone": "06 12 34 56 78",
        **changes,
    }


def pro_body(**changes: Any) -> dict[str, Any]:
    pro = {
        "role": "pro",
        "company_name": "Plomberie Durand",
        "siret": "73282932000074",
        "insurance": {"insurer": "MAAF Pro", "policy_number": "RC-2026-118", "valid_until": "2030-06-30"},
        "trades": ["plomberie"],
        "postcode": "69003",
    }
    return client_body(**{**pro, "last_name": "Durand", **changes})


def sign_up(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def log_in(http: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return http.post("/api/v1/auth/token", json={"email": email, "password": password})


def tokens_for(http: httpx.Client, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    user = sign_up(http, body)
    response = log_in(http, body["email"])
    assert response.status_code == 200, response.text
    return user, response.json()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text
    return response.json()


# -- sign-up ----------------------------------------------------------------------------------------


def test_sign_up_and_every_validation_error(edge: Any) -> None:
    http = gateway(edge)
    pro = sign_up(http, pro_body(siret="732 829 320 00074", phone="06.12.34.56.78"))
    assert pro["role"] == "pro" and pro["phone"] == "+33612345678"
    assert pro["pro_profile"]["siret"] == "73282932000074"
    assert pro["pro_profile"]["insurance_valid_until"] == "2030-06-30" and pro["pro_profile"]["verified_at"]

    bad_siret = problem(http.post("/api/v1/auth/register", json=pro_body(siret="73282932000075")), 422,
                        "validation_error")  # fmt: skip
    assert bad_siret["errors"] == [{"field": "siret", "message": "is not a valid SIRET (wrong check digit)"}]
    expired = pro_body(insurance={"insurer": "MAAF", "policy_number": "RC-1", "valid_until": "2024-12-31"})
    body = problem(http.post("/api/v1/auth/register", json=expired), 422, "validation_error")
    assert body["errors"] == [
        {"field": "insurance.valid_until", "message": "the policy expired on 2024-12-31"}
    ]
    weak = problem(http.post("/api/v1/auth/register", json=client_body(password="motdepasse")), 422,
                   "validation_error")  # fmt: skip
    assert [e["field"] for e in weak["errors"]] == ["password"]
    duplicate = client_body()
    sign_up(http, duplicate)
    shouted = {**duplicate, "email": duplicate["email"].upper()}
    again = problem(http.post("/api/v1/auth/register", json=shouted), 409, "conflict")
    assert again["errors"] == [{"field": "email", "message": "already used"}]
    # Staff accounts are never made by public sign-up.
    problem(http.post("/api/v1/auth/register", json=client_body(role="admin")), 400, "validation_error")


# -- sessions ---------------------------------------------------------------------------------------


def test_login_refresh_rotation_reuse_and_logout(edge: Any) -> None:
    http = gateway(edge)
    body = client_body()
    user, first = tokens_for(http, body)
    me = http.get("/api/v1/me", headers=bearer(first))
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    problem(log_in(http, body["email"], "not the passphrase"), 401, "unauthenticated")

    second = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert http.get("/api/v1/me", headers=bearer(second)).status_code == 200

    # Replaying the spent token revokes the whole family, the latest token included.
    problem(http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401,
            "unauthenticated")  # fmt: skip
    problem(http.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401,
            "unauthenticated")  # fmt: skip

    third = log_in(http, body["email"]).json()
    assert http.post("/api/v1/auth/logout", json={"refresh_token": third["refresh_token"]}).status_code == 204
    problem(http.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]}), 401,
            "unauthenticated")  # fmt: skip


def test_login_throttling_answers_rate_limited(edge: Any) -> None:
    http = gateway(edge)
    body = client_body()
    sign_up(http, body)
    for _ in range(5):
        problem(log_in(http, body["email"], "wrong passphrase!"), 401, "unauthenticated")
    throttled = problem(log_in(http, body["email"]), 429, "rate_limited")
    assert int(throttled["retry_after"]) > 0


# -- tokens -----------------------------------------------------------------------------------------


def identity_db(edge: Any):
    return create_engine(normalise_url(edge.service_env("identity")["DATABASE_URL"]))


def test_key_rotation_logs_nobody_out(edge: Any) -> None:
    http = gateway(edge)
    body = client_body()
    _, old = tokens_for(http, body)
    old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
    assert http.get("/api/v1/me", headers=bearer(old)).status_code == 200

    rotated = subprocess.run(
        [str(launcher.BIN / "clikopro-identity"), "rotate-keys"],
        env=edge.service_env("identity"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    kids = [k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]]
    assert old_kid in kids and len(kids) == 2  # the new key is published before it signs
    time.sleep(2.2)  # KEY_ACTIVATION_DELAY_SECONDS
    new = log_in(http, body["email"]).json()
    assert jwt.get_unverified_header(new["access_token"])["kid"] != old_kid
    for tokens in (old, new):  # the gateway and identity learn the new key; the old one still verifies
        assert http.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refreshed.status_code == 200  # refresh tokens do not depend on the keys


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_expired_and_unsigned_tokens_are_refused_at_the_gateway(edge: Any, tmp_path) -> None:
    http = gateway(edge)
    _, tokens = tokens_for(http, client_body())
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    with identity_db(edge).connect() as conn:
        pem = conn.execute(text("SELECT private_key_pem FROM signing_keys WHERE kid = :kid"),
                           {"kid": header["kid"]}).scalar_one()  # fmt: skip
    identity_key = serialization.load_pem_private_key(pem.encode(), password=None)
    now = int(time.time())
    expired = jwt.encode({**claims, "iat": now - 2000, "exp": now - 1000}, identity_key, "RS256",
                         headers={"kid": header["kid"]})  # fmt: skip
    other_audience = jwt.encode(
        {**claims, "aud": "another-api"}, identity_key, "RS256", headers={"kid": header["kid"]}
    )
    impostor = TokenFactory(tmp_path / "impostor", kid=header["kid"])  # same key id, another key
    forged = impostor.token(claims["sub"], "admin")
    unsigned = (
        f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{b64({**claims, 'role': 'admin'})}."
    )
    for token in (expired, other_audience, forged, unsigned):
        problem(http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")
    problem(http.get("/api/v1/me"), 401, "unauthenticated")
    assert http.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    impostor.close()


# -- suspensions ------------------------------------------------------------------------------------


def suspend(edge: Any, user_id: str) -> float:
    data = {"user_id": user_id, "reason": "Fraude", "until": None, "suspended_by": None,
            "suspended_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    publish(edge, "AccountSuspended", data, "trust-safety")
    return time.monotonic()


def reinstate(edge: Any, user_id: str) -> None:
    data = {"user_id": user_id, "reinstated_by": None, "reinstated_at": dt.datetime.now(dt.UTC)}
    publish(edge, "AccountReinstated", data, "trust-safety")


def test_a_suspended_account_is_refused_within_2_seconds_and_let_in_after_reinstatement(edge: Any) -> None:
    http = gateway(edge)
    body = client_body()
    user, tokens = tokens_for(http, body)
    assert http.get("/api/v1/me", headers=bearer(tokens)).status_code == 200

    published = suspend(edge, user["id"])
    wait_until(
        lambda: http.get("/api/v1/me", headers=bearer(tokens)).status_code == 403, timeout=2, interval=0.05
    )
    assert time.monotonic() - published < 2
    problem(http.get("/api/v1/me", headers=bearer(tokens)), 403, "account_suspended")  # token still valid
    # Identity, from the same event: no sign-in, no refresh.
    wait_until(lambda: log_in(http, body["email"]).status_code == 403, timeout=10)
    problem(log_in(http, body["email"]), 403, "account_suspended")
    problem(http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 403,
            "account_suspended")  # fmt: skip

    reinstate(edge, user["id"])
    wait_until(lambda: http.get("/api/v1/me", headers=bearer(tokens)).status_code == 200, timeout=2)
    wait_until(lambda: log_in(http, body["email"]).status_code == 200, timeout=10)


def test_a_restarted_gateway_refuses_suspended_accounts_at_once(edge: Any) -> None:
    http = gateway(edge)
    user, tokens = tokens_for(http, client_body())
    suspend(edge, user["id"])
    wait_until(lambda: http.get("/api/v1/me", headers=bearer(tokens)).status_code == 403, timeout=2)
    # identity recorded it too (its list is what a new gateway starts from)
    wait_until(lambda: user["id"] in identity_suspended(edge), timeout=10)

    [child] = [c for c in edge.children if c.name == "gateway"]
    child.process.terminate()
    child.process.wait(15)
    child.process = subprocess.Popen(
        child.argv, env=child.env, cwd=launcher.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    wait_until(edge.ready, timeout=30, message="the restarted gateway")
    problem(http.get("/api/v1/me", headers=bearer(tokens)), 403, "account_suspended")
    reinstate(edge, user["id"])
    wait_until(lambda: http.get("/api/v1/me", headers=bearer(tokens)).status_code == 200, timeout=2)


def identity_suspended(edge: Any) -> set[str]:
    port = edge.service_port(dict((s, p) for s, _, p in launcher.SERVICES)["identity"])
    items = httpx.get(
        f"http://127.0.0.1:{port}/internal/suspensions",
        headers={"X-Internal-Token": edge.base_env["INTERNAL_API_TOKEN"]},
        timeout=5,
    ).json()["items"]
    return {i["user_id"] for i in items}


# -- entitlements -----------------------------------------------------------------------------------


def plan_event(edge: Any, event_type: str, pro_id: str, features: list[str], **extra: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    data = {
        "subscription_id": uuid.uuid4(),
        "pro_id": pro_id,
        "plan": "pro" if features else "free",
        "features": features,
        "proposals_per_month": None if "unlimited_proposals" in features else 5,
        "commission_rate_bps": 800,
        "period_start": now - dt.timedelta(days=1),
        "period_end": now + dt.timedelta(days=365) if features else None,
        "effective_at": now,
        **extra,
    }
    publish(edge, event_type, data, "subscriptions")


PAID = ["direct_payment", "appointments", "unlimited_proposals"]


def test_paid_features_are_refused_on_the_free_plan_and_allowed_on_a_paid_one(edge: Any) -> None:
    http = gateway(edge)
    pro, tokens = tokens_for(http, pro_body())
    _, client_tokens = tokens_for(http, client_body())
    as_pro, as_client = bearer(tokens), bearer(client_tokens)
    mission = uuid.uuid4()
    task = {"title": "Réparation", "amount_cents": 50_000, "due_date": "2030-01-15"}
    proposal = {
        "amount_cents": 50_000,
        "message": "Intervention sous 48 h",
        "payment_mode": "direct",
        "tasks": [task],
    }
    slot = {"pro_id": pro["id"], "starts_at": "2030-01-10T09:00:00Z", "ends_at": "2030-01-10T10:00:00Z",
            "message": "Devis"}  # fmt: skip
    calls = [
        ("POST", f"/api/v1/missions/{mission}/proposals", as_pro, proposal, "direct_payment"),
        ("PUT", "/api/v1/appointments/availability", as_pro, {"slots": []}, "appointments"),
        ("POST", f"/api/v1/appointments/{uuid.uuid4()}/accept", as_pro, {}, "appointments"),
        ("POST", "/api/v1/appointments", as_client, slot, "appointments"),
    ]
    # No subscription event yet, and no answer from subscriptions: the free plan.
    for method, path, headers, body, feature in calls:
        refused = problem(http.request(method, path, json=body, headers=headers), 403, "plan_required")
        assert refused["feature"] == feature

    plan_event(edge, "SubscriptionActivated", pro["id"], PAID)

    def allowed(call: tuple) -> bool:
        method, path, headers, body, _ = call
        response = http.request(method, path, json=body, headers=headers)
        # The request went on to the owning service, which answers for itself (the mission or
        # appointment does not exist here, and some routes are not built yet).
        return response.status_code != 403 or response.json()["code"] != "plan_required"

    wait_until(lambda: allowed(calls[0]), timeout=2)
    assert all(allowed(call) for call in calls)

    plan_event(edge, "SubscriptionLapsed", pro["id"], [], lapsed_plan="pro", reason="payment_failed")
    wait_until(lambda: not allowed(calls[0]), timeout=2)
    assert not any(allowed(call) for call in calls)


# -- failures (last: stops a service) ----------------------------------------------------------------


def test_a_service_that_is_down_gives_a_problem_quickly(edge: Any) -> None:
    http = gateway(edge)
    _, tokens = tokens_for(http, client_body())
    [reputation] = [c for c in edge.children if c.name == "reputation"]
    reputation.process.terminate()
    reputation.process.wait(15)
    started = time.monotonic()
    response = http.get("/api/v1/pros")
    assert time.monotonic() - started < 1
    problem(response, 503, "service_unavailable")
    problem(
        http.get(f"/api/v1/pros/{uuid.uuid4()}/reviews", headers=bearer(tokens)), 503, "service_unavailable"
    )
