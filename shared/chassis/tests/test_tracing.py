"""Trace context through the outbox: the stored envelope keeps it, the relay finds it, a consumer
continues it (the whole path across processes: tests/e2e/test_tracing.py)."""

from __future__ import annotations

import json

from opentelemetry import trace

from clikopro_chassis import tracing
from clikopro_chassis.bus.relay import _trace_headers
from clikopro_chassis.outbox import encode
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_an_event_written_in_a_request_keeps_its_trace_and_the_relay_carries_it() -> None:
    event = parse_event(example("UserRegistered", 1))
    context = tracing.context_from_headers([(b"host", b"x"), (b"traceparent", PARENT.encode())])
    with tracing.tracer().start_as_current_span("POST /register", context=context):
        body = encode(event)
    stored = json.loads(body)
    trace_id = stored["traceparent"].split("-")[1]
    assert trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert _trace_headers(body) == {"traceparent": stored["traceparent"]}
    # Consumers read the envelope as before (the key is one they do not know).
    assert parse_event(body).id == event.id
    # The consumer's side: the header gives the parent back.
    parent = trace.get_current_span(tracing.context_from_message(_trace_headers(body))).get_span_context()
    assert f"{parent.trace_id:032x}" == trace_id


def test_without_a_trace_nothing_is_added() -> None:
    event = parse_event(example("UserRegistered", 1))
    body = encode(event)
    assert "traceparent" not in json.loads(body) and _trace_headers(body) == {}
    assert tracing.context_from_message({"traceparent": 3}) is None
    assert tracing.context_from_headers([(b"host", b"x")]) is None
