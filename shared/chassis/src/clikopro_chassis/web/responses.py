"""Answers of operation handlers.

An operation documents both ``application/json`` and
``application/problem+json``, so connexion cannot infer the content type of
a plain return value: handlers return these explicit responses instead.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

import flask


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> flask.Response:
    return flask.Response(
        json.dumps(body, default=_default, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=dict(headers or {}),
    )


def ok(body: Any, headers: Mapping[str, str] | None = None) -> flask.Response:
    return json_response(body, 200, headers)


def created(body: Any, location: str | None = None) -> flask.Response:
    return json_response(body, 201, {"Location": location} if location else None)


def no_content() -> flask.Response:
    return flask.Response(status=204)
