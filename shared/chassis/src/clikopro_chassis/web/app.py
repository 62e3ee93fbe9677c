"""The app factory every service uses: spec-first connexion app with our
validation, problem+json errors, health, readiness and metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import connexion
import flask
from connexion.exceptions import ProblemException
from connexion.http_facts import HTTP_STATUS_CODES
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from clikopro_chassis.auth import TokenVerifier
from clikopro_chassis.bus.connection import broker_connection
from clikopro_chassis.config import Settings
from clikopro_chassis.context import request_id_var
from clikopro_chassis.db import Database
from clikopro_chassis.errors import CODE_BY_STATUS, AppError
from clikopro_chassis.metrics import render_latest
from clikopro_chassis.outbox import pending_summary
from clikopro_chassis.web import security
from clikopro_chassis.web.middleware import BodyLimitMiddleware, PathGuardMiddleware, RequestContextMiddleware
from clikopro_chassis.web.validation import validator_map

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
EXTENSION_KEY = "clikopro"


def _problem(
    body: dict[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> ConnexionResponse:
    request_id = request_id_var.get()
    if request_id:
        body.setdefault("request_id", request_id)
    return ConnexionResponse(
        status_code=status, mimetype=PROBLEM, body=json.dumps(body), headers=dict(headers or {})
    )


def _app_error(_request: ConnexionRequest, exc: AppError) -> ConnexionResponse:
    return _problem(exc.body(), exc.status, exc.headers)


def _connexion_problem(_request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    status = exc.status or 500
    body = {
        "type": exc.type
        if exc.type and exc.type != "about:blank"
        else f"https://docs.clikopro.fr/problems/{CODE_BY_STATUS.get(status, 'error')}",
        "title": exc.title or "Error",
        "status": status,
        "detail": exc.detail or exc.title or "",
        "code": CODE_BY_STATUS.get(status, "error"),
        **(exc.ext or {}),
    }
    if status == 400 and body["code"] == "validation_error" and "errors" not in body:
        body["errors"] = [{"field": "request", "message": str(exc.detail)}]
    return _problem(body, status, exc.headers)


def _http_exception(_request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
    status = exc.status_code
    body = {
        "type": f"https://docs.clikopro.fr/problems/{CODE_BY_STATUS.get(status, 'error')}",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": str(exc.detail or ""),
        "code": CODE_BY_STATUS.get(status, "error"),
    }
    return _problem(body, status, exc.headers)


def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error: %r", exc, exc_info=exc)
    body = {
        "type": "https://docs.clikopro.fr/problems/internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "Something went wrong on our side; quote the request id to support.",
        "code": "internal_error",
    }
    return _problem(body, 500)


class Readiness:
    """``/ready``: the database answers and the broker accepts a connection.

    The broker check is cached a few seconds so that frequent probes do not
    open a connection each.
    """

    def __init__(self, database: Database, broker_url: str, extra: Mapping[str, Callable[[], None]]) -> None:
        self.database = database
        self.broker_url = broker_url
        self.extra = dict(extra)
        self._broker_ok_until = 0.0

    def outbox(self) -> dict[str, float] | None:
        """The outbox's figures, for ``clikopro-ops status`` (which never reads a service's database)."""
        try:
            with self.database.session() as session:
                pending, age = pending_summary(session)
        except Exception:  # noqa: BLE001 - the database check says why
            return None
        return {"pending": pending, "oldest_pending_age_seconds": round(age, 3)}

    def check(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        try:
            self.database.ping()
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"error: {type(exc).__name__}"
        if time.monotonic() < self._broker_ok_until:
            checks["broker"] = "ok"
        else:
            try:
                with broker_connection(self.broker_url, connect_timeout=2) as conn:
                    conn.ensure_connection(max_retries=1)
                checks["broker"] = "ok"
                self._broker_ok_until = time.monotonic() + 5
            except Exception as exc:  # noqa: BLE001
                checks["broker"] = f"error: {type(exc).__name__}"
        for name, probe in self.extra.items():
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks[name] = f"error: {type(exc).__name__}"
        return all(v == "ok" for v in checks.values()), checks


def create_app(
    *,
    settings: Settings,
    spec: Path,
    database: Database,
    services: Any,
    readiness: Mapping[str, Callable[[], None]] | None = None,
    error_handlers: Mapping[type[Exception], Callable[[ConnexionRequest, Any], ConnexionResponse]]
    | None = None,
) -> ASGIApp:
    """Build the service's ASGI app from its OpenAPI document.

    ``services`` is what the service's operation handlers need (its
    bootstrap: unit-of-work factory, clock, adapters); they reach it with
    :func:`services`.
    """
    app = connexion.FlaskApp(
        settings.service,
        specification_dir=str(spec.parent),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
        validator_map=validator_map(),
    )
    app.add_api(
        spec.name,
        strict_validation=True,
        validate_responses=settings.validate_responses,
    )
    app.add_error_handler(AppError, _app_error)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_exception)
    for exc_type, handler in (error_handlers or {}).items():
        app.add_error_handler(exc_type, handler)
    app.add_error_handler(Exception, _unexpected)

    verifier = TokenVerifier(settings.jwks_url, refresh_cooldown=settings.jwks_refresh_cooldown_seconds)
    security.configure(verifier if settings.jwks_url else None)
    security.configure_internal(settings.internal_api_token)
    flask_app = app.app
    flask_app.extensions[EXTENSION_KEY] = services
    ready = Readiness(database, settings.broker_url, readiness or {})

    def health() -> flask.Response:
        return flask.jsonify(status="ok", service=settings.service)

    def ready_view() -> tuple[flask.Response, int]:
        ok, checks = ready.check()
        body = {"status": "ok" if ok else "unavailable", "service": settings.service, "checks": checks}
        body["outbox"] = ready.outbox()
        return flask.jsonify(body), (200 if ok else 503)

    def metrics_view() -> flask.Response:
        payload, content_type = render_latest()
        return flask.Response(payload, content_type=content_type)

    flask_app.add_url_rule("/health", "health", health)
    flask_app.add_url_rule("/ready", "ready", ready_view)
    flask_app.add_url_rule("/metrics", "metrics", metrics_view)

    guarded = PathGuardMiddleware(BodyLimitMiddleware(app, settings.max_body_bytes))
    return RequestContextMiddleware(guarded, settings.service)


def services() -> Any:
    """The running service's bootstrap, for operation handlers."""
    return flask.current_app.extensions[EXTENSION_KEY]
