"""JSON logs carrying the service name and the request/correlation/causation ids."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from clikopro_chassis.context import causation_id_var, correlation_id_var, request_id_var
from clikopro_chassis.tracing import configure_tracing, current_trace_id


class ContextFilter(logging.Filter):
    """Stamps every record with the ids of the request or message in hand."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        record.correlation_id = correlation_id_var.get()
        record.causation_id = causation_id_var.get()
        record.trace_id = current_trace_id()
        return True


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """Route every logger (ours, gunicorn's, uvicorn's, kombu's) to one stderr handler; set up tracing
    (every process that logs is one that traces: web, worker, gateway)."""
    configure_tracing(service)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(service))
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s "
                "%(service)s %(request_id)s %(correlation_id)s %(causation_id)s %(trace_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(service)s %(name)s [%(correlation_id)s] %(message)s"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("gunicorn.error", "gunicorn.access", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The access log is ours (one line per request with its ids); uvicorn's would double it.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("amqp").setLevel("WARNING")
    logging.getLogger("kombu").setLevel("WARNING")
