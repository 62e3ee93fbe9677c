"""Authentication for connexion operations: bearer tokens, and the internal token.

An operation protected in its spec by the ``bearerAuth`` scheme::

    components:
      securitySchemes:
        bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT,
                     x-bearerInfoFunc: clikopro_chassis.web.security.bearer_info}

gets the verified caller from :func:`principal`. connexion resolves the
function by name, so the verifier is configured per process by the app factory.

The ``/internal/...`` routes (read by the gateway, never routed by it) are not
left to network isolation alone: they require the ``internalToken`` scheme, a
shared secret (``INTERNAL_API_TOKEN``) in the ``X-Internal-Token`` header::

        internalToken: {type: apiKey, in: header, name: X-Internal-Token,
                        x-apikeyInfoFunc: clikopro_chassis.web.security.internal_token_info}

A service without the secret configured refuses every internal call.
"""

from __future__ import annotations

import hmac
from typing import Any

from connexion import context

from clikopro_chassis.auth import Principal, TokenVerifier, internal_tokens
from clikopro_chassis.errors import Unauthenticated

_verifier: TokenVerifier | None = None
_internal_tokens: list[bytes] = []


def configure(verifier: TokenVerifier | None) -> None:
    global _verifier
    _verifier = verifier


def configure_internal(setting: str) -> None:
    """The shared secret(s) of the internal routes (``INTERNAL_API_TOKEN``); none closes them."""
    global _internal_tokens
    _internal_tokens = [token.encode() for token in internal_tokens(setting)]


def bearer_info(token: str) -> dict[str, Any]:
    if _verifier is None:
        raise Unauthenticated("This service has no token verifier configured (JWKS_URL).")
    return _verifier.verify(token).claims()


def internal_token_info(token: str, required_scopes: Any = None) -> dict[str, Any]:
    """The caller of an internal route holds a shared secret (each compared in constant time)."""
    if not _internal_tokens:
        raise Unauthenticated("This service has no INTERNAL_API_TOKEN: its internal routes are closed.")
    # A list, not a generator: every secret is compared, so the time does not tell which one matched.
    if not any([hmac.compare_digest(token.encode(), known) for known in _internal_tokens]):
        raise Unauthenticated("Invalid internal token.")
    return {"sub": "internal"}


def principal() -> Principal:
    """The caller of the operation in hand (the operation must require ``bearerAuth``)."""
    claims = context.context.get("token_info")
    if not claims:
        raise Unauthenticated()
    return Principal.from_claims(claims)
