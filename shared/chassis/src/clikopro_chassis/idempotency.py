"""``Idempotency-Key`` on HTTP requests that create something or move money.

The same key and the same request give the same answer, and the effect
happens once, even when two copies race. The key is claimed by inserting a
row **in the same transaction as the effect** (the unit of work does it when
it commits); the second of two racing copies fails on the primary key and
its transaction, effect included, rolls back. Once the handler has answered,
the answer is stored on that row and replayed for later copies.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clikopro_chassis.db import Database
from clikopro_chassis.errors import Conflict, ValidationFailed, field_error
from clikopro_chassis.messaging import idempotency_keys, utcnow


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"
    title = "Idempotency key already used for another request"


class IdempotentRequestInProgress(Conflict):
    title = "A request with this idempotency key is being processed"


class IdempotencyRace(Exception):
    """Another copy of this request claimed the key first; this one's transaction is rolled back.

    Deliberately not an ``IntegrityError``: a use case that maps its own
    integrity errors (a duplicate email, say) must not mistake this for one.
    """


@dataclass
class IdempotentRequest:
    scope: str
    key: str
    fingerprint: str
    claimed: bool = False


current_request: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int | None
    body: str | None
    fingerprint: str


def lookup(database: Database, scope: str, key: str) -> StoredAnswer | None:
    with database.session() as session:
        row = session.execute(
            select(
                idempotency_keys.c.status_code,
                idempotency_keys.c.response_body,
                idempotency_keys.c.fingerprint,
            ).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        ).first()
    return StoredAnswer(row.status_code, row.response_body, row.fingerprint) if row else None


def claim_in(session: Session) -> None:
    """Called by the unit of work before it commits: claim the key with the effect."""
    request = current_request.get()
    if request is None or request.claimed:
        return
    try:
        with session.begin_nested():
            session.execute(
                insert(idempotency_keys).values(
                    scope=request.scope, key=request.key, fingerprint=request.fingerprint, created_at=utcnow()
                )
            )
    except IntegrityError:
        session.rollback()
        raise IdempotencyRace(request.key) from None
    request.claimed = True


def store_answer(database: Database, request: IdempotentRequest, status_code: int, body: str) -> None:
    with database.session() as session, session.begin():
        session.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == request.scope, idempotency_keys.c.key == request.key)
            .values(status_code=status_code, response_body=body, completed_at=utcnow())
        )


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed(
            errors=[field_error("Idempotency-Key", "must be 1 to 255 printable characters")]
        )
