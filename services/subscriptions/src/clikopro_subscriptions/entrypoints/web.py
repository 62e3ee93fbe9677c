"""ASGI entry point, served by gunicorn with the uvicorn worker (see the Dockerfile)."""

from pathlib import Path

from clikopro_chassis.logs import configure_logging
from clikopro_chassis.web.app import create_app
from clikopro_subscriptions.bootstrap import Services, bootstrap

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def build(services: Services | None = None):
    services = services or bootstrap()
    settings = services.settings
    configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
    return create_app(settings=settings, spec=SPEC, database=services.database, services=services)


app = build()
