"""The app factory's promises: problem+json with a stable code for every
failure, never a 500 for bad input, request ids on every answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.web.app import create_app
from clikopro_chassis.web.middleware import BodyLimitMiddleware

SPEC = Path(__file__).parent / "web_probe.yaml"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.from_env("probe", {"DATA_DIR": str(tmp_path), "MAX_BODY_BYTES": "1000"})
    settings = settings.replace(broker_url="memory://")
    app = create_app(settings=settings, spec=SPEC, database=Database(settings.database_url), services=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"] and "type" in body
    return body


def test_a_valid_request_is_answered(client: TestClient) -> None:
    response = client.post("/things", json={"name": "lamp", "count": 2})
    assert response.status_code == 201
    assert response.json() == {"name": "lamp", "count": 2}


def test_schema_violations_list_every_field(client: TestClient) -> None:
    body = assert_problem(client.post("/things", json={"count": -1, "extra": True}), 400, "validation_error")
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "count"} <= fields
    assert any("extra" in e["message"] for e in body["errors"])


def test_invalid_json_is_a_400(client: TestClient) -> None:
    response = client.post("/things", content=b'{"name": ', headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed_body")


def test_bytes_that_are_not_utf8_are_a_400(client: TestClient) -> None:
    response = client.post(
        "/things", content=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_body")


def test_an_oversize_body_is_a_413(client: TestClient) -> None:
    big = b'{"name": "' + b"x" * 2000 + b'", "count": 1}'
    assert_problem(
        client.post("/things", content=big, headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )


def test_a_streamed_body_is_cut_off_at_the_limit() -> None:
    # connexion refuses chunked bodies on operations that require one, so the
    # streaming guard is exercised on a bare ASGI app (the gateway streams).
    read: list[int] = []

    async def echo_length(scope, receive, send) -> None:
        total, more = 0, True
        while more:
            message = await receive()
            total += len(message.get("body", b""))
            more = message.get("more_body", False)
        read.append(total)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 300

    client = TestClient(BodyLimitMiddleware(echo_length, 1000))  # no lifespan: a bare app
    assert client.post("/", content=b"x" * 900).text == "900"
    response = client.post("/", content=chunks())
    assert_problem(response, 413, "payload_too_large")
    assert read == [900]


def test_domain_errors_keep_their_code(client: TestClient) -> None:
    assert_problem(client.post("/things", json={"name": "taken", "count": 0}), 409, "conflict")
    assert_problem(client.get(f"/things/{uuid.uuid4()}"), 404, "not_found")


def test_bad_path_parameters_and_unknown_routes(client: TestClient) -> None:
    assert_problem(client.get("/things/not-a-uuid"), 400, "validation_error")
    assert_problem(client.get("/nowhere"), 404, "not_found")
    assert_problem(client.delete("/things"), 405, "method_not_allowed")


def test_a_bug_is_a_500_problem_that_names_the_request(client: TestClient) -> None:
    response = client.get("/boom", headers={"X-Request-Id": "req-123"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "req-123"
    assert "unexpected bug" not in response.text  # internals stay in the logs


def test_request_and_correlation_ids_reach_the_handler_and_the_response(client: TestClient) -> None:
    response = client.get("/context", headers={"X-Request-Id": "abc-1", "X-Correlation-Id": "flow-9"})
    assert response.headers["x-request-id"] == "abc-1"
    assert response.json() == {"request_id": "abc-1", "correlation_id": "flow-9"}
    generated = client.get("/context")
    rid = generated.headers["x-request-id"]
    assert uuid.UUID(rid) and generated.json() == {"request_id": rid, "correlation_id": rid}
    # A header that could inject into logs is replaced, not trusted.
    assert client.get("/context", headers={"X-Request-Id": "bad id\n"}).headers["x-request-id"] != "bad id\n"


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    client.post("/things", json={"name": "lamp", "count": 2})
    metrics = client.get("/metrics").text
    assert (
        'clikopro_http_requests_total{method="POST",route="web_probe_api.create_thing",service="probe",status="201"}'
        in metrics
    )


def test_ready_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings.from_env("probe", {"DATA_DIR": str(tmp_path)}).replace(broker_url="memory://")
    database = Database(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    app = create_app(settings=settings, spec=SPEC, database=database, services=None)
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error")


@pytest.mark.parametrize(
    ("configured", "sent", "status"),
    [
        ("s3cret-internal", "s3cret-internal", 200),
        ("s3cret-internal", "s3cret-interna", 401),
        ("s3cret-internal", None, 401),
        ("", "", 401),  # not configured: closed to everyone, even an empty header
        ("", "anything", 401),
        # While one secret replaces another, both are accepted (callers send the first).
        ("new-secret, old-secret", "old-secret", 200),
        ("new-secret, old-secret", "new-secret", 200),
        ("new-secret, old-secret", "new-secret, old-secret", 401),
        (" , ", "", 401),
    ],
)
def test_internal_routes_need_the_shared_secret(
    tmp_path: Path, configured: str, sent: str | None, status: int
) -> None:
    env = {"DATA_DIR": str(tmp_path), "INTERNAL_API_TOKEN": configured}
    settings = Settings.from_env("probe", env).replace(broker_url="memory://")
    app = create_app(settings=settings, spec=SPEC, database=Database(settings.database_url), services=None)
    headers = {} if sent is None else {"X-Internal-Token": sent}
    with TestClient(app) as client:
        response = client.get("/internal/secret", headers=headers)
    assert response.status_code == status, response.text
    if status == 401:
        assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("day", "at", "bad"),
    [
        ("2026-11-26", "2026-11-26T09:30:00Z", None),
        ("2026-11-26", "2026-11-26T09:30:00.250+01:00", None),
        ("AAA", "2026-11-26T09:30:00Z", "day"),
        ("", "2026-11-26T09:30:00Z", "day"),
        ("2026-02-30", "2026-11-26T09:30:00Z", "day"),  # no such day
        ("20261126", "2026-11-26T09:30:00Z", "day"),  # not RFC 3339
        ("2026-11-26", "2026-11-26T09:30:00", "at"),  # no offset: a naive time is refused
        ("2026-11-26", "tomorrow", "at"),
    ],
)
def test_dates_and_times_are_checked_before_the_handler(
    client: TestClient, day: str, at: str, bad: str | None
) -> None:
    response = client.post("/appointments", json={"day": day, "at": at})
    if bad is None:
        assert response.status_code == 201, response.text
    else:
        problem = assert_problem(response, 400, "validation_error")
        assert [e["field"] for e in problem["errors"]] == [bad]


def test_a_form_upload_is_read_and_a_broken_one_is_a_400(client: TestClient) -> None:
    good = client.post("/documents", files={"file": ("facture.pdf", b"%PDF-1.7 ...", "application/pdf")})
    assert good.status_code == 201 and good.json() == {"name": "facture.pdf", "size": 12}
    # A part whose headers hold a bare CR (found by fuzzing: it was a 500).
    boundary = "0d37f771f3609e9baf6be26654101f5f"
    broken = client.post(
        "/documents",
        content=f"--{boundary}\r\nTrue--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(broken, 400, "malformed_body")


@pytest.mark.parametrize("path", ["/things/%0A", "/things/a%00b", "/whoami%7F", "/internal/secret%0D"])
def test_a_path_with_control_characters_is_a_404_problem(client: TestClient, path: str) -> None:
    # Found by fuzzing: Flask's router still called the view of /things/{thing_id}, outside its
    # connexion operation: a 500.
    assert_problem(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b", "count": 1}, "name"),
        ({"name": "ok", "count": 1, "tags": ["x", "\x00"]}, "tags.1"),
        ({"name": "ok", "count": 1, "k\x00": 1}, "k\x00"),
    ],
)
def test_a_nul_character_in_a_body_is_a_400_naming_the_field(
    client: TestClient, body: dict, field: str
) -> None:
    # Found by fuzzing: PostgreSQL cannot store U+0000 in text, so it was a 500 in the service.
    problem = assert_problem(client.post("/things", json=body), 400, "validation_error")
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_nul_character_in_a_form_or_a_query_is_a_400(client: TestClient) -> None:
    pdf = {"file": ("f.pdf", b"%PDF", "application/pdf")}
    assert client.post("/documents", data={"note": "a note"}, files=pdf).status_code == 201
    form = assert_problem(
        client.post("/documents", data={"note": "a\x00"}, files=pdf), 400, "validation_error"
    )
    assert [e["field"] for e in form["errors"]] == ["note"]
    problem = assert_problem(client.get("/context?q=a%00b"), 400, "validation_error")
    assert problem["errors"] == [{"field": "query", "message": "must not contain the NUL character (U+0000)"}]
    assert client.get("/context?q=a%2500b").status_code == 200  # an escaped "%00" is just text
