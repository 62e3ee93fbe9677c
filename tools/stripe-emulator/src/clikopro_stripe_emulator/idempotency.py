"""``Idempotency-Key`` as Stripe honours it (localstripe ignores it).

Per API key: the first answer to a key is stored (errors included, as Stripe does once the
request has started executing) and replayed to a later request with the same key and the same
parameters, with ``Idempotent-Replayed: true``; other parameters get 400 ``idempotency_error``;
a request arriving while the first is still executing gets 409 ``idempotency_error``.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass

from aiohttp import web
from localstripe.errors import UserError

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: bytes


_answers: dict[tuple[str, str], Stored] = {}
_in_flight: set[tuple[str, str]] = set()


def clear() -> None:
    _answers.clear()


def _fingerprint(request: web.Request, body: bytes) -> str:
    try:
        params = sorted(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        canonical = repr(params)
    except UnicodeDecodeError:
        canonical = body.hex()
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=status)


def error_response(exc: UserError) -> web.Response:
    if exc.code == 402:
        exc.body["error"]["type"] = "card_error"
    return exc.to_response()


@web.middleware
async def middleware(request: web.Request, handler) -> web.StreamResponse:
    key = request.headers.get(HEADER)
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    if len(key) > 255:
        return _error(400, "Idempotency keys are at most 255 characters long.")
    body = await request.read()
    ident = (request.get("api_key") or "", key)
    fingerprint = _fingerprint(request, body)
    if ident in _in_flight:
        return _error(
            409, "There is currently another in-progress request using this Idempotent Key. Retry later."
        )
    stored = _answers.get(ident)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
            )
        return web.Response(
            body=stored.body,
            status=stored.status,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "Original-Request": "replayed"},
        )
    _in_flight.add(ident)
    try:
        try:
            response = await handler(request)
        except UserError as exc:
            response = error_response(exc)
        if isinstance(response, web.Response) and response.body is not None and response.status != 401:
            _answers[ident] = Stored(fingerprint, response.status, bytes(response.body))
        return response
    finally:
        _in_flight.discard(ident)
