"""Who may pass the gateway: public routes, bearer tokens, suspended accounts.

Tokens are checked with the chassis's :class:`~clikopro_chassis.auth.TokenVerifier` (identity's
JWKS, asymmetric algorithms only, issuer, audience, expiry). Its JWKS client is blocking: the
gateway calls it on the event loop only for a key id it has already verified a token with (the
key is then in the verifier's per-kid cache: pure computation, ~70 us); a token with a key id not
seen yet is verified in a worker thread, where a JWKS fetch cannot stall other requests.

A token verified once is remembered (up to ``CACHE_SIZE`` of them) until its ``exp``: a client
sends the same token for its whole life, and decoding it again costs more than the rest of the
gateway's work (PyJWT checks every base64 character in Python). What a token says cannot change;
what can (a suspension) is checked on every request, apart from this cache.
"""

from __future__ import annotations

import base64
import json
import re
import time

import anyio.to_thread
import jwt

from clikopro_chassis.auth import Principal, TokenVerifier
from clikopro_chassis.errors import Forbidden, Unauthenticated

_ID = r"[^/]+"

#: (methods, path) reachable without a token. Everything else needs one.
PUBLIC_ROUTES: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (frozenset({"POST"}), re.compile(r"^/api/v1/auth/(register|token|refresh|logout)$")),
    (frozenset({"GET", "HEAD"}), re.compile(r"^/\.well-known/jwks\.json$")),
    (frozenset({"GET", "HEAD"}), re.compile(r"^/api/v1/plans$")),
    # The professional directory and what it shows of each professional.
    (frozenset({"GET", "HEAD"}), re.compile(rf"^/api/v1/pros(/{_ID}/(reviews|reputation))?$")),
    (frozenset({"GET", "HEAD"}), re.compile(r"^/api/v1/ranking-criteria$")),
    # Stripe calls them without a token; payments and subscriptions check Stripe's signature.
    (frozenset({"POST"}), re.compile(r"^/api/v1/(payments|subscriptions)/webhooks/stripe$")),
]


def is_public(method: str, path: str) -> bool:
    return any(method in methods and pattern.match(path) for methods, pattern in PUBLIC_ROUTES)


class AccountSuspended(Forbidden):
    code = "account_suspended"
    title = "Account suspended"


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Send an access token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="clikopro"'},
        )
    return token.strip()


CACHE_SIZE = 20_000


def _expiry(token: str) -> float:
    """The ``exp`` of a token already verified (so its payload is known to be valid JSON)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class EdgeAuthenticator:
    def __init__(self, verifier: TokenVerifier, *, cache_size: int = CACHE_SIZE) -> None:
        self.verifier = verifier
        #: Key ids a token was successfully verified with: their key is cached in the verifier.
        self._known_kids: set[str] = set()
        self._verified: dict[str, tuple[Principal, float]] = {}
        self.cache_size = cache_size

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > time.time():
                return cached[0]
            del self._verified[token]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise Unauthenticated("The access token is not valid.") from None
        if isinstance(kid, str) and kid in self._known_kids:
            principal = self.verifier.verify(token)
        else:
            principal = await anyio.to_thread.run_sync(self.verifier.verify, token)
            if isinstance(kid, str):
                self._known_kids.add(kid)
        if len(self._verified) >= self.cache_size:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (principal, _expiry(token))
        return principal
