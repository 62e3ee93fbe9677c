"""Prometheus metrics shared by every service (R22).

Names are prefixed ``clikopro_`` and labelled by service, so one dashboard
serves all. A web process exposes them on ``/metrics``; a worker on its own
port (``WORKER_METRICS_PORT``). Under gunicorn with several workers, set
``PROMETHEUS_MULTIPROC_DIR`` and each worker's samples are merged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)

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
EVENT_WAIT = Histogram(
    "clikopro_event_wait_seconds",
    "Age of an event when its consumer takes it (now - occurred_at): how long it waited",
    ["service", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
RELAY_CONFIRM = Histogram(
    "clikopro_relay_confirm_seconds",
    "Time from sending an outbox batch to the broker's last confirm",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
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


#: Business gauges operations watch (R22). A service registers a reader for the ones it owns
#: (:func:`register_gauges`); they are read from its database when ``/metrics`` is scraped.
BUSINESS_GAUGES = {
    "clikopro_payments_payouts_waiting_onboarding": "Payouts held until the professional finishes onboarding",
    "clikopro_payments_payouts_waiting_onboarding_cents": "Money held until professionals finish onboarding",
    "clikopro_payments_frozen_cents": "Money frozen by open incidents",
    "clikopro_payments_failed_payouts": "Payouts (transfers) that failed",
    "clikopro_payments_failed_refunds": "Refunds that failed",
    "clikopro_trust_safety_open_incidents": "Incidents open (trust & safety)",
    "clikopro_erasure_oldest_unconfirmed_age_seconds": "Age of the oldest erasure not yet confirmed",
}


@dataclass(frozen=True)
class GaugeReader(Collector):
    """Reads ``{gauge name: value}`` at scrape time (a query of the service's own database)."""

    service: str
    read: Callable[[], dict[str, float]]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            values = self.read()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail for want of one figure
            log.warning("business gauges of %s not read: %s", self.service, exc)
            return
        for name, value in sorted(values.items()):
            if name not in BUSINESS_GAUGES:
                raise ValueError(f"{name} is not a declared business gauge (metrics.BUSINESS_GAUGES)")
            family = GaugeMetricFamily(name, BUSINESS_GAUGES[name], labels=["service"])
            family.add_metric([self.service], float(value))
            yield family


_readers: dict[str, GaugeReader] = {}


def register_gauges(service: str, read: Callable[[], dict[str, float]]) -> GaugeReader:
    """Serve business gauges on this process's ``/metrics``, read at each scrape. One reader per
    service: the app built last wins (tests build several)."""
    reader = GaugeReader(service, read)
    _readers[service] = reader
    return reader


def render_latest() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    payload = generate_latest(registry)
    if _readers:
        gauges = CollectorRegistry(auto_describe=False)
        for reader in _readers.values():
            gauges.register(reader)
        payload += generate_latest(gauges)
    return payload, CONTENT_TYPE_LATEST
