"""Access and refresh tokens (R2).

- The access token is a short-lived JWT (its claims are built here, signed by the key store).
- A refresh token is an opaque random string; only its SHA-256 is stored. Each use spends it and
  gives a new one of the same *family* (one family per sign-in). A spent token presented again
  means it was stolen or replayed: the whole family is revoked, so the thief and the victim both
  have to sign in again (OAuth 2.0 Security BCP, "refresh token rotation").
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from clikopro_chassis.auth import TOKEN_AUDIENCE, TOKEN_ISSUER


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_secret(secret: str) -> str:
    # The secret has 256 bits of entropy: a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class RefreshToken:
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revoked_reason: str | None = None


class RefreshVerdict(enum.Enum):
    USABLE = "usable"
    EXPIRED = "expired"
    REVOKED = "revoked"
    #: Already spent: a replay. The family must be revoked.
    REUSED = "reused"


def refresh_verdict(token: RefreshToken, now: dt.datetime) -> RefreshVerdict:
    """What presenting ``token`` at ``now`` means. Revocation wins over everything; a replay of a
    spent token is a reuse even once it has expired (it still reveals a leak)."""
    if token.revoked_at is not None:
        return RefreshVerdict.REVOKED
    if token.used_at is not None:
        return RefreshVerdict.REUSED
    if token.expires_at <= now:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.USABLE


def access_claims(user_id: uuid.UUID, role: str, *, now: dt.datetime, ttl: dt.timedelta) -> dict[str, Any]:
    issued = int(now.timestamp())
    return {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": str(user_id),
        "role": role,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
