"""One trace from a request at the gateway to the handler that consumed its event (R22).

Every process of the platform writes its spans as JSON lines (``TRACE_SPANS_DIR``, the same SDK
pipeline that OTLP uses when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set): a sign-up through the gateway
must give the gateway's span, identity's web span as its child, and missions' handling of
``UserRegistered`` in the same trace, its parent being identity's span (the trace context went
through the outbox and the message's AMQP headers)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def spans_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "spans"
    monkeypatch.setenv("TRACE_SPANS_DIR", str(folder))  # the platform fixture passes os.environ on
    return folder


def spans(folder: Path) -> list[dict[str, Any]]:
    found = []
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                span = json.loads(line)
                span["file"] = path.name
                found.append(span)
    return found


def test_one_trace_links_the_gateway_request_to_the_consuming_handler(
    platform: Any, spans_dir: Path, wait_until: Any
) -> None:
    client_trace = uuid.uuid4().hex
    answer = httpx.post(
        f"{platform.gateway_url}/api/v1/auth/register",
        json={
            "role": "client",
            "email": f"trace-{uuid.uuid4().hex[:8]}@example.fr",
            "password": "radium et polonium",
            "first_name": "Marie",
            "last_name": "Curie",
            "phone": "06 12 34 56 78",
        },
        # The caller's own trace context (a web or mobile client instrumented with OpenTelemetry).
        headers={"traceparent": f"00-{client_trace}-{'ab' * 8}-01"},
        timeout=20,
    )
    assert answer.status_code == 201, answer.text
    request_id = answer.headers["x-request-id"]

    def handled() -> dict[str, Any] | None:
        return next(
            (
                s
                for s in spans(spans_dir)
                if s["name"] == "UserRegistered process" and s["file"].startswith("missions-")
            ),
            None,
        )

    consumer = wait_until(handled, timeout=20, interval=0.2, message="missions' UserRegistered span")
    everything = spans(spans_dir)
    gateway = next(
        s
        for s in everything
        if s["file"].startswith("gateway-") and s["attributes"].get("clikopro.request_id") == request_id
    )
    identity = next(
        s
        for s in everything
        if s["file"].startswith("identity-")
        and s["kind"] == "SpanKind.SERVER"
        and s["attributes"].get("clikopro.request_id") == request_id
    )
    trace_id = "0x" + client_trace
    assert gateway["context"]["trace_id"] == trace_id
    assert gateway["parent_id"] == "0x" + "ab" * 8
    assert identity["context"]["trace_id"] == trace_id
    assert identity["parent_id"] == gateway["context"]["span_id"]
    assert identity["name"].startswith("POST ") and identity["attributes"]["http.response.status_code"] == 201
    assert consumer["context"]["trace_id"] == trace_id
    assert consumer["parent_id"] == identity["context"]["span_id"]
    assert consumer["kind"] == "SpanKind.CONSUMER"
    assert consumer["attributes"]["messaging.destination.name"].endswith(".missions")
    # Nobody else's request is in this trace.
    assert {s["context"]["trace_id"] for s in (gateway, identity, consumer)} == {trace_id}
