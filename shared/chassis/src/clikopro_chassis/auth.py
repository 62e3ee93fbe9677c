"""Who is calling: access tokens issued by identity, verified by every service.

Identity signs short-lived access tokens (JWT, RS256 or EdDSA) and publishes
its public keys as a JWKS. The gateway verifies them at the edge, and every
service verifies them again with the same JWKS: a service never trusts an
identity a client could forge, even if a request reaches it without the
gateway. Keys are cached and refetched when a token names an unknown key id,
so identity can rotate keys without logging anyone out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from clikopro_chassis.errors import Unauthenticated

TOKEN_ISSUER = "clikopro-identity"
TOKEN_AUDIENCE = "clikopro-api"
#: Asymmetric algorithms only: "none" and HMAC (which a public key would forge) are refused.
ALGORITHMS = ("RS256", "EdDSA")
ROLES = ("client", "pro", "moderator", "admin")
#: Header carrying the shared secret of the services' internal routes (see ``web.security``).
INTERNAL_TOKEN_HEADER = "X-Internal-Token"


def internal_tokens(setting: str) -> list[str]:
    """``INTERNAL_API_TOKEN`` may list several secrets, comma-separated, while one replaces another:
    services accept each of them, callers present the first."""
    return [token.strip() for token in setting.split(",") if token.strip()]


def internal_headers(setting: str) -> dict[str, str]:
    """Headers of a call to another service's internal route (none without a secret: refused there)."""
    tokens = internal_tokens(setting)
    return {INTERNAL_TOKEN_HEADER: tokens[0]} if tokens else {}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: str
    token_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in {"moderator", "admin"}

    def claims(self) -> dict[str, Any]:
        """The form connexion passes around as ``token_info``."""
        return {"sub": str(self.user_id), "role": self.role, "jti": self.token_id}

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        try:
            user_id = uuid.UUID(str(claims["sub"]))
            role = str(claims["role"])
        except (KeyError, ValueError):
            raise Unauthenticated("The access token does not name a user.") from None
        if role not in ROLES:
            raise Unauthenticated("The access token names an unknown role.")
        return cls(user_id=user_id, role=role, token_id=claims.get("jti"))


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        audience: str = TOKEN_AUDIENCE,
        leeway: float = 5.0,
        refresh_cooldown: float = 30.0,
        keys_lifespan: float = 300.0,
    ) -> None:
        self.jwks_url = jwks_url
        self.audience = audience
        self.leeway = leeway
        # An unknown key id refetches the JWKS at most this often, so that
        # tokens with made-up key ids cannot make us hammer identity.
        self.refresh_cooldown = refresh_cooldown
        self.keys_lifespan = keys_lifespan
        self._jwks: jwt.PyJWKClient | None = None

    @property
    def jwks(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            # The key set is cached (5 minutes by default) and refetched at once for an unknown key id.
            # Keys are looked up in that set each time (no per-kid cache): a key identity
            # withdraws (compromised) stops verifying within the lifespan.
            self._jwks = jwt.PyJWKClient(
                self.jwks_url,
                cache_keys=False,
                lifespan=self.keys_lifespan,
                timeout=5,
                cooldown_duration=self.refresh_cooldown,
            )
        return self._jwks

    def verify(self, token: str) -> Principal:
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=TOKEN_ISSUER,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The access token has expired.") from None
        except jwt.PyJWKClientConnectionError:
            raise Unauthenticated("The signing keys cannot be fetched right now.") from None
        except jwt.PyJWTError:  # forged, malformed, unknown key, unusable key set...
            raise Unauthenticated("The access token is not valid.") from None
        return Principal.from_claims(claims)
