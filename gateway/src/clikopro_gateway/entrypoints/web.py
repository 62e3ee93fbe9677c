"""ASGI entry point: ``gunicorn -k uvicorn_worker.UvicornWorker clikopro_gateway.entrypoints.web:app``."""

from clikopro_chassis.logs import configure_logging
from clikopro_gateway import SERVICE
from clikopro_gateway.app import create_app
from clikopro_gateway.settings import GatewaySettings

settings = GatewaySettings.from_env()
configure_logging(SERVICE, level=settings.log_level, fmt=settings.log_format)
app = create_app(settings)
