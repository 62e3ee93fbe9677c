"""ASGI entry point: ``gunicorn -k uvicorn_worker.UvicornWorker clikopro_identity.entrypoints.web:app``."""

from pathlib import Path

from clikopro_chassis.logs import configure_logging
from clikopro_chassis.web import security
from clikopro_chassis.web.app import create_app
from clikopro_identity.adapters.keys import LocalTokenVerifier
from clikopro_identity.bootstrap import Services, bootstrap

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def build(services: Services | None = None):
    services = services or bootstrap()
    settings = services.settings
    configure_logging(settings.service, level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings=settings, spec=SPEC, database=services.database, services=services)
    # Identity checks its own tokens against its key store rather than over HTTP from itself.
    security.configure(LocalTokenVerifier(services.keys))
    return app


app = build()
