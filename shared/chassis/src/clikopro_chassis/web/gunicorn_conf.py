"""gunicorn's settings for every image (``gunicorn --config python:clikopro_chassis.web.gunicorn_conf``).

The one Dockerfile builds any service (``--build-arg SERVICE=missions``) or the gateway and sets
``CLIKOPRO_SERVICE`` and ``CLIKOPRO_PORT``; the ASGI app to serve and the address follow from them.
Workers: ``WEB_CONCURRENCY`` (gunicorn reads it itself).
"""

from __future__ import annotations

import os


def app_for(service: str) -> str:
    """``clikopro_<service>.entrypoints.web:app`` (``trust-safety`` -> ``clikopro_trust_safety``)."""
    return f"clikopro_{service.replace('-', '_')}.entrypoints.web:app"


def default_port(service: str) -> int:
    return 8080 if service == "gateway" else 8000


_service = os.environ.get("CLIKOPRO_SERVICE", "")
if _service:
    wsgi_app = app_for(_service)
    bind = [f"0.0.0.0:{os.environ.get('CLIKOPRO_PORT') or default_port(_service)}"]
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = 30
# Outlasts the idle timeout of whatever calls us (the gateway's pool, a load balancer), so that a
# pooled connection is never closed under a request.
keepalive = 75
# The heartbeat file on a tmpfs, not on the overlay filesystem.
worker_tmp_dir = "/dev/shm"
# No access log: the application logs each request itself (JSON, with its correlation id).
accesslog = None
