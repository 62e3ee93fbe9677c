"""The gateway over real HTTP in front of fake services: every edge rule, and attempts to break it."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
import redis
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clikopro_chassis.testing.http import free_port, serve
from clikopro_chassis.testing.queues import publish_raw
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_chassis.testing.waiting import wait_until

from .conftest import Edge


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


# -- tokens ---------------------------------------------------------------------------------------


def test_public_routes_pass_without_a_token(edge: Edge) -> None:
    for method, path in [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/api/v1/plans"),
        ("GET", "/api/v1/pros"),
        ("GET", f"/api/v1/pros/{uuid.uuid4()}/reviews"),
        ("GET", "/api/v1/ranking-criteria"),
        ("POST", "/api/v1/payments/webhooks/stripe"),
        ("POST", "/api/v1/subscriptions/webhooks/stripe"),
    ]:
        response = edge.request(method, path, json={})
        assert response.status_code == 200, (method, path, response.text)
    assert len(edge.services.received) == 11


def test_every_other_route_needs_a_valid_token(edge: Edge, tmp_path) -> None:
    user = uuid.uuid4()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": "clikopro-identity", "aud": "clikopro-api", "sub": str(user), "role": "admin",
              "iat": now, "exp": now + 300}  # fmt: skip
    impostor = TokenFactory(tmp_path / "impostor", kid=edge.issuer.kid)  # same key id, another key
    public_pem = edge.issuer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    hs_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': edge.issuer.kid})}.{b64(claims)}"
    hs_signature = base64.urlsafe_b64encode(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
    valid = edge.issuer.token(user, "client")
    head, _payload, signature = valid.split(".")
    refused = {
        "no header": None,
        "basic": "Basic dXNlcjpwYXNz",
        "empty bearer": "Bearer",
        "garbage": "Bearer not.a.jwt",
        "expired": f"Bearer {edge.issuer.token(user, expires_in=-60)}",
        "alg none": f"Bearer {b64({'alg': 'none', 'typ': 'JWT', 'kid': edge.issuer.kid})}.{b64(claims)}.",
        "another key": f"Bearer {impostor.token(user, 'admin')}",
        "hmac with the public key": f"Bearer {hs_input}.{hs_signature.rstrip(b'=').decode()}",
        "another audience": f"Bearer {edge.issuer.token(user, aud='another-api')}",
        "another issuer": f"Bearer {edge.issuer.token(user, iss='someone-else')}",
        "unknown role": f"Bearer {edge.issuer.token(user, 'superuser')}",
        "claims changed": f"Bearer {head}.{b64({**claims, 'role': 'admin'})}.{signature}",
        "unknown key id": f"Bearer {TokenFactory(tmp_path / 'other').token(user)}",
    }
    for path in ("/api/v1/me", "/api/v1/missions", f"/api/v1/appointments/{uuid.uuid4()}", "/api/v1/plans/x"):
        for name, authorization in refused.items():
            headers = {"Authorization": authorization} if authorization else {}
            body = problem(edge.get(path, headers=headers), 401, "unauthenticated")
            assert body["request_id"], name
    assert edge.services.received == []  # nothing reached a service
    assert edge.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"}).status_code == 200
    # Writing to a public read route is not public.
    problem(edge.post("/api/v1/plans", json={}), 401, "unauthenticated")
    problem(edge.post("/api/v1/pros", json={}), 401, "unauthenticated")


def test_the_request_reaches_the_service_with_its_token_and_request_id(edge: Edge) -> None:
    headers = edge.issuer.headers(uuid.uuid4(), "pro") | {"X-Request-Id": "edge-1"}
    response = edge.get("/api/v1/missions?trade=plomberie", headers=headers)
    assert response.status_code == 200 and response.headers["x-request-id"] == "edge-1"
    [received] = edge.services.received
    assert received["path"] == "/api/v1/missions"
    # The service verifies the token again itself: the gateway passes it on, unchanged.
    assert received["headers"]["authorization"] == headers["Authorization"]
    assert received["headers"]["x-request-id"] == "edge-1"


def test_the_service_learns_the_callers_address_and_the_client_cannot_choose_it(edge: Edge) -> None:
    edge.post("/api/v1/auth/token", json={}, headers={"X-Client-Ip": "203.0.113.66"})
    assert edge.services.received[-1]["headers"]["x-client-ip"] == "127.0.0.1"  # the peer, not the claim
    # X-Forwarded-For counts only from a trusted proxy (FORWARDED_ALLOW_IPS; 127.0.0.1 by default,
    # which is where this test's client is).
    edge.post(
        "/api/v1/auth/token",
        json={},
        headers={"X-Client-Ip": "203.0.113.66", "X-Forwarded-For": "198.51.100.1"},
    )
    assert edge.services.received[-1]["headers"]["x-client-ip"] == "198.51.100.1"


def test_a_large_answer_streams_through_whole(edge: Edge) -> None:
    response = edge.get("/api/v1/missions/big/invoices/download", headers=edge.issuer.headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf" and response.headers["x-pages"] == "40"
    assert response.content == b"".join(bytes([n]) * 65536 for n in range(40))
    head = edge.request("HEAD", "/api/v1/me", headers=edge.issuer.headers())
    assert head.status_code == 200 and head.content == b""
    # The length the service announced for it (its echo of a HEAD), not the empty body's.
    assert head.headers["content-length"] == str(len(b'{"reached":"/api/v1/me","method":"HEAD"}'))


def test_a_rotated_key_is_learnt_from_the_jwks(edge: Edge, tmp_path) -> None:
    user = uuid.uuid4()
    assert edge.get("/api/v1/me", headers=edge.issuer.headers(user)).status_code == 200
    rotated = TokenFactory(tmp_path / "rotated")
    old = json.loads(edge.issuer.path.read_text())["keys"]
    new = json.loads(rotated.path.read_text())["keys"]
    edge.issuer.path.write_text(json.dumps({"keys": old + new}))
    assert edge.get("/api/v1/me", headers=rotated.headers(user)).status_code == 200
    assert edge.get("/api/v1/me", headers=edge.issuer.headers(user)).status_code == 200


# -- suspensions ----------------------------------------------------------------------------------


def test_a_suspended_account_is_refused_within_2_seconds_then_let_in_again(edge: Edge) -> None:
    user = uuid.uuid4()
    headers = edge.issuer.headers(user, "pro")  # valid for 5 minutes
    other = edge.issuer.headers(uuid.uuid4(), "pro")
    assert edge.get("/api/v1/missions", headers=headers).status_code == 200

    published = time.monotonic()
    edge.suspend(user)
    wait_until(lambda: edge.get("/api/v1/missions", headers=headers).status_code == 403, timeout=2)
    assert time.monotonic() - published < 2
    body = problem(edge.get("/api/v1/missions", headers=headers), 403, "account_suspended")
    assert body["request_id"]
    assert edge.get("/api/v1/missions", headers=other).status_code == 200  # only that account
    # Public routes stay open (identity refuses the sign-in itself).
    assert edge.post("/api/v1/auth/token", json={}).status_code == 200

    # A reinstatement older than the suspension (delivered out of order) does not lift it.
    edge.reinstate(user, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    time.sleep(0.3)
    problem(edge.get("/api/v1/missions", headers=headers), 403, "account_suspended")

    edge.reinstate(user)
    wait_until(lambda: edge.get("/api/v1/missions", headers=headers).status_code == 200, timeout=2)


def test_a_temporary_suspension_ends_at_until(edge: Edge) -> None:
    user = uuid.uuid4()
    headers = edge.issuer.headers(user)
    edge.suspend(user, until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5))
    wait_until(lambda: edge.get("/api/v1/me", headers=headers).status_code == 403, timeout=2)
    wait_until(lambda: edge.get("/api/v1/me", headers=headers).status_code == 200, timeout=3)


def test_a_started_gateway_knows_the_suspensions_in_force_from_identity(make_edge, fake_services) -> None:
    user = uuid.uuid4()
    fake_services.suspensions = [{"user_id": str(user), "since": "2026-01-01T00:00:00Z", "until": None}]
    with make_edge() as edge:
        # At once: no event was published since this gateway started.
        problem(edge.get("/api/v1/me", headers=edge.issuer.headers(user)), 403, "account_suspended")
        ready = edge.get("/ready").json()
        assert ready["checks"]["suspensions"] == "ok" and ready["checks"]["events"] == "ok"
        # A reinstatement after the listed suspension lifts it.
        edge.reinstate(user)
        wait_until(lambda: edge.get("/api/v1/me", headers=edge.issuer.headers(user)).status_code == 200)


def test_malformed_events_do_not_stop_the_listener(edge: Edge) -> None:
    publish_raw(edge.broker_url, edge.prefix, b"not json", routing_key="trust-safety.AccountSuspended")
    user = uuid.uuid4()
    edge.suspend(user)
    wait_until(
        lambda: edge.get("/api/v1/me", headers=edge.issuer.headers(user)).status_code == 403, timeout=2
    )


# -- entitlements ---------------------------------------------------------------------------------


def propose(edge: Edge, headers: dict, mode: str = "direct", mission: str | None = None) -> httpx.Response:
    body = {"amount_cents": 10000, "message": "Je peux venir lundi", "payment_mode": mode, "tasks": []}
    return edge.post(f"/api/v1/missions/{mission or uuid.uuid4()}/proposals", json=body, headers=headers)


def test_paiement_direct_needs_a_paid_plan_and_follows_the_subscription_events(edge: Edge) -> None:
    pro = uuid.uuid4()
    headers = edge.issuer.headers(pro, "pro")
    # No plan known and subscriptions has none (404): the free plan.
    body = problem(propose(edge, headers), 403, "plan_required")
    assert body["feature"] == "direct_payment" and body["plan"] == "free"
    assert propose(edge, headers, mode="secure").status_code == 200  # Secure is for everyone
    assert edge.services.paths() == [edge.services.received[0]["path"]]

    edge.plan("SubscriptionActivated", pro, ["direct_payment", "appointments", "unlimited_proposals"])
    wait_until(lambda: propose(edge, headers).status_code == 200, timeout=2)
    forwarded = json.loads(edge.services.received[-1]["body"])
    assert forwarded["payment_mode"] == "direct"  # the body reaches the service whole

    # Renewal turned off: still paid until period_end.
    edge.plan("SubscriptionCancelled", pro, ["direct_payment", "appointments", "unlimited_proposals"],
              cancelled_at=dt.datetime.now(dt.UTC))  # fmt: skip
    time.sleep(0.3)
    assert propose(edge, headers).status_code == 200

    edge.plan("SubscriptionLapsed", pro, [], lapsed_plan="pro", reason="payment_failed")
    wait_until(lambda: propose(edge, headers).status_code == 403, timeout=2)

    # An older event arriving late does not bring the paid plan back.
    edge.plan("SubscriptionRenewed", pro, ["direct_payment", "appointments", "unlimited_proposals"],
              effective_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), amount_cents=1000)  # fmt: skip
    time.sleep(0.3)
    problem(propose(edge, headers), 403, "plan_required")


def test_the_proposal_check_cannot_be_dodged(edge: Edge) -> None:
    pro = uuid.uuid4()
    headers = edge.issuer.headers(pro, "pro")
    mission = uuid.uuid4()
    # The last of duplicated keys is what every JSON parser of ours reads: the gateway reads it too.
    raw = b'{"payment_mode": "secure", "payment_mode": "direct", "amount_cents": 1}'
    response = edge.post(f"/api/v1/missions/{mission}/proposals", content=raw,
                         headers=headers | {"content-type": "application/json"})  # fmt: skip
    problem(response, 403, "plan_required")
    escaped = b'{"payment_mod\\u0065": "dir\\u0065ct"}'
    problem(
        edge.post(f"/api/v1/missions/{mission}/proposals", content=escaped, headers=headers),
        403,
        "plan_required",
    )
    # A trailing slash is the same route.
    trailing = f"/api/v1/missions/{mission}/proposals/"
    problem(edge.post(trailing, json={"payment_mode": "direct"}, headers=headers), 403, "plan_required")
    # A body the gateway cannot read is not let through unchecked.
    problem(edge.post(f"/api/v1/missions/{mission}/proposals", content=b"{not json", headers=headers), 400,
            "malformed_body")  # fmt: skip
    problem(edge.post(f"/api/v1/missions/{mission}/proposals", content=b"[1]", headers=headers), 400,
            "malformed_body")  # fmt: skip
    assert edge.services.received == []


def test_a_plan_read_from_subscriptions_is_used_on_a_miss(edge: Edge) -> None:
    pro = uuid.uuid4()
    now = dt.datetime.now(dt.UTC).isoformat()
    edge.services.plans[str(pro)] = {"pro_id": str(pro), "plan": "pro", "features": ["direct_payment"],
                                     "effective_at": now, "period_end": None}  # fmt: skip
    headers = edge.issuer.headers(pro, "pro")
    assert propose(edge, headers).status_code == 200
    assert propose(edge, headers).status_code == 200
    assert edge.services.plan_reads == 1  # cached


def test_a_gateway_refused_by_the_internal_routes_lets_no_signed_in_request_through(
    make_edge, fake_services, monkeypatch
) -> None:
    """A wrong INTERNAL_API_TOKEN: the gateway cannot know the suspensions or read a plan, so it
    fails closed (503 for signed-in calls) rather than letting a suspended account in."""
    monkeypatch.setattr("clikopro_gateway.app.STARTUP_WAIT_SECONDS", 0.5)
    pro = uuid.uuid4()
    now = dt.datetime.now(dt.UTC).isoformat()
    fake_services.plans[str(pro)] = {"pro_id": str(pro), "plan": "pro", "features": ["direct_payment"],
                                     "effective_at": now, "period_end": None}  # fmt: skip
    with make_edge(internal_api_token="not-the-secret") as edge:
        problem(propose(edge, edge.issuer.headers(pro, "pro")), 503, "service_unavailable")
        problem(edge.get("/api/v1/me", headers=edge.issuer.headers(pro, "pro")), 503, "service_unavailable")
        assert edge.get("/ready").status_code == 503
        assert fake_services.plan_reads == 0 and fake_services.received == []


def test_an_unreachable_subscriptions_service_means_the_free_plan(make_edge) -> None:
    with make_edge(upstreams={"subscriptions": f"http://127.0.0.1:{free_port()}"}) as edge:
        started = time.monotonic()
        response = propose(edge, edge.issuer.headers(uuid.uuid4(), "pro"))
        assert time.monotonic() - started < 2
        problem(response, 403, "plan_required")


def test_appointments_need_the_professionals_plan(edge: Edge) -> None:
    pro, other_pro, client = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    as_pro = edge.issuer.headers(pro, "pro")
    as_client = edge.issuer.headers(client, "client")
    appointment = uuid.uuid4()
    slot = {"starts_at": "2026-12-01T09:00:00Z", "ends_at": "2026-12-01T10:00:00Z", "message": "Devis"}

    free_plan_calls = [
        ("PUT", "/api/v1/appointments/availability", as_pro, {"slots": []}),
        ("POST", f"/api/v1/appointments/{appointment}/accept", as_pro, {}),
        ("POST", f"/api/v1/appointments/{appointment}/decline", as_pro, {}),
        ("POST", "/api/v1/appointments", as_client, {"pro_id": str(pro), **slot}),
        ("POST", "/api/v1/appointments", as_client, {"pro_id": str(pro).upper(), **slot}),
    ]
    for method, path, headers, body in free_plan_calls:
        refused = problem(edge.request(method, path, json=body, headers=headers), 403, "plan_required")
        assert refused["feature"] == "appointments"
    assert edge.services.received == []
    # Open whatever the plan: reading and cancelling.
    assert edge.get(f"/api/v1/appointments/{appointment}", headers=as_client).status_code == 200
    assert edge.post(f"/api/v1/appointments/{appointment}/cancel", json={}, headers=as_pro).status_code == 200
    # No pro to check: refused here rather than let through.
    problem(edge.post("/api/v1/appointments", json={"pro_id": "someone", **slot}, headers=as_client),
            422, "validation_error")  # fmt: skip

    edge.plan("SubscriptionActivated", pro, ["appointments"], proposals_per_month=5)
    wait_until(lambda: edge.request(*free_plan_calls[0][:2], json={}, headers=as_pro).status_code == 200)
    for method, path, headers, body in free_plan_calls:
        assert edge.request(method, path, json=body, headers=headers).status_code == 200, path
    # It is the professional's plan that counts, not the caller's: another pro is still on free.
    other = {"pro_id": str(other_pro), **slot}
    problem(edge.post("/api/v1/appointments", json=other, headers=as_client), 403, "plan_required")
    # A pro without the feature cannot use the paid pro's plan by asking for its slots.
    assert edge.post("/api/v1/appointments", json={"pro_id": str(pro), **slot},
                     headers=edge.issuer.headers(other_pro, "pro")).status_code == 200  # fmt: skip


# -- rate limits, failures, documents ----------------------------------------------------------------


def test_rate_limits_per_user_and_per_address(make_edge) -> None:
    with make_edge(rate_limit_per_user="3/minute", rate_limit_per_ip="8/minute") as edge:
        user = edge.issuer.headers(uuid.uuid4())
        for _ in range(3):
            assert edge.get("/api/v1/me", headers=user).status_code == 200
        body = problem(edge.get("/api/v1/me", headers=user), 429, "rate_limited")
        assert body["retry_after"] >= 1
        assert int(edge.get("/api/v1/me", headers=user).headers["retry-after"]) >= 1
        # Another user from the same address still passes until the address's limit.
        statuses = [
            edge.get("/api/v1/me", headers=edge.issuer.headers(uuid.uuid4())).status_code for _ in range(5)
        ]
        assert statuses.count(429) >= 1
        problem(edge.get("/api/v1/plans"), 429, "rate_limited")  # public routes count per address


@pytest.mark.integration
def test_two_gateways_share_their_counters_in_redis(make_edge, redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    shared = {"redis_url": redis_url, "bus_prefix": prefix, "rate_limit_per_user": "4/minute"}
    try:
        with make_edge(instance="a", **shared) as a, make_edge(instance="b", **shared) as b:
            user = a.issuer.headers(uuid.uuid4())
            statuses = [edge.get("/api/v1/me", headers=user).status_code for edge in (a, b, a, b)]
            assert statuses == [200] * 4
            problem(b.get("/api/v1/me", headers=user), 429, "rate_limited")  # 5th, whichever replica
            problem(a.get("/api/v1/me", headers=user), 429, "rate_limited")
            # The counters are under this deployment's prefix, and only there.
            keys = redis.Redis.from_url(redis_url).keys(f"{prefix}.ratelimit*")
            assert keys
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{prefix}.ratelimit*"):
            client.delete(key)


def test_a_service_that_is_down_or_slow_answers_quickly_with_a_problem(make_edge) -> None:
    async def slow(_request: Request) -> JSONResponse:
        await asyncio.sleep(2)
        return JSONResponse({})

    with serve(Starlette(routes=[Route("/{p:path}", slow)])) as slow_url:
        down = {"reputation": f"http://127.0.0.1:{free_port()}", "missions": slow_url}
        with make_edge(upstreams=down, upstream_timeout=0.5) as edge:
            started = time.monotonic()
            response = edge.get("/api/v1/reviews/x", headers=edge.issuer.headers())
            assert time.monotonic() - started < 1
            problem(response, 503, "service_unavailable")
            started = time.monotonic()
            response = edge.get("/api/v1/missions", headers=edge.issuer.headers())
            assert time.monotonic() - started < 1.5
            problem(response, 504, "gateway_timeout")


def test_a_truncated_answer_is_a_bad_gateway(make_edge) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def truncating_service() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(
                b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"par'
            )
            conn.close()

    threading.Thread(target=truncating_service, daemon=True).start()
    port = listener.getsockname()[1]
    try:
        with make_edge(upstreams={"missions": f"http://127.0.0.1:{port}"}) as edge:
            problem(edge.get("/api/v1/missions", headers=edge.issuer.headers()), 502, "bad_gateway")
    finally:
        listener.close()


def test_the_merged_document_has_the_bearer_scheme_for_swagger(edge: Edge) -> None:
    document = edge.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}}
    assert "x-bearerInfoFunc" not in json.dumps(document)  # an implementation detail of the services
    paths = document["paths"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/missions/{id}/proposals"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/auth/token"]["post"]["security"] == []
    assert paths["/api/v1/pros/{id}/reviews"]["get"]["security"] == []
    assert "/internal/suspensions" not in paths
    # The gateway's and the chassis' own refusals are documented where the service did not say them.
    me = paths["/api/v1/me"]["get"]["responses"]
    assert {"401", "403", "429", "502", "503", "504"} <= me.keys() and "413" not in me
    token = paths["/api/v1/auth/token"]["post"]["responses"]
    assert {"400", "413", "429", "503"} <= token.keys() and "401" not in token
    assert token["503"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/EdgeProblem"
    }
    docs = edge.get("/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text


@pytest.mark.parametrize("path", ["/internal/suspensions", "/internal/entitlements/x", "/openapi.json"])
def test_internal_routes_are_not_reachable_through_the_gateway(edge: Edge, path: str) -> None:
    problem(edge.get(path, headers=edge.issuer.headers(role="admin")), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/proposals/%0A/accept", "/api/v1/me%00", "/docs%0D"])
def test_a_path_with_control_characters_is_a_404_problem(edge: Edge, path: str) -> None:
    problem(edge.post(path, headers=edge.issuer.headers(uuid.uuid4())), 404, "not_found")
    assert edge.services.received == []
