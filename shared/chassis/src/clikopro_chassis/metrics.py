"""Prometheus metrics shared by every service (R22).

Names are prefixed ``clikopro_`` and labelled by service, so one dashboard
serves all. A web process exposes them on ``/metrics``; a worker on its own
port (``WORKER_METRICS_PORT``). Under gunicorn with several workers, set
``PROMETHEUS_MULTIPROC_DIR`` and each worker's samples are merged.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "clikopro_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "clikopro_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_HANDLED = Counter(
    "clikopro_events_handled_total",
    "Events taken off the service queue, by outcome (done, duplicate, retried, dead_lettered, ignored)",
    ["service", "type", "outcome"],
)
EVENT_HANDLING = Histogram(
    "clikopro_event_handling_seconds",
    "Time spent in an event handler",
    ["service", "type"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
OUTBOX_PUBLISHED = Counter("clikopro_outbox_published_total", "Outbox events published", ["service"])
OUTBOX_FAILURES = Counter("clikopro_outbox_publish_failures_total", "Failed outbox batches", ["service"])
OUTBOX_PENDING = Gauge(
    "clikopro_outbox_pending", "Outbox events not yet published", ["service"], multiprocess_mode="max"
)
OUTBOX_LAG = Gauge(
    "clikopro_outbox_oldest_pending_age_seconds",
    "Age of the oldest unpublished outbox event (the relay's lag)",
    ["service"],
    multiprocess_mode="max",
)


def render_latest() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
