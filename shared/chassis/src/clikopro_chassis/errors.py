"""Errors that answer as ``application/problem+json`` (RFC 9457) with a stable ``code``.

Services raise these (or subclasses) from their use cases; the app factory
turns them into responses. The ``code`` is what clients program against
(API.md, "Conventions"); ``title`` and ``detail`` are for people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://docs.clikopro.fr/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ValidationFailed(AppError):
    """Field-level errors: ``errors=[{"field": ..., "message": ...}]``."""

    status = 422
    code = "validation_error"
    title = "Invalid data"


class RequestShapeInvalid(AppError):
    """The request does not have the shape the API describes (schema, formats, NUL characters):
    400, with every field's error, before any handler runs."""

    status = 400
    code = "validation_error"
    title = "Invalid request"


class MalformedBody(AppError):
    status = 400
    code = "malformed_body"
    title = "Malformed request body"


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


#: Codes for statuses raised by the framework itself (routing, parameter checks).
CODE_BY_STATUS = {
    400: "validation_error",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}
