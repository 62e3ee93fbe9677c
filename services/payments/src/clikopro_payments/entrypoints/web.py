"""ASGI entry point: ``gunicorn -k uvicorn_worker.UvicornWorker clikopro_payments.entrypoints.web:app``."""

from pathlib import Path

from clikopro_chassis import metrics
from clikopro_chassis.logs import configure_logging
from clikopro_chassis.web.app import create_app
from clikopro_payments.adapters import gauges
from clikopro_payments.bootstrap import Services, bootstrap

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def build(services: Services | None = None):
    services = services or bootstrap()
    settings = services.settings
    configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
    metrics.register_gauges(settings.service, lambda: gauges.read(services.database))
    return create_app(settings=settings, spec=SPEC, database=services.database, services=services)


app = build()
