"""The ids that tie one user action together across services.

``correlation_id`` names the originating request and is carried unchanged
through every event it causes; ``causation_id`` names the immediate cause
(the request or the event being handled). Both live in context variables so
that the outbox and the log formatter read them without being passed around.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    """The correlation id in force, or a fresh one for work with no origin (a scheduled job)."""
    return correlation_id_var.get() or request_id_var.get() or new_id()


def current_causation_id() -> str | None:
    return causation_id_var.get() or request_id_var.get()


@contextmanager
def message_context(
    *, correlation_id: str | None, causation_id: str | None, request_id: str | None = None
) -> Iterator[None]:
    """Set the ids for the duration of one request, message or job."""
    tokens = [
        (request_id_var, request_id_var.set(request_id)),
        (correlation_id_var, correlation_id_var.set(correlation_id)),
        (causation_id_var, causation_id_var.set(causation_id)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
