"""The decorator that makes an operation honour ``Idempotency-Key``.

    @idempotent
    def create_mission(body): ...

The operation's use case must commit through the chassis unit of work (which
claims the key in its transaction); the service's bootstrap object must
expose ``database``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask
from connexion import context

from clikopro_chassis.idempotency import (
    IdempotencyKeyReused,
    IdempotencyRace,
    IdempotentRequest,
    IdempotentRequestInProgress,
    check_key,
    current_request,
    fingerprint,
    lookup,
    store_answer,
)
from clikopro_chassis.web.app import services

HEADER = "Idempotency-Key"


def _scope() -> str:
    claims = context.context.get("token_info") if context.context else None
    return str(claims["sub"]) if claims and claims.get("sub") else "anonymous"


def idempotent(handler: Callable[..., flask.Response]) -> Callable[..., flask.Response]:
    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> flask.Response:
        key = flask.request.headers.get(HEADER)
        if key is None:
            return handler(*args, **kwargs)
        check_key(key)
        database = services().database
        request = IdempotentRequest(
            scope=_scope(),
            key=key,
            fingerprint=fingerprint(
                flask.request.method, flask.request.path, flask.request.query_string, flask.request.get_data()
            ),
        )
        stored = lookup(database, request.scope, key)
        if stored is not None:
            return _replay(stored, request)
        token = current_request.set(request)
        try:
            response = handler(*args, **kwargs)
        except IdempotencyRace:
            # A copy of this request committed first; this one's effect rolled back.
            stored = lookup(database, request.scope, key)
            if stored is None:
                raise IdempotentRequestInProgress("Retry shortly.") from None
            return _replay(stored, request)
        finally:
            current_request.reset(token)
        if request.claimed:
            store_answer(database, request, response.status_code, response.get_data(as_text=True))
        return response

    return wrapper


def _replay(stored: Any, request: IdempotentRequest) -> flask.Response:
    if stored.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(f"This {HEADER} was used for a different request.")
    if stored.status_code is None:
        raise IdempotentRequestInProgress("Retry shortly: the first request with this key has not finished.")
    return flask.Response(
        stored.body,
        status=stored.status_code,
        mimetype="application/json",
        headers={"Idempotent-Replayed": "true"},
    )
