"""OpenTelemetry tracing across HTTP and the event bus (W3C Trace Context).

One trace follows a request and every event it causes:

- the gateway's server span continues the caller's ``traceparent`` (or starts a trace) and hands
  its own to the service it forwards to; each web process continues it
  (:class:`~clikopro_chassis.web.middleware.RequestContextMiddleware`);
- an event written to the outbox keeps the trace context of the request or handler that wrote it:
  its body carries a ``traceparent`` key beside the envelope (as CloudEvents' distributed-tracing
  extension does; consumers ignore envelope keys they do not know);
- the relay puts it in the message's AMQP headers (``traceparent``), which retries, dead letters
  and replays keep;
- the consumer continues it in a ``<EventType> process`` span around the handler, so the events
  the handler publishes belong to the same trace.

Spans always have ids (in every JSON log line as ``trace_id``, and propagated); they are recorded
and exported only when configured: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``)
sends them over OTLP/HTTP (the chassis' ``otlp`` extra, installed in the images),
``TRACE_SPANS_DIR`` writes them as JSON lines, one file per process (tests, debugging).
``OTEL_SDK_DISABLED=true`` turns tracing off.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"
_BODY_TRACEPARENT = re.compile(r'"traceparent":"([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"')

_configured: str | None = None
_tracer: trace.Tracer | None = None


def tracer() -> trace.Tracer:
    """The process's tracer, made once (a proxy until the provider is set: it follows it then)."""
    global _tracer
    if _tracer is None:
        _tracer = trace.get_tracer("clikopro")
    return _tracer


def configure_tracing(service: str, env: Mapping[str, str] | None = None) -> None:
    """Install this process's tracer provider (once; later calls are ignored)."""
    global _configured
    env = os.environ if env is None else env
    if _configured is not None or env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    _configured = service
    otlp = bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    exporting = otlp or bool(env.get("TRACE_SPANS_DIR"))
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or f"clikopro-{service}"}),
        # Exporting: the SDK's sampler (parent-based, always on; OTEL_TRACES_SAMPLER to change it).
        # Not exporting: no span is recorded (a tenth of the cost), yet each still has its ids, which
        # propagate (traceparent) and go into the logs: the request is still followed everywhere.
        sampler=None if exporting else ALWAYS_OFF,
    )
    if otlp:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.error("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed "
                      "(pip install 'clikopro-chassis[otlp]'); spans are not exported")  # fmt: skip
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if env.get("TRACE_SPANS_DIR"):
        folder = Path(env["TRACE_SPANS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        out = (folder / f"{service}-{os.getpid()}.jsonl").open("a", buffering=1, encoding="utf-8")
        exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def context_from_headers(headers: Iterable[tuple[bytes, bytes]]) -> Context | None:
    """The caller's trace context from raw ASGI headers (``None``: start a new trace)."""
    carrier = {}
    for key, value in headers:
        name = key.lower()
        if name in (b"traceparent", b"tracestate"):
            carrier[name.decode()] = value.decode("latin-1")
    return PROPAGATOR.extract(carrier) if TRACEPARENT in carrier else None


def context_from_message(headers: Mapping[str, Any] | None) -> Context | None:
    value = (headers or {}).get(TRACEPARENT)
    if not isinstance(value, str | bytes):
        return None
    return PROPAGATOR.extract({TRACEPARENT: value.decode() if isinstance(value, bytes) else value})


def traceparent_of_body(body: str) -> str | None:
    """The ``traceparent`` an outbox body carries (found without parsing the JSON)."""
    found = _BODY_TRACEPARENT.search(body)
    return found.group(1) if found else None
